import { describe, expect, it } from 'vitest';
import { workflow } from '../../src/index.js';
import { client, errorOf, serverFixture } from './helpers.js';
import { gatedWorkflow, order } from './workflows.fixtures.js';

const fixture = serverFixture();

describe('POST /api/workflows/:name/runs', () => {
  it('starts a run and answers 201 with its id once it is stored', async () => {
    const { api, executor } = fixture.setup({ workflows: [order] });
    const res = await api.post('/api/workflows/order/runs', { input: { id: 'A1', qty: 3 } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ runId: expect.any(String) });
    const result = await (await executor.getHandle(res.body.runId)).result();
    expect(result.output).toBe(12);
  });

  it('waits for the result with ?wait=true', async () => {
    const { api } = fixture.setup({ workflows: [order] });
    const res = await api.post('/api/workflows/order/runs?wait=true', { input: { id: 'A1', qty: 2 } });
    expect(res.status).toBe(201);
    expect(res.body.result).toMatchObject({
      runId: res.body.runId,
      status: 'succeeded',
      success: true,
      output: 8,
      error: null,
      nodeExecutionOrder: ['fetch', 'price'],
    });
  });

  it('passes globals to the run', async () => {
    const { api, executor } = fixture.setup({ workflows: [order] });
    const res = await api.post('/api/workflows/order/runs', {
      input: { id: 'A1', qty: 1 },
      globals: { tenant: 'acme' },
    });
    const run = await executor.store.getRun(res.body.runId);
    expect(JSON.parse(run!.globals)).toEqual({ tenant: 'acme' });
  });

  it('returns the same run (200) for an idempotency key that already names one', async () => {
    const { api, executor } = fixture.setup({ workflows: [order] });
    const first = await api.post('/api/workflows/order/runs', {
      input: { id: 'A1', qty: 1 },
      idempotencyKey: 'job-42',
    });
    const again = await api.post('/api/workflows/order/runs', {
      input: { id: 'A1', qty: 1 },
      idempotencyKey: 'job-42',
    });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body.runId).toBe(first.body.runId);
    expect((await executor.store.listRuns({})).runs).toHaveLength(1);
  });

  it('answers 409 naming both workflows for an idempotency key that names a run of another workflow', async () => {
    const other = workflow('other').step('s', () => 1);
    const { api, executor } = fixture.setup({ workflows: [order, other] });
    const first = await api.post('/api/workflows/order/runs', {
      input: { id: 'A1', qty: 1 },
      idempotencyKey: 'shared',
    });
    const again = await api.post('/api/workflows/other/runs', { input: {}, idempotencyKey: 'shared' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('idempotency_conflict');
    expect(again.body.error.message).toContain(first.body.runId);
    expect(again.body.error.message).toContain('"other"');
    expect((await executor.store.listRuns({})).runs).toHaveLength(1);
  });

  it('refuses an input that fails the workflow schema with 422 and its issues, creating no run', async () => {
    const { api, executor } = fixture.setup({ workflows: [order] });
    const res = await api.post('/api/workflows/order/runs', { input: { id: 7, qty: -1 } });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('invalid_input');
    expect(res.body.error.message).toContain('No run was created');
    const paths = res.body.error.issues.map((i: { path: unknown[] }) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['id', 'qty']));
    expect((await executor.store.listRuns({})).runs).toEqual([]);
    expect(await executor.store.listEvents({})).toEqual([]);
  });

  it('answers 404 for a workflow that is not registered, naming the known ones', async () => {
    const { api, executor } = fixture.setup({ workflows: [order] });
    const res = await api.post('/api/workflows/nope/runs', { input: {} });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('workflow_not_registered');
    expect(res.body.error.message).toContain('known: order');
    expect((await executor.store.listRuns({})).runs).toEqual([]);
  });

  it('answers 400 for a body that is not JSON', async () => {
    const { api, executor } = fixture.setup({ workflows: [order] });
    const res = await api.post('/api/workflows/order/runs', '{"input": {');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('malformed_json');
    expect((await executor.store.listRuns({})).runs).toEqual([]);
  });

  it('answers 400 with the field for a body of the wrong shape', async () => {
    const { api } = fixture.setup({ workflows: [order] });
    const res = await api.post('/api/workflows/order/runs', { input: { id: 'A', qty: 1 }, idempotencyKey: 5 });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    expect(res.body.error.issues[0].path).toEqual(['idempotencyKey']);
  });

  it('answers 415 for a body that is not declared as JSON', async () => {
    const { app } = fixture.setup({ workflows: [order] });
    const res = await app.request('/api/workflows/order/runs', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'hello',
    });
    expect(res.status).toBe(415);
    expect((await errorOf(res)).code).toBe('unsupported_media_type');
  });

  it('answers 413 for a body over the limit, with or without Content-Length, and stores nothing', async () => {
    const { app, executor } = fixture.setup({ workflows: [order] }, { bodyLimitBytes: 1024 });
    const big = JSON.stringify({ input: { id: 'x'.repeat(2000), qty: 1 } });
    const withLength = await app.request('/api/workflows/order/runs', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(big.length) },
      body: big,
    });
    expect(withLength.status).toBe(413);
    expect((await errorOf(withLength)).code).toBe('payload_too_large');
    const streamed = await client(app).post('/api/workflows/order/runs', big);
    expect(streamed.status).toBe(413);
    expect((await executor.store.listRuns({})).runs).toEqual([]);
  });

  it('accepts a body just under the default 1 MiB limit', async () => {
    const { api } = fixture.setup({ workflows: [order] });
    const res = await api.post('/api/workflows/order/runs', { input: { id: 'x'.repeat(1000 * 1000), qty: 1 } });
    expect(res.status).toBe(201);
  });

  it('returns at once without ?wait, while the run is still going', async () => {
    const gated = gatedWorkflow();
    const { api } = fixture.setup({ workflows: [gated.workflow] });
    const res = await api.post('/api/workflows/gated/runs', { input: {} });
    expect(res.status).toBe(201);
    const detail = await api.get(`/api/runs/${res.body.runId}`);
    expect(detail.body.run.status).toBe('running');
    gated.open();
  });
});
