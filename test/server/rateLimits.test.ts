import { describe, expect, it } from 'vitest';
import { workflow } from '../../src/index.js';
import { serverFixture } from './helpers.js';

const billing = workflow('api-billing', {
  rateLimit: { limit: 1, period: '10s', key: (input) => (input as { tenant: string }).tenant },
}).step('charge', { rateLimit: { limit: 5, period: '1s', name: 'payments-api', onLimit: 'drop' } }, () => 'charged');

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

describe('/api/rate-limits', () => {
  const fixture = serverFixture();

  it('lists the limits the workflows define, and the usage of each busy key', async () => {
    const { executor, api } = fixture.setup({ workflows: [billing] });
    const idle = await api.get('/api/rate-limits');
    expect(idle.status).toBe(200);
    expect(idle.body.rateLimits).toEqual([
      expect.objectContaining({
        name: 'api-billing',
        limit: 1,
        periodMs: 10_000,
        onLimit: 'queue',
        defined: { limit: 1, periodMs: 10_000 },
        setting: null,
        appliesTo: ['api-billing'],
        keys: [],
      }),
      expect.objectContaining({
        name: 'payments-api',
        limit: 5,
        periodMs: 1000,
        onLimit: 'drop',
        appliesTo: ['api-billing/charge'],
      }),
    ]);

    await executor.execute(billing, { tenant: 'acme' });
    const second = await executor.start(billing, { tenant: 'acme' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const busy = await api.get('/api/rate-limits');
    const runLimit = busy.body.rateLimits.find((l: { name: string }) => l.name === 'api-billing');
    // The first run took the period's one start; the second holds a start 10 s out.
    expect(runLimit.keys).toEqual([{ key: 'acme', used: 1, queued: 1, nextStartAt: expect.any(Number) }]);
    expect(runLimit.keys[0].nextStartAt).toBeGreaterThan(Date.now() + 15_000);
    expect(runLimit.counts).toEqual({ started: 2, queued: 1, dropped: 0 });
    await executor.cancel(second.runId);
  });

  it('changes a limit at run time (PUT) for the runs that come next, and resets it (DELETE)', async () => {
    const { executor, app, api } = fixture.setup({ workflows: [billing] });
    const set = await send(app, 'PUT', '/api/rate-limits', { name: 'api-billing', limit: 50, period: '1s' });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({
      name: 'api-billing',
      limit: 50,
      periodMs: 1000,
      defined: { limit: 1, periodMs: 10_000 },
      setting: { limit: 50, periodMs: 1000 },
    });
    // One start per 10 s by definition; at 50 per second three runs of one key are done at once.
    const t0 = Date.now();
    const results = await Promise.all([1, 2, 3].map(() => executor.execute(billing, { tenant: 'live' })));
    expect(results.every((r) => r.success)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(2000);

    expect((await send(app, 'DELETE', '/api/rate-limits?name=api-billing')).status).toBe(204);
    const after = (await api.get('/api/rate-limits')).body.rateLimits.find(
      (l: { name: string }) => l.name === 'api-billing',
    );
    expect(after).toMatchObject({ limit: 1, periodMs: 10_000, setting: null });
  });

  it('refuses a bad setting with a 400 naming the field, and changes nothing', async () => {
    const { app, api } = fixture.setup({ workflows: [billing] });
    const zero = await send(app, 'PUT', '/api/rate-limits', { name: 'api-billing', limit: 0, period: '1s' });
    expect(zero.status).toBe(400);
    expect(zero.body.error.code).toBe('invalid_rate_limit');
    expect(zero.body.error.message).toContain('`limit` must be a whole number >= 1');
    const period = await send(app, 'PUT', '/api/rate-limits', { name: 'api-billing', limit: 3, period: 'often' });
    expect(period.status).toBe(400);
    expect(period.body.error.message).toContain('`period` must be a duration above 0');
    for (const body of [
      { limit: 3, period: '1s' },
      { name: 'x', limit: 3, period: '1s', burst: 2 },
      { name: 'x', limit: '3', period: 1 },
    ]) {
      expect((await send(app, 'PUT', '/api/rate-limits', body)).status, JSON.stringify(body)).toBe(400);
    }
    expect((await send(app, 'DELETE', '/api/rate-limits')).status).toBe(400);
    const limits = (await api.get('/api/rate-limits')).body.rateLimits;
    expect(limits.find((l: { name: string }) => l.name === 'api-billing').setting).toBeNull();
  });

  it('exposes limits and usage as Prometheus gauges', async () => {
    const { executor, api } = fixture.setup({ workflows: [billing] });
    await executor.execute(billing, { tenant: 'acme' });
    const text = (await api.get('/metrics')).body as string;
    expect(text).toContain('braid_rate_limit_limit{limit="api-billing"} 1');
    expect(text).toContain('braid_rate_limit_period_seconds{limit="api-billing"} 10');
    expect(text).toContain('braid_rate_limit_used{limit="api-billing",key="acme"} 1');
    expect(text).toContain('braid_rate_limit_queued{limit="api-billing",key="acme"} 0');
    expect(text).toContain('braid_rate_limit_limit{limit="payments-api"} 5');
  });
});
