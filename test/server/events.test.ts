import { describe, expect, it } from 'vitest';
import { workflow } from '../../src/index.js';
import { errorOf, type SseMessage, serverFixture, sseReader, until } from './helpers.js';
import { child, fanOut, order } from './workflows.fixtures.js';

const fixture = serverFixture();

async function openStream(
  app: { request: (path: string, init?: RequestInit) => Response | Promise<Response> },
  path: string,
  headers: Record<string, string> = {},
) {
  const res = await app.request(path, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  return sseReader(res.body!);
}

/** Reads messages until `stop` says so; fails the test when the stream ends first. */
async function readUntil(
  reader: ReturnType<typeof sseReader>,
  stop: (message: SseMessage, all: SseMessage[]) => boolean,
): Promise<SseMessage[]> {
  const all: SseMessage[] = [];
  for (;;) {
    const message = await reader.next();
    if (!message) throw new Error(`the stream ended after ${all.length} messages`);
    all.push(message);
    if (stop(message, all)) return all;
  }
}

describe('GET /api/events', () => {
  it('streams every committed transition with id = seq, event = type and the event as data', async () => {
    const { app, api, executor } = fixture.setup({ workflows: [order] });
    const stream = await openStream(app, '/api/events');
    const { runId } = (await api.post('/api/workflows/order/runs', { input: { id: 'A', qty: 1 } })).body;
    const messages = await readUntil(stream, (m) => m.event === 'run_succeeded');
    await stream.cancel();
    const stored = await executor.store.listEvents({ runId });
    expect(messages.map((m) => m.event)).toEqual(stored.map((e) => e.type));
    expect(messages.map((m) => Number(m.id))).toEqual(stored.map((e) => e.seq));
    expect(messages[1]!.data).toEqual({
      seq: stored[1]!.seq,
      runId,
      step: 'fetch',
      type: 'step_started',
      at: stored[1]!.at,
      attempt: 1,
      data: null,
    });
  });

  it('with ?runId, streams that run and its descendants only', async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const gatedParent = workflow('gated-parent')
      .step('wait', () => released)
      .step('spawn', { parents: ['wait'] }, async (ctx) =>
        ctx.join([1, 2, 3].map((i) => ctx.spawnWorkflow(child, { i }))),
      );
    const { app, executor } = fixture.setup({ workflows: [gatedParent, child, order] });
    const handle = await executor.start(gatedParent, {});
    const stream = await openStream(app, `/api/events?runId=${handle.runId}`);
    const unrelated = await executor.execute(order, { id: 'other', qty: 1 });
    release();
    const messages = await readUntil(stream, (m) => m.event === 'run_succeeded' && m.data.runId === handle.runId);
    await stream.cancel();

    const children = (await executor.store.listRuns({ parentRunId: handle.runId })).runs.map((r) => r.id);
    expect(children).toHaveLength(3);
    const runIds = new Set(messages.map((m) => m.data.runId));
    expect(runIds).toEqual(new Set([handle.runId, ...children]));
    expect(runIds.has(unrelated.runId)).toBe(false);
    for (const id of children) {
      const types = messages.filter((m) => m.data.runId === id).map((m) => m.event);
      expect(types).toEqual(['run_started', 'step_started', 'step_succeeded', 'run_succeeded']);
    }
    const seqs = messages.map((m) => Number(m.id));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  it('replays from the store with ?after, then goes on live', async () => {
    const { app, executor } = fixture.setup({ workflows: [order] });
    const first = await executor.execute(order, { id: 'A', qty: 1 });
    const firstEvents = await executor.store.listEvents({ runId: first.runId });
    const stream = await openStream(app, `/api/events?runId=${first.runId}&after=${firstEvents[1]!.seq}`);
    const replayed = await readUntil(stream, (_, all) => all.length === firstEvents.length - 2);
    expect(replayed.map((m) => Number(m.id))).toEqual(firstEvents.slice(2).map((e) => e.seq));

    const all = await openStream(app, '/api/events?after=0');
    const history = await readUntil(all, (_, msgs) => msgs.length === firstEvents.length);
    expect(history.map((m) => m.event)).toEqual(firstEvents.map((e) => e.type));
    const second = await executor.start(order, { id: 'B', qty: 1 });
    const live = await readUntil(all, (m) => m.event === 'run_succeeded');
    expect(new Set(live.map((m) => m.data.runId))).toEqual(new Set([second.runId]));
    await stream.cancel();
    await all.cancel();
  });

  it('resumes after Last-Event-ID, which wins over ?after', async () => {
    const { app, executor } = fixture.setup({ workflows: [order] });
    const run = await executor.execute(order, { id: 'A', qty: 1 });
    const events = await executor.store.listEvents({ runId: run.runId });
    const lastSeen = events.at(-2)!.seq!;
    const stream = await openStream(app, `/api/events?runId=${run.runId}&after=0`, {
      'Last-Event-ID': String(lastSeen),
    });
    const [next] = await readUntil(stream, () => true);
    expect(Number(next!.id)).toBe(events.at(-1)!.seq);
    expect(next!.event).toBe('run_succeeded');
    await stream.cancel();
  });

  it('misses nothing and repeats nothing when it connects while events are being committed', async () => {
    const busy = workflow('busy')
      .step('a', () => 1)
      .step('b', { parents: ['a'] }, () => 2)
      .step('c', { parents: ['b'] }, () => 3);
    const { app, executor } = fixture.setup({ workflows: [busy] });
    const running = Array.from({ length: 200 }, () => executor.execute(busy, {}));
    await new Promise((r) => setTimeout(r, 5)); // some committed, most not yet
    const stream = await openStream(app, '/api/events?after=0');
    await Promise.all(running);
    const total = (await executor.store.listEvents({ limit: 100_000 })).length;
    expect(total).toBe(200 * 8);
    const messages = await readUntil(stream, (_, all) => all.length === total);
    await stream.cancel();
    expect(messages.map((m) => Number(m.id))).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  });

  it('sends a heartbeat comment while idle', async () => {
    const { app } = fixture.setup({}, { heartbeatMs: 10 });
    const stream = await openStream(app, '/api/events');
    await stream.nextComment(); // ': connected'
    const before = stream.comments;
    await stream.nextComment();
    await stream.nextComment();
    expect(stream.comments).toBeGreaterThanOrEqual(before + 2);
    await stream.cancel();
  });

  it('stops listening to the executor when the client goes away', async () => {
    const { app, executor } = fixture.setup({ workflows: [order] });
    let listeners = 0;
    const original = executor.onEvents.bind(executor);
    executor.onEvents = (listener) => {
      listeners++;
      const off = original(listener);
      return () => {
        listeners--;
        off();
      };
    };
    const stream = await openStream(app, '/api/events');
    await stream.nextComment();
    expect(listeners).toBe(1);
    await stream.cancel();
    await until(() => listeners === 0);
  });

  it('answers 404 for an unknown runId and 400 for a bad Last-Event-ID', async () => {
    const { api, app } = fixture.setup();
    expect((await api.get('/api/events?runId=nope')).status).toBe(404);
    const bad = await app.request('/api/events', { headers: { 'Last-Event-ID': 'abc' } });
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).issues?.[0]?.path).toEqual(['last-event-id']);
    expect((await api.get('/api/events?after=-1')).status).toBe(400);
  });

  it('filters a fan-out tree seeded from the store when reconnecting after the children exist', async () => {
    const { app, executor } = fixture.setup({ workflows: [fanOut, child, order] });
    const result = await executor.execute(fanOut, { n: 5 });
    await executor.execute(order, { id: 'noise', qty: 1 });
    const childIds = new Set((await executor.store.listRuns({ parentRunId: result.runId })).runs.map((r) => r.id));
    const expected = (await executor.store.listEvents({})).filter(
      (e) => e.runId === result.runId || childIds.has(e.runId),
    );
    const stream = await openStream(app, `/api/events?runId=${result.runId}&after=0`);
    const messages = await readUntil(stream, (_, all) => all.length === expected.length);
    await stream.cancel();
    expect(messages.map((m) => Number(m.id))).toEqual(expected.map((e) => e.seq));
  });
});
