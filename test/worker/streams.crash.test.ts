/**
 * A worker SIGKILLed in the middle of a step that streams its output, on PostgreSQL. Worker A runs
 * the step, which emits a chunk every 25 ms; this process, which runs no steps, follows the stream
 * live (LISTEN/NOTIFY from A's commits). A is killed after some chunks; worker B (a standby, code
 * loaded) joins, takes the run over once A's lease expires and runs the step again as attempt 2.
 * The live reader must get every stored chunk once, in seq order, attempt 1's then attempt 2's,
 * and complete when the step ends; a reader that resumes after the last seq it saw before the kill
 * (SSE with Last-Event-ID) must get exactly the chunks after it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStore, type StreamChunkView, WorkflowExecutor } from '../../src/index.js';
import { createApp } from '../../src/server/index.js';
import { createTestDatabase } from '../support/embeddedPostgres.js';
import {
  CHUNKS_PER_ATTEMPT,
  type StreamsWorker,
  type StreamsWorkerConfig,
  startStreamsWorker,
  streamer,
} from './streams.harness.js';

/** Chunks attempt 1 writes before A is killed (at least: it may commit one more meanwhile). */
const BEFORE_KILL = 10;

let db: { url: string; drop(): Promise<void> } | undefined;
let client: WorkflowExecutor | undefined;
const workers: StreamsWorker[] = [];

afterAll(async () => {
  for (const w of workers) w.child.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.exited));
  await client?.cleanup().catch(() => {});
  await db?.drop().catch(() => {});
});

type Chunk = StreamChunkView<{ attempt: number; i: number }>;

describe('step output streams survive a SIGKILLed worker (PostgreSQL)', () => {
  it('a live reader gets every chunk once, in order, across the takeover; a resumed reader starts at the right seq', async () => {
    db = await createTestDatabase();
    client = new WorkflowExecutor({
      store: new PostgresStore({ connectionString: db.url, poolSize: 4 }),
      worker: false,
    });
    await client.open(); // migrates
    const config: Omit<StreamsWorkerConfig, 'standby'> = { url: db.url, leaseMs: 1_000, heartbeatMs: 250, pollMs: 250 };
    const a = startStreamsWorker({ ...config, standby: false });
    const b = startStreamsWorker({ ...config, standby: true });
    workers.push(a, b);
    await a.ready;

    const handle = await client.start(streamer, {});
    const live: Chunk[] = [];
    let killed: (() => void) | undefined;
    const killAt = new Promise<void>((resolve) => {
      killed = resolve;
    });
    const reading = (async () => {
      for await (const chunk of client!.stream(handle.runId, { step: 'write' }) as AsyncIterable<Chunk>) {
        live.push(chunk);
        if (live.length === BEFORE_KILL) killed?.();
      }
    })();
    await killAt;
    a.child.kill('SIGKILL');
    await a.exited;
    const lastSeenBeforeTakeover = live.at(-1)!.seq;
    b.activate();
    await b.ready;

    const result = await Promise.race([
      handle.result(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`not finished: ${b.stderr()}`)), 30_000)),
    ]);
    expect(result.success).toBe(true);
    expect(result.output).toEqual({ attempt: 2 });
    await reading;

    const stored = await client.chunks(handle.runId, { step: 'write', limit: 10_000 });
    const firstAttempt = stored.filter((c) => c.attempt === 1);
    const secondAttempt = stored.filter((c) => c.attempt === 2);
    expect(firstAttempt.length).toBeGreaterThanOrEqual(BEFORE_KILL);
    expect(firstAttempt.length).toBeLessThan(CHUNKS_PER_ATTEMPT);
    // Attempt 1's chunks are those A committed before it died, in order; attempt 2 wrote all of its own.
    expect(firstAttempt.map((c) => c.data)).toEqual(firstAttempt.map((_, i) => ({ attempt: 1, i })));
    expect(secondAttempt.map((c) => c.data)).toEqual(
      Array.from({ length: CHUNKS_PER_ATTEMPT }, (_, i) => ({ attempt: 2, i })),
    );
    // The live reader got exactly what is stored: once each, in seq order, across the takeover.
    expect(live.map((c) => c.seq)).toEqual(stored.map((c) => c.seq));
    expect(live.map((c) => [c.attempt, c.data])).toEqual(stored.map((c) => [c.attempt, c.data]));

    // A reader that comes back after the takeover with the last seq it saw gets the rest, exactly.
    const app = createApp(client, { dashboardDir: null });
    const res = await app.request(`/api/runs/${handle.runId}/steps/write/stream`, {
      headers: { 'Last-Event-ID': String(lastSeenBeforeTakeover) },
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    const resumedSeqs = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(resumedSeqs).toEqual(stored.filter((c) => c.seq > lastSeenBeforeTakeover).map((c) => c.seq));
    expect(text).toContain('event: end');
  }, 60_000);
});
