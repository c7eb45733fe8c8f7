/**
 * `POST /api/runs/:id/fork` and the fork links of `GET /api/runs/:id`, through `app.request()`.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { workflow } from '../../src/index.js';
import { serverFixture } from './helpers.js';

const fixture = serverFixture();

function pricing() {
  const ran: string[] = [];
  const wf = workflow('pricing', { input: z.object({ qty: z.number().int() }) })
    .step('load', (ctx) => {
      ran.push('load');
      return { unit: 4, qty: ctx.input.qty };
    })
    .step('price', { parents: ['load'] }, (ctx) => {
      ran.push('price');
      const l = ctx.parent('load') as { unit: number; qty: number };
      return l.unit * ctx.input.qty;
    })
    .step('label', { parents: ['price'] }, (ctx) => {
      ran.push('label');
      return `total ${ctx.parent('price') as number}`;
    });
  return { wf, ran };
}

describe('POST /api/runs/:id/fork', () => {
  it('creates the fork (201); GET shows forkedFrom, the reused steps and, on the original, its forks', async () => {
    const { wf, ran } = pricing();
    const { api, executor } = fixture.setup({ workflows: [wf] });
    const original = await executor.execute(wf, { qty: 2 });
    const originalId = original.context.runId as string;

    const res = await api.post(`/api/runs/${originalId}/fork`, { from: 'price', input: { qty: 3 } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ runId: expect.any(String), forkedFrom: { runId: originalId, step: 'price' } });
    const forkId = res.body.runId as string;
    const result = await (await executor.getHandle(forkId)).result();
    expect(result.output).toBe('total 12');
    expect(ran).toEqual(['load', 'price', 'label', 'price', 'label']);

    const detail = await api.get(`/api/runs/${forkId}`);
    expect(detail.status).toBe(200);
    expect(detail.body.forkedFrom).toEqual({
      runId: originalId,
      step: 'price',
      reusedSteps: ['load'],
      overriddenSteps: [],
    });
    expect(detail.body.forks).toEqual([]);
    type StepBody = { name: string; reusedFrom?: string | null; attempts: number; output: unknown };
    const steps = Object.fromEntries((detail.body.steps as StepBody[]).map((s) => [s.name, s]));
    expect(steps.load).toMatchObject({ reusedFrom: originalId, attempts: 0, output: { unit: 4, qty: 2 } });
    expect(steps.price?.reusedFrom ?? null).toBeNull();
    expect(detail.body.events.some((e: { type: string }) => e.type === 'step_reused')).toBe(true);

    const originalDetail = await api.get(`/api/runs/${originalId}`);
    expect(originalDetail.body.forkedFrom).toBeNull();
    expect(originalDetail.body.forks).toEqual([{ runId: forkId, step: 'price', createdAt: expect.any(Number) }]);
  });

  it('takes outputs for reused steps', async () => {
    const { wf } = pricing();
    const { api, executor } = fixture.setup({ workflows: [wf] });
    const original = await executor.execute(wf, { qty: 2 });
    const res = await api.post(`/api/runs/${original.context.runId}/fork`, {
      from: 'price',
      outputs: { load: { unit: 10, qty: 2 } },
    });
    expect(res.status).toBe(201);
    expect((await (await executor.getHandle(res.body.runId)).result()).output).toBe('total 20');
    const detail = await api.get(`/api/runs/${res.body.runId}`);
    expect(detail.body.forkedFrom.overriddenSteps).toEqual(['load']);
  });

  it('answers 404 / 409 / 422 / 400 for bad requests, and creates nothing', async () => {
    const { wf } = pricing();
    let release = () => {};
    const slow = workflow('slow').step('wait', () => new Promise<void>((resolve) => (release = resolve)));
    const { api, executor } = fixture.setup({ workflows: [wf, slow] });
    const original = await executor.execute(wf, { qty: 2 });
    const id = original.context.runId as string;
    const running = await executor.start(slow, null);
    const before = (await executor.store.listRuns({})).runs.length;

    const cases: Array<[string, unknown, number, string]> = [
      ['missing', { from: 'price' }, 404, 'run_not_found'],
      [id, { from: 'nope' }, 422, 'unknown_fork_step'],
      [id, { from: 'price', input: { qty: 'x' } }, 422, 'invalid_input'],
      [id, { from: 'price', outputs: { nope: 1 } }, 422, 'invalid_fork_outputs'],
      [id, { from: 'price', outputs: { label: 1 } }, 422, 'invalid_fork_outputs'],
      [id, { from: 'price', version: 'v7' }, 409, 'fork_version_mismatch'],
      [running.runId, { from: 'wait' }, 409, 'run_not_ended'],
      [id, {}, 400, 'invalid_request'],
      [id, { from: '' }, 400, 'invalid_request'],
    ];
    for (const [runId, body, status, code] of cases) {
      const res = await api.post(`/api/runs/${runId}/fork`, body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.body.error.code, JSON.stringify(body)).toBe(code);
    }
    const invalid = await api.post(`/api/runs/${id}/fork`, { from: 'price', input: { qty: 'x' } });
    expect(invalid.body.error.issues?.[0]?.path).toEqual(['qty']);
    expect((await executor.store.listRuns({})).runs.length).toBe(before);
    expect(await executor.store.listForks(id)).toEqual([]);
    release();
  });

  it('is in the OpenAPI document', async () => {
    const { api } = fixture.setup();
    const doc = await api.get('/openapi.json');
    expect(doc.body.paths['/api/runs/{id}/fork'].post.responses['201']).toBeDefined();
  });
});
