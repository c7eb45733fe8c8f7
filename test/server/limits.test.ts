import { describe, expect, it } from 'vitest';
import { workflow } from '../../src/index.js';
import { serverFixture, until } from './helpers.js';

const release = new Map<string, () => void>();
/** Each run waits until its label is released. */
const perTenant = workflow('api-tenant-jobs', {
  maxRuns: 1,
  concurrencyKey: (input) => (input as { tenant: string }).tenant,
}).step('work', { pool: 'llm' }, async (ctx) => {
  const { label } = ctx.input as { label: string };
  await new Promise<void>((resolve) => release.set(label, resolve));
  return label;
});
const unlimited = workflow('api-unlimited').step('s', () => 1);

async function send(
  app: { request: (path: string, init?: RequestInit) => Response | Promise<Response> },
  method: string,
  path: string,
  body?: unknown,
) {
  const res = await app.request(path, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

describe('/api/limits', () => {
  const fixture = serverFixture();

  it('lists maxRuns with active and queued runs per key, and pools with busy and waiting steps; PUT and DELETE change them', async () => {
    const { executor, app, api } = fixture.setup({ workflows: [perTenant, unlimited], pools: { llm: 4 } });
    const handles = [];
    for (const label of ['a1', 'a2', 'a3', 'b1']) {
      handles.push(await executor.start(perTenant, { tenant: label[0], label }));
    }
    await until(() => release.has('a1') && release.has('b1'));
    const listed = await api.get('/api/limits');
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual({
      maxRuns: [
        {
          workflow: 'api-tenant-jobs',
          maxRuns: 1,
          defined: 1,
          setting: null,
          onConcurrencyLimit: 'queue',
          keys: [
            { key: 'a', active: 1, queued: 2 },
            { key: 'b', active: 1, queued: 0 },
          ],
        },
      ],
      pools: [{ pool: 'llm', size: 4, defined: 4, setting: null, busy: 2, waiting: 0 }],
    });

    const raised = await send(app, 'PUT', '/api/limits/max-runs/api-tenant-jobs', { maxRuns: 3 });
    expect(raised.status).toBe(200);
    expect(raised.body).toMatchObject({ maxRuns: 3, defined: 1, setting: { value: 3, updatedAt: expect.any(Number) } });
    await until(() => release.has('a2') && release.has('a3'));

    const pool = await send(app, 'PUT', '/api/limits/pools/llm', { size: 2 });
    expect(pool.status).toBe(200);
    expect(pool.body).toMatchObject({ pool: 'llm', size: 2, defined: 4, setting: { value: 2 } });

    expect((await send(app, 'DELETE', '/api/limits/max-runs/api-tenant-jobs')).status).toBe(204);
    expect((await send(app, 'DELETE', '/api/limits/pools/llm')).status).toBe(204);
    const reset = await api.get('/api/limits');
    expect(reset.body.maxRuns[0]).toMatchObject({ maxRuns: 1, setting: null });
    expect(reset.body.pools[0]).toMatchObject({ size: 4, setting: null });

    for (const label of ['a1', 'a2', 'a3', 'b1']) release.get(label)?.();
    await Promise.all(handles.map((h) => h.result()));
  });

  it('refuses a bad value with a 400 naming the field, an unknown workflow or pool with a 404, and changes nothing', async () => {
    const { app, executor } = fixture.setup({ workflows: [perTenant, unlimited], pools: { llm: 4 } });
    for (const maxRuns of [0, -2, 1.5, '3', null]) {
      const res = await send(app, 'PUT', '/api/limits/max-runs/api-tenant-jobs', { maxRuns });
      expect(res.status, JSON.stringify(maxRuns)).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'invalid_request', issues: [{ path: ['maxRuns'] }] });
    }
    const extra = await send(app, 'PUT', '/api/limits/max-runs/api-tenant-jobs', { maxRuns: 2, more: 1 });
    expect(extra.status).toBe(400);
    const size = await send(app, 'PUT', '/api/limits/pools/llm', { size: 0 });
    expect(size.status).toBe(400);
    expect(size.body.error.issues[0].path).toEqual(['size']);

    const unknown = await send(app, 'PUT', '/api/limits/max-runs/nope', { maxRuns: 2 });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('workflow_not_registered');
    expect((await send(app, 'DELETE', '/api/limits/max-runs/nope')).status).toBe(404);
    const noLimit = await send(app, 'PUT', '/api/limits/max-runs/api-unlimited', { maxRuns: 2 });
    expect(noLimit.status).toBe(409);
    expect(noLimit.body.error.code).toBe('max_runs_not_defined');
    const noPool = await send(app, 'PUT', '/api/limits/pools/gpu', { size: 2 });
    expect(noPool.status).toBe(404);
    expect(noPool.body.error).toMatchObject({ code: 'pool_not_found', message: expect.stringContaining('gpu') });
    expect((await send(app, 'DELETE', '/api/limits/pools/gpu')).status).toBe(404);
    expect(await executor.store.listLimitSettings()).toEqual([]);
  });

  it('exposes limits and their usage as Prometheus gauges', async () => {
    const { executor, api } = fixture.setup({ workflows: [perTenant], pools: { llm: 4 } });
    const handles = [];
    for (const label of ['m1', 'm2']) handles.push(await executor.start(perTenant, { tenant: 'm', label }));
    await until(() => release.has('m1'));
    await executor.setPoolSize('llm', 3);
    const text = (await api.get('/metrics')).body as string;
    expect(text).toContain('braid_max_runs_limit{workflow="api-tenant-jobs"} 1');
    expect(text).toContain('braid_max_runs_active{workflow="api-tenant-jobs",key="m"} 1');
    expect(text).toContain('braid_max_runs_queued{workflow="api-tenant-jobs",key="m"} 1');
    expect(text).toContain('braid_pool_size{pool="llm"} 3');
    expect(text).toContain('braid_pool_busy{pool="llm"} 1');
    expect(text).toContain('braid_pool_waiting{pool="llm"} 0');
    release.get('m1')?.();
    await until(() => release.has('m2'));
    release.get('m2')?.();
    await Promise.all(handles.map((h) => h.result()));
  });
});
