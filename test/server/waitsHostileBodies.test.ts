/**
 * Any body sent to the routes that feed waits (`POST /api/events`, `POST /api/runs/:id/inputs/:name`)
 * answers 2xx, or 4xx with the error shape and nothing recorded: no inbox event, no run, no wait
 * changed. Never a 500.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryStore, WorkflowExecutor } from '../../src/index.js';
import { createApp } from '../../src/server/index.js';
import { build, jsonData, propertyParameters } from '../property/arbitraries.js';
import { until } from './helpers.js';
import { approval, onShipped, payment } from './waits.fixtures.js';

const body = fc.oneof(
  jsonData.map((recipe) => JSON.stringify(build(recipe)) ?? 'null'),
  fc
    .record(
      {
        name: fc.oneof(fc.constantFrom('order.paid', 'order.shipped', '', 'x'.repeat(201)), fc.string(), fc.integer()),
        payload: jsonData.map(build),
        key: fc.oneof(fc.string({ maxLength: 4 }), fc.integer(), fc.constant(null)),
        idempotencyKey: fc.oneof(fc.string({ maxLength: 4 }), fc.constant(null)),
        value: fc.oneof(
          jsonData.map(build),
          fc.record({ approved: fc.oneof(fc.boolean(), fc.string()), by: fc.string({ maxLength: 3 }) }),
        ),
      },
      { requiredKeys: [] },
    )
    .map((b) => JSON.stringify(b)),
  fc.string({ maxLength: 20 }),
  fc.constantFrom(
    '',
    '{',
    'null',
    '[]',
    '{"name":"order.paid","payload":1e999}',
    '{"name":"order.shipped","payload":{"orderId":1e999}}',
    '{"value":1e999}',
    '{"value":{"approved":true,"by":"\\ud800x"}}',
    '{"__proto__":{"name":"order.paid"}}',
    `{"name":"order.paid","payload":${'['.repeat(5000)}${']'.repeat(5000)}}`,
  ),
);
const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', undefined);

describe('properties: bodies sent to the wait routes', () => {
  const executor = new WorkflowExecutor({ store: new MemoryStore(), workflows: [approval, payment, onShipped] });
  const app = createApp(executor, { dashboardDir: null });
  afterAll(() => executor.cleanup());

  it('answer 2xx, or 4xx with the error shape and the store unchanged; never 500', async () => {
    // A run waiting for an input, one for an event: what an accepted body may change.
    const asking = await executor.start(approval, { amount: 1 });
    const paying = await executor.start(payment, { orderId: 'p' });
    await until(async () => (await executor.store.countRuns({})).waiting === 2);
    const route = fc.constantFrom(
      '/api/events',
      `/api/runs/${asking.runId}/inputs/approve`,
      `/api/runs/${asking.runId}/inputs/other`,
      '/api/runs/missing/inputs/approve',
    );
    const snapshot = async () =>
      JSON.stringify([
        await executor.store.listInbox({ limit: 1000 }),
        await executor.store.listRuns({ limit: 1000 }),
        await executor.store.getWaits(asking.runId),
        await executor.store.getWaits(paying.runId),
      ]);

    /** Waits until no run moves, so the snapshot only changes by what a request did. */
    const settle = async () => {
      for (;;) {
        const { runs } = await executor.store.listRuns({ status: ['queued', 'running'], limit: 1 });
        if (!runs.length) return;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };

    await fc.assert(
      fc.asyncProperty(route, body, contentType, async (path, text, type) => {
        await settle();
        const before = await snapshot();
        const res = await app.request(path, {
          method: 'POST',
          headers: type ? { 'content-type': type } : {},
          body: text,
        });
        expect(res.status, `${path} ${text.slice(0, 80)}`).toBeLessThan(500);
        if (res.status >= 400) {
          const payload = (await res.json()) as { error?: { code?: unknown; message?: unknown } };
          expect(typeof payload.error?.code).toBe('string');
          expect(typeof payload.error?.message).toBe('string');
          expect(await snapshot()).toBe(before);
        } else {
          await res.body?.cancel();
        }
      }),
      { ...propertyParameters, numRuns: 200 },
    );
  });
});
