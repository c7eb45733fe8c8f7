import { describe, expect, it } from 'vitest';
import { workflow } from '../../src/index.js';
import { type ApiResponse, serverFixture, sleep } from './helpers.js';
import { child, fanOut, order } from './workflows.fixtures.js';

const fixture = serverFixture();

describe('GET /api/runs', () => {
  it('lists runs newest first with parsed payloads and epoch-ms times', async () => {
    const { api, executor } = fixture.setup({ workflows: [order] });
    const first = await executor.execute(order, { id: 'A', qty: 1 });
    await sleep(2);
    const second = await executor.execute(order, { id: 'B', qty: 2 });
    const res = await api.get('/api/runs');
    expect(res.status).toBe(200);
    expect(res.body.nextCursor).toBeNull();
    expect(res.body.runs.map((r: { id: string }) => r.id)).toEqual([second.runId, first.runId]);
    const run = res.body.runs[0];
    expect(run).toMatchObject({
      workflow: 'order',
      status: 'succeeded',
      input: { id: 'B', qty: 2 },
      output: 8,
      error: null,
    });
    expect(typeof run.createdAt).toBe('number');
    expect(run.durationMs).toBe(run.finishedAt - run.startedAt);
  });

  it('lists only top-level runs with topLevel=true', async () => {
    const { api, executor } = fixture.setup({ workflows: [fanOut, child] });
    const parent = await executor.execute(fanOut, { n: 3 });
    const all = await api.get('/api/runs');
    expect(all.body.runs).toHaveLength(4);
    const top = await api.get('/api/runs?topLevel=true');
    expect(top.body.runs.map((r: { id: string }) => r.id)).toEqual([parent.runId]);
    expect((await api.get('/api/runs?topLevel=maybe')).status).toBe(400);
  });

  it('filters by workflow, status (one or a comma list) and time, in ISO or epoch ms', async () => {
    const failing = workflow('failing').step('boom', () => {
      throw new Error('boom');
    });
    const { api, executor } = fixture.setup({ workflows: [order, failing] });
    const ok = await executor.execute(order, { id: 'A', qty: 1 });
    const bad = await executor.execute(failing, {});
    const ids = (res: { body: { runs: Array<{ id: string }> } }) => res.body.runs.map((r) => r.id).sort();

    expect(ids(await api.get('/api/runs?workflow=failing'))).toEqual([bad.runId]);
    expect(ids(await api.get('/api/runs?status=failed'))).toEqual([bad.runId]);
    expect(ids(await api.get('/api/runs?status=failed,succeeded'))).toEqual([ok.runId, bad.runId].sort());
    expect(ids(await api.get('/api/runs?status=failed&status=succeeded'))).toEqual([ok.runId, bad.runId].sort());
    const failed = (await api.get(`/api/runs?workflow=failing`)).body.runs[0];
    expect(failed.error).toMatchObject({ code: 'step_failed', message: expect.stringContaining('boom') });

    const future = Date.now() + 60_000;
    expect(ids(await api.get(`/api/runs?since=${future}`))).toEqual([]);
    expect(ids(await api.get(`/api/runs?until=${new Date(future).toISOString()}`))).toHaveLength(2);
    expect(ids(await api.get('/api/runs?since=2000-01-01T00:00:00Z'))).toHaveLength(2);
  });

  it('pages with limit and cursor without gaps or duplicates', async () => {
    const { api, executor } = fixture.setup({ workflows: [order] });
    for (let i = 0; i < 7; i++) await executor.execute(order, { id: `R${i}`, qty: 1 });
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { body: { runs: Array<{ id: string }>; nextCursor: string | null } } = await api.get(
        `/api/runs?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      seen.push(...res.body.runs.map((r) => r.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(7);
  });

  it('answers 400 naming the parameter for a bad status, time, limit or cursor', async () => {
    const { api } = fixture.setup();
    for (const [query, field] of [
      ['status=done', 'status'],
      ['since=yesterday', 'since'],
      ['limit=0', 'limit'],
      ['limit=abc', 'limit'],
      ['cursor=garbage', 'cursor'],
    ]) {
      const res = await api.get(`/api/runs?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.error.issues[0].path, query).toEqual([field]);
    }
  });
});

describe('GET /api/runs/:id', () => {
  it('returns the run, its steps, events, attempts, children counts and parent link', async () => {
    let calls = 0;
    const flaky = workflow('flaky')
      .step('first', () => 1)
      .step('second', { parents: ['first'], retries: 1, backoff: { initialMs: 1 } }, () => {
        if (++calls === 1) throw new Error('503 from upstream');
        return 2;
      })
      .step('third', { parents: ['second'], when: () => false }, () => 3);
    const { api, executor } = fixture.setup({ workflows: [flaky] });
    const result = await executor.execute(flaky, {});
    const res = await api.get(`/api/runs/${result.runId}`);
    expect(res.status).toBe(200);
    const { run, steps, events, attempts, children, parent, replayOf } = res.body;
    expect(run).toMatchObject({ id: result.runId, status: 'succeeded', error: null });
    expect(steps.map((s: { name: string; status: string }) => [s.name, s.status])).toEqual([
      ['first', 'succeeded'],
      ['second', 'succeeded'],
      ['third', 'skipped'],
    ]);
    expect(steps[1]).toMatchObject({
      parents: ['first'],
      attempts: 2,
      cacheHit: false,
      fallbackUsed: false,
      output: 2,
    });
    expect(events.map((e: { type: string }) => e.type)).toEqual(
      (await executor.store.listEvents({ runId: result.runId })).map((e) => e.type),
    );
    expect(events[0]).toMatchObject({ runId: result.runId, type: 'run_started', seq: expect.any(Number) });
    const second = attempts.filter((a: { step: string }) => a.step === 'second');
    expect(second).toHaveLength(2);
    expect(second[0]).toMatchObject({ attempt: 1, outcome: 'failed', willRetry: true });
    expect(second[0].error).toMatchObject({ message: '503 from upstream', stack: expect.stringContaining('Error') });
    expect(second[1]).toMatchObject({ attempt: 2, outcome: 'succeeded', willRetry: false, error: null });
    expect(second[1].durationMs).toBe(second[1].finishedAt - second[1].startedAt);
    expect(children).toEqual({ total: 0, counts: {} });
    expect(parent).toBeNull();
    expect(replayOf).toBeNull();
  });

  it('shows steps not reached yet as pending, with their parents', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const wf = workflow('two')
      .step('a', () => gate)
      .step('b', { parents: ['a'] }, () => 1);
    const { api, executor } = fixture.setup({ workflows: [wf] });
    const handle = await executor.start(wf, {});
    const res = await api.get(`/api/runs/${handle.runId}`);
    expect(res.body.steps).toMatchObject([
      { name: 'a', status: 'running', parents: [] },
      { name: 'b', status: 'pending', parents: ['a'], attempts: 0 },
    ]);
    expect(res.body.attempts).toMatchObject([{ step: 'a', outcome: 'running', finishedAt: null }]);
    release();
    await handle.result();
  });

  it("links a child to its parent and counts a parent's children", async () => {
    const { api, executor } = fixture.setup({ workflows: [fanOut, child] });
    const result = await executor.execute(fanOut, { n: 3 });
    const parentView = await api.get(`/api/runs/${result.runId}`);
    expect(parentView.body.children).toEqual({ total: 3, counts: { succeeded: 3 } });
    const [firstChild] = (await executor.store.listRuns({ parentRunId: result.runId })).runs;
    const childView = await api.get(`/api/runs/${firstChild!.id}`);
    expect(childView.body.parent).toEqual({ runId: result.runId, step: 'spawn' });
    expect(childView.body.run.rootRunId).toBe(result.runId);
  });

  it('answers 404 with a JSON error for an unknown id', async () => {
    const { api } = fixture.setup();
    const res = await api.get('/api/runs/no-such-run');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: 'run_not_found', message: expect.stringContaining('no-such-run') } });
  });
});

describe('GET /api/runs/:id/children', () => {
  it('pages 25 children 10 at a time in spawn order, with status counts', async () => {
    const { api, executor } = fixture.setup({ workflows: [fanOut, child] });
    const result = await executor.execute(fanOut, { n: 25 });
    expect(result.output).toBe(600);
    const pages: Array<{
      runs: Array<{ id: string; createdAt: number; input: { i: number } }>;
      nextCursor: string | null;
      total: number;
    }> = [];
    let cursor: string | null = null;
    do {
      const res: ApiResponse = await api.get(
        `/api/runs/${result.runId}/children?limit=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(res.status).toBe(200);
      expect(res.body.counts).toEqual({ succeeded: 25 });
      pages.push(res.body);
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(pages.map((p) => p.runs.length)).toEqual([10, 10, 5]);
    expect(pages.every((p) => p.total === 25)).toBe(true);
    const ids = pages.flatMap((p) => p.runs.map((r) => r.id));
    expect(new Set(ids).size).toBe(25);
    const inputs = pages.flatMap((p) => p.runs.map((r) => r.input.i));
    expect([...inputs].sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    // Oldest first. (Children spawned in the same millisecond tie on createdAt and are then ordered by
    // id, which is a hash of their identity: spawn order holds to the millisecond.)
    const created = pages.flatMap((p) => p.runs.map((r) => r.createdAt));
    expect(created).toEqual([...created].sort((a, b) => a - b));
  });

  it('filters by the spawning step and by status', async () => {
    const { api, executor } = fixture.setup({ workflows: [fanOut, child] });
    const result = await executor.execute(fanOut, { n: 4 });
    const bySpawn = await api.get(`/api/runs/${result.runId}/children?step=spawn`);
    expect(bySpawn.body.total).toBe(4);
    const byOther = await api.get(`/api/runs/${result.runId}/children?step=other`);
    expect(byOther.body).toEqual({ runs: [], nextCursor: null, total: 0, counts: {} });
    const failedOnly = await api.get(`/api/runs/${result.runId}/children?status=failed`);
    expect(failedOnly.body.runs).toEqual([]);
    expect(failedOnly.body.total).toBe(4);
  });

  it('answers 404 for an unknown parent', async () => {
    const { api } = fixture.setup();
    expect((await api.get('/api/runs/nope/children')).status).toBe(404);
  });
});
