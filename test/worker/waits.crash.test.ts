/**
 * A worker SIGKILLed while its runs sleep and wait, on PostgreSQL: worker process A holds runs
 * sleeping briefly (in its memory), runs that sleep longer (handed back asleep) and runs waiting for
 * events; it is killed, and worker B (a standby, code loaded) joins. Events are sent (twice each,
 * with one idempotency key) by this process, which runs no steps. Every run must finish once, with
 * its event or after its sleep, woken within 2 s of its due time; no event is delivered twice and no
 * finished sleep is slept again.
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStore, WorkflowExecutor } from '../../src/index.js';
import { createTestDatabase } from '../support/embeddedPostgres.js';
import {
  CREATE_EFFECTS_TABLE,
  EFFECTS_TABLE,
  startWaitsWorker,
  type WaitsWorker,
  type WaitsWorkerConfig,
  waitsWorkflows,
} from './waits.harness.js';

const SHORT_SLEEPERS = 6;
/** Under the engine's 1 s eviction threshold: these stay in A's memory while they sleep. */
const SHORT_MS = 900;
const LONG_SLEEPERS = 6;
/** Over it: handed back asleep, woken by whichever worker's timer. */
const LONG_MS = 2_500;
const WAITERS = 6;
/** Events for these waiters are sent before the kill; the others after it. */
const EARLY_EVENTS = 2;
const ON_TIME_MS = 2_000;

let db: { url: string; drop(): Promise<void> } | undefined;
let client: WorkflowExecutor | undefined;
const workers: WaitsWorker[] = [];

afterAll(async () => {
  for (const w of workers) w.child.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.exited));
  await client?.cleanup().catch(() => {});
  await db?.drop().catch(() => {});
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('durable waits survive a SIGKILLed worker (PostgreSQL)', () => {
  it('every run wakes once, on time, with its event; no event delivered twice, no sleep slept again', async () => {
    db = await createTestDatabase();
    const admin = new pg.Pool({ connectionString: db.url, max: 2 });
    try {
      const store = new PostgresStore({ connectionString: db.url, poolSize: 4 });
      client = new WorkflowExecutor({ store, worker: false });
      await client.open(); // migrates
      await admin.query(CREATE_EFFECTS_TABLE);
      const config: Omit<WaitsWorkerConfig, 'standby'> = { url: db.url, leaseMs: 1_000, heartbeatMs: 250, pollMs: 250 };
      const a = startWaitsWorker({ ...config, standby: false });
      const b = startWaitsWorker({ ...config, standby: true });
      workers.push(a, b);
      const aId = await a.ready;

      const { sleeper, waiter } = waitsWorkflows(async () => {
        throw new Error('steps run on the workers only');
      });
      const longRuns = await Promise.all(
        Array.from({ length: LONG_SLEEPERS }, () => client!.start(sleeper, { ms: LONG_MS })),
      );
      const waiterRuns = await Promise.all(
        Array.from({ length: WAITERS }, (_, i) => client!.start(waiter, { key: `k-${i}` })),
      );
      const send = (i: number) =>
        client!.sendEvent('wake.up', { n: i }, { key: `k-${i}`, idempotencyKey: `wake-${i}` });
      for (let i = 0; i < EARLY_EVENTS; i++) await send(i);
      const registered = async (runIds: string[]) => {
        for (;;) {
          const { rows } = await admin.query<{ n: number }>(
            'SELECT count(DISTINCT run_id)::int AS n FROM braid.waits WHERE run_id = ANY($1)',
            [runIds],
          );
          if (rows[0]!.n === runIds.length) return;
          await sleep(10);
        }
      };
      await registered([...longRuns, ...waiterRuns].map((r) => r.runId));
      // The waiters whose events came early are done: the kill lands on runs that wait, not on a
      // step running past its wait (that one would run again: at-least-once, as for any step).
      await Promise.all(waiterRuns.slice(0, EARLY_EVENTS).map((r) => r.result()));
      // Last, the short sleepers, so that they still sleep when A dies.
      const shortRuns = await Promise.all(
        Array.from({ length: SHORT_SLEEPERS }, () => client!.start(sleeper, { ms: SHORT_MS })),
      );
      await registered(shortRuns.map((r) => r.runId));
      const ids = [...shortRuns, ...longRuns, ...waiterRuns].map((r) => r.runId);
      const held = await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM braid.runs WHERE owner_id = $1', [
        aId,
      ]);
      // The short sleepers at least are in A's memory when it dies.
      expect(held.rows[0]!.n).toBeGreaterThanOrEqual(SHORT_SLEEPERS);
      a.child.kill('SIGKILL');
      await a.exited;
      b.activate();
      await b.ready;
      const sentAt = new Map<number, number>();
      for (let i = EARLY_EVENTS; i < WAITERS; i++) {
        sentAt.set(i, Date.now());
        const first = await send(i);
        const again = await send(i);
        expect(first.duplicate).toBe(false);
        expect(again).toMatchObject({ duplicate: true, delivered: 0 });
      }

      const results = await Promise.all(
        [...shortRuns, ...longRuns, ...waiterRuns].map((r) =>
          Promise.race([r.result(), sleep(20_000).then(() => ({ status: `unfinished ${r.runId}` }))]),
        ),
      );
      expect(results.map((r) => r.status)).toEqual(ids.map(() => 'succeeded'));
      waiterRuns.forEach((_, i) => {
        expect((results[SHORT_SLEEPERS + LONG_SLEEPERS + i] as { output: unknown }).output).toEqual({ n: i });
      });

      // One wake-up per run: one side effect each, and each run's one wait settled once.
      const effects = await admin.query<{ run_id: string; at: string; pid: number }>(
        `SELECT run_id, at, pid FROM ${EFFECTS_TABLE}`,
      );
      const effectsOf = new Map<string, number[]>();
      for (const e of effects.rows) effectsOf.set(e.run_id, [...(effectsOf.get(e.run_id) ?? []), Number(e.at)]);
      expect(ids.map((id) => effectsOf.get(id)?.length ?? 0)).toEqual(ids.map(() => 1));
      const waits = await admin.query<{ run_id: string; kind: string; status: string; due_at: string | null }>(
        'SELECT run_id, kind, status, due_at FROM braid.waits',
      );
      expect(waits.rows.length).toBe(ids.length);
      expect(new Set(waits.rows.map((w) => w.status))).toEqual(new Set(['resolved']));
      // On time: a sleep after its due time (not slept again from zero), within 2 s of it.
      for (const w of waits.rows.filter((x) => x.kind === 'sleep')) {
        const late = (effectsOf.get(w.run_id)?.[0] ?? 0) - Number(w.due_at);
        expect(late, `run ${w.run_id} woke ${late} ms after its due time`).toBeGreaterThanOrEqual(0);
        expect(late, `run ${w.run_id} woke ${late} ms after its due time`).toBeLessThan(ON_TIME_MS);
      }
      waiterRuns.forEach((r, i) => {
        const sent = sentAt.get(i);
        if (sent === undefined) return;
        const late = (effectsOf.get(r.runId)?.[0] ?? 0) - sent;
        expect(late, `waiter ${i} got its event ${late} ms after it was sent`).toBeLessThan(ON_TIME_MS);
      });
      // Each event recorded once, however often sent.
      const inbox = await admin.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM braid.inbox WHERE name = 'wake.up'`,
      );
      expect(inbox.rows[0]!.n).toBe(WAITERS);
      const owned = await admin.query('SELECT id FROM braid.runs WHERE owner_id IS NOT NULL');
      expect(owned.rows).toEqual([]);
    } finally {
      await admin.end();
    }
  });
});
