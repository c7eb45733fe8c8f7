import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore, WorkflowExecutor, workflow } from '../../src/index.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { type SseMessage, sleep, sseReader } from './helpers.js';

const slowChild = workflow('slow-child')
  .step('work', async () => {
    await sleep(10);
    return 1;
  })
  .step('finish', { parents: ['work'] }, () => 2);

const pipeline = workflow('pipeline')
  .step('one', async () => {
    await sleep(10);
    return 1;
  })
  .step('two', { parents: ['one'] }, async () => {
    await sleep(10);
    return 2;
  })
  .step('fan', { parents: ['two'] }, async (ctx) => {
    const doubled = await ctx.join([1, 2, 3].map((i) => ctx.spawnWorkflow(slowChild, { i })));
    return doubled.length;
  })
  .step('three', { parents: ['fan'] }, async () => {
    await sleep(10);
    return 3;
  });

const noise = workflow('noise').step('tick', async () => {
  await sleep(5);
  return 0;
});

describe('a real server over HTTP', () => {
  let server: RunningServer | undefined;
  let executor: WorkflowExecutor | undefined;
  afterEach(async () => {
    await server?.close();
    await executor?.cleanup();
  });

  it('resumes an event stream after a disconnect with Last-Event-ID: no gap, no duplicate', async () => {
    executor = new WorkflowExecutor({ store: new MemoryStore(), workflows: [pipeline, slowChild, noise] });
    server = await startServer(executor, { token: '' });
    const url = server.url;

    const started = await fetch(`${url}/api/workflows/pipeline/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: {} }),
    });
    expect(started.status).toBe(201);
    const { runId } = (await started.json()) as { runId: string };
    const noiseRuns = Array.from({ length: 5 }, () => executor!.execute(noise, {}));

    // First connection: from the start of the run, cut after a few events.
    const firstAbort = new AbortController();
    const first = await fetch(`${url}/api/events?runId=${runId}&after=0`, { signal: firstAbort.signal });
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toContain('text/event-stream');
    const firstReader = sseReader(first.body!);
    const received: SseMessage[] = [];
    while (received.length < 4) received.push((await firstReader.next())!);
    firstAbort.abort();
    await firstReader.cancel().catch(() => {});
    const lastId = received.at(-1)!.id!;

    // While disconnected, the run goes on.
    await sleep(40);
    const missed = (await executor.store.listEvents({ afterSeq: Number(lastId) })).length;
    expect(missed).toBeGreaterThan(0);

    // Second connection resumes where the first stopped.
    const secondAbort = new AbortController();
    const second = await fetch(`${url}/api/events?runId=${runId}`, {
      headers: { 'Last-Event-ID': lastId },
      signal: secondAbort.signal,
    });
    const secondReader = sseReader(second.body!);
    for (;;) {
      const message = await secondReader.next();
      if (!message) throw new Error('the stream ended before the run did');
      received.push(message);
      if (message.event === 'run_succeeded' && message.data.runId === runId) break;
    }
    secondAbort.abort();
    await secondReader.cancel().catch(() => {});
    await Promise.all(noiseRuns);

    const seqs = received.map((m) => Number(m.id));
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]!).toBeGreaterThan(seqs[i - 1]!);
    expect(received.every((m) => Number(m.id) === m.data.seq)).toBe(true);

    // Exactly the tree's events, all of them: the run and its three children, no noise.
    const childIds = (await executor.store.listRuns({ parentRunId: runId })).runs.map((r) => r.id);
    expect(childIds).toHaveLength(3);
    const tree = new Set([runId, ...childIds]);
    const expected = (await executor.store.listEvents({ limit: 100_000 }))
      .filter((e) => tree.has(e.runId) && e.seq! <= seqs.at(-1)!)
      .map((e) => e.seq);
    expect(seqs).toEqual(expected);
    expect(new Set(received.map((m) => m.data.runId))).toEqual(tree);
  });

  it('closes with event streams still open', async () => {
    executor = new WorkflowExecutor({ store: new MemoryStore() });
    server = await startServer(executor);
    const res = await fetch(`${server.url}/api/events`);
    const reader = sseReader(res.body!);
    await reader.nextComment();
    const closing = server.close();
    server = undefined;
    await closing;
    // The stream is over: ended or cut, either way no more messages.
    const after = await reader.next().catch(() => undefined);
    expect(after).toBeUndefined();
  });
});
