import { describe, expect, it } from 'vitest';
import { workflow } from '../../src/index.js';
import { serverFixture, until } from './helpers.js';
import { gatedWorkflow, order } from './workflows.fixtures.js';

const fixture = serverFixture();

describe('POST /api/runs/:id/{cancel,pause,resume,replay}', () => {
  it('pauses without waiting for the running step, then resumes to the end', async () => {
    const gated = gatedWorkflow();
    const { api, executor } = fixture.setup({ workflows: [gated.workflow] });
    const { runId } = (await api.post('/api/workflows/gated/runs', { input: {} })).body;

    const paused = await api.post(`/api/runs/${runId}/pause`);
    expect(paused.status).toBe(200);
    expect(paused.body).toEqual({ runId, status: 'paused' });
    expect((await executor.store.getRun(runId))!.status).toBe('paused');
    expect((await api.post(`/api/runs/${runId}/pause`)).status).toBe(200); // already paused: same answer

    gated.open(); // 'first' finishes and is recorded; 'second' does not start while paused
    await until(async () =>
      (await executor.store.getSteps(runId)).some((s) => s.name === 'first' && s.status === 'succeeded'),
    );
    const whilePaused = await api.get(`/api/runs/${runId}`);
    expect(whilePaused.body.steps.find((s: { name: string }) => s.name === 'second').status).toBe('pending');

    const resumed = await api.post(`/api/runs/${runId}/resume`);
    expect(resumed.status).toBe(200);
    expect(resumed.body.runId).toBe(runId);
    const result = await (await executor.getHandle(runId)).result();
    expect(result.status).toBe('succeeded');
    expect(result.output).toBe(2);
  });

  it('refuses to resume a run that is not paused (409)', async () => {
    const { api, executor } = fixture.setup({ workflows: [order] });
    const { runId } = await executor.execute(order, { id: 'A', qty: 1 });
    const res = await api.post(`/api/runs/${runId}/resume`);
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'invalid_state', message: expect.stringContaining('succeeded') });
  });

  it('cancels a running run with a reason; cancelling it again is a 409', async () => {
    let aborted = false;
    const stuck = workflow('stuck').step('wait', (ctx) => {
      return new Promise((_, reject) =>
        ctx.signal.addEventListener('abort', () => {
          aborted = true;
          reject(ctx.signal.reason);
        }),
      );
    });
    const { api, executor } = fixture.setup({ workflows: [stuck] });
    const { runId } = (await api.post('/api/workflows/stuck/runs', { input: {} })).body;
    await until(async () => (await executor.store.getSteps(runId)).some((s) => s.status === 'running'));

    const res = await api.post(`/api/runs/${runId}/cancel`, { reason: 'operator said so' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ runId, status: 'cancelled' });
    expect(aborted).toBe(true);
    const run = (await api.get(`/api/runs/${runId}`)).body.run;
    expect(run.error.message).toContain('operator said so');

    const again = await api.post(`/api/runs/${runId}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('invalid_state');
  });

  it('cancels with no body, or with an empty JSON body', async () => {
    const a = gatedWorkflow('a');
    const { app, api } = fixture.setup({ workflows: [a.workflow] });
    const first = (await api.post('/api/workflows/a/runs', { input: {} })).body.runId;
    const second = (await api.post('/api/workflows/a/runs', { input: {} })).body.runId;
    expect((await app.request(`/api/runs/${first}/cancel`, { method: 'POST' })).status).toBe(200);
    const withHeaderOnly = await app.request(`/api/runs/${second}/cancel`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    expect(withHeaderOnly.status).toBe(200);
  });

  it('replays a run as a new run linked by replayOf (201)', async () => {
    const { api, executor } = fixture.setup({ workflows: [order] });
    const original = await executor.execute(order, { id: 'A', qty: 5 });
    const res = await api.post(`/api/runs/${original.runId}/replay`);
    expect(res.status).toBe(201);
    expect(res.body.replayOf).toBe(original.runId);
    expect(res.body.runId).not.toBe(original.runId);
    const replay = await (await executor.getHandle(res.body.runId)).result();
    expect(replay.output).toBe(20);
    const detail = await api.get(`/api/runs/${res.body.runId}`);
    expect(detail.body.replayOf).toBe(original.runId);
    expect(detail.body.run.input).toEqual({ id: 'A', qty: 5 });
  });

  it('answers 404 for every action on an unknown run, and writes nothing', async () => {
    const { api, executor } = fixture.setup({ workflows: [order] });
    for (const action of ['cancel', 'pause', 'resume', 'replay']) {
      const res = await api.post(`/api/runs/missing/${action}`);
      expect(res.status, action).toBe(404);
      expect(res.body.error.code, action).toBe('run_not_found');
    }
    expect((await executor.store.listRuns({})).runs).toEqual([]);
    expect(await executor.store.listEvents({})).toEqual([]);
  });

  it('refuses to pause a finished run (409)', async () => {
    const { api, executor } = fixture.setup({ workflows: [order] });
    const { runId } = await executor.execute(order, { id: 'A', qty: 1 });
    const res = await api.post(`/api/runs/${runId}/pause`);
    expect(res.status).toBe(409);
  });
});
