import { describe, expect, it } from 'vitest';
import { workflow } from '../../src/index.js';
import { serverFixture } from './helpers.js';

const fixture = serverFixture();
const urgent = workflow('urgent-by-default', { priority: 20 }).step('s', () => 1);

describe('priority through the HTTP API', () => {
  it("starts a run with a priority and shows it in the run's view; the workflow's default otherwise", async () => {
    const { api, executor } = fixture.setup({ workflows: [urgent] });
    const given = await api.post('/api/workflows/urgent-by-default/runs?wait=true', { input: null, priority: -7 });
    const byDefault = await api.post('/api/workflows/urgent-by-default/runs?wait=true', { input: null });
    expect(given.status).toBe(201);
    expect((await executor.store.getRun(given.body.runId))?.priority).toBe(-7);
    expect((await api.get(`/api/runs/${given.body.runId}`)).body.run.priority).toBe(-7);
    expect((await api.get(`/api/runs/${byDefault.body.runId}`)).body.run.priority).toBe(20);
    const listed = (await api.get('/api/runs?workflow=urgent-by-default')).body.runs;
    expect(listed.map((r: { priority: number }) => r.priority).sort()).toEqual([-7, 20]);
  });

  it('answers 400 naming the field for a priority that is not a whole number from -100 to 100', async () => {
    const { api, executor } = fixture.setup({ workflows: [urgent] });
    for (const priority of [1.5, 101, -101, 'high']) {
      const res = await api.post('/api/workflows/urgent-by-default/runs', { input: null, priority });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
      expect(res.body.error.issues[0].path).toEqual(['priority']);
    }
    expect((await executor.store.listRuns({})).runs).toEqual([]);
  });
});

describe('GET /api/debounces', () => {
  it('lists the pending debounced runs with their last input and trigger count, and not once they start', async () => {
    const saver = workflow('api-save', {
      debounce: { key: (input: { user: string }) => input.user, window: 60_000 },
    }).step('s', () => 1);
    const { api, executor } = fixture.setup({ workflows: [saver, urgent] });
    const first = await executor.start(saver, { user: 'ann', n: 1 } as { user: string });
    await executor.start(saver, { user: 'ann', n: 2 } as { user: string });
    const res = await api.get('/api/debounces?workflow=api-save');
    expect(res.status).toBe(200);
    expect(res.body.debounces).toEqual([
      {
        workflow: 'api-save',
        key: 'ann',
        runId: first.runId,
        input: { user: 'ann', n: 2 },
        triggers: 2,
        firstAt: expect.any(Number),
        lastAt: expect.any(Number),
        dueAt: expect.any(Number),
        windowMs: 60_000,
        maxWaitAt: null,
      },
    ]);
    expect((await api.get('/api/debounces?workflow=urgent-by-default')).body.debounces).toEqual([]);
    expect((await api.get('/api/debounces?limit=0')).status).toBe(400);
    const run = (await api.get(`/api/runs/${first.runId}`)).body.run;
    expect(run.status).toBe('queued');
  });

  it("gives each pending trigger its window and maxWait deadline (firstAt + maxWait) from the workflow's definition", async () => {
    const capped = workflow('api-capped', { debounce: { window: '30s', maxWait: '2m' } }).step('s', () => 1);
    const { api, executor } = fixture.setup({ workflows: [capped] });
    await executor.start(capped, null);
    await executor.start(capped, null);
    const [pending] = (await api.get('/api/debounces?workflow=api-capped')).body.debounces;
    expect(pending).toMatchObject({ key: '', triggers: 2, windowMs: 30_000, maxWaitAt: pending.firstAt + 120_000 });
    expect(pending.dueAt).toBeLessThanOrEqual(pending.maxWaitAt);
  });
});
