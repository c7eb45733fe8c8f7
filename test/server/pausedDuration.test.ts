import { describe, expect, it } from 'vitest';
import { workflow } from '../../src/index.js';
import { serverFixture, sleep, until } from './helpers.js';
import { gatedWorkflow } from './workflows.fixtures.js';

const fixture = serverFixture();

/**
 * A paused run's duration stops at its pause: it was counted from its start to now, so the
 * dashboard and `braid runs` showed it growing for as long as the run stayed paused.
 */
describe('a paused run', () => {
  it('has pausedAt and a duration that stops there, in the list, its detail and its parent children list', async () => {
    const gated = gatedWorkflow();
    const parent = workflow('parent').step('spawn', async (ctx) => ctx.join([ctx.spawnWorkflow(gated.workflow, {})]));
    const { api, executor } = fixture.setup({ workflows: [gated.workflow, parent] });
    const { runId: parentId } = (await api.post('/api/workflows/parent/runs', { input: {} })).body;
    let runId = '';
    await until(async () => {
      runId = (await api.get(`/api/runs?parentRunId=${parentId}`)).body.runs[0]?.id ?? '';
      return runId !== '';
    });
    const before = Date.now();
    expect((await api.post(`/api/runs/${runId}/pause`)).status).toBe(200);
    const after = Date.now();
    gated.open(); // its running step finishes; the run stays paused

    const views = async () => {
      const [list, detail, children] = await Promise.all([
        api.get(`/api/runs?parentRunId=${parentId}`),
        api.get(`/api/runs/${runId}`),
        api.get(`/api/runs/${parentId}/children`),
      ]);
      return [list.body.runs[0], detail.body.run, children.body.runs[0]];
    };
    const first = await views();
    for (const run of first) {
      expect(run).toMatchObject({ id: runId, status: 'paused', finishedAt: null });
      expect(run.pausedAt).toBeGreaterThanOrEqual(before);
      expect(run.pausedAt).toBeLessThanOrEqual(after);
      expect(run.durationMs).toBe(run.pausedAt - run.startedAt);
    }
    await sleep(300);
    expect((await views()).map((r) => r.durationMs)).toEqual(first.map((r) => r.durationMs));

    // Resumed: no pausedAt; the duration runs from the start again, and ends with the run.
    await api.post(`/api/runs/${runId}/resume`);
    await (await executor.getHandle(runId)).result();
    const done = (await api.get(`/api/runs/${runId}`)).body.run;
    expect(done.pausedAt).toBeNull();
    expect(done.durationMs).toBe(done.finishedAt - done.startedAt);
  });

  it('a run never paused has pausedAt null', async () => {
    const quick = workflow('quick').step('one', () => 1);
    const { api, executor } = fixture.setup({ workflows: [quick] });
    const { runId } = await executor.execute(quick, {});
    expect((await api.get('/api/runs')).body.runs[0]).toMatchObject({ id: runId, pausedAt: null });
  });
});
