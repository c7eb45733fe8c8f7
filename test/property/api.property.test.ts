import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MemoryStore, WorkflowExecutor, workflow } from '../../src/index.js';
import { createApp } from '../../src/server/index.js';
import { build, jsonData, propertyParameters } from './arbitraries.js';

const echo = workflow('echo').step('out', (ctx) => ctx.input);
const typed = workflow('typed', { input: z.object({ n: z.number().int(), tag: z.string().optional() }) }).step(
  'double',
  (ctx) => ctx.input.n * 2,
);

type Body = string | { nestedInput: number; as: 'array' | 'object' };

function bodyText(body: Body): string {
  if (typeof body === 'string') return body;
  const [open, close] = body.as === 'array' ? ['[', ']'] : ['{"a":', '}'];
  return `{"input":${open.repeat(body.nestedInput)}1${close.repeat(body.nestedInput)}}`;
}

/** A body as a careless or hostile client sends it: JSON of any shape, broken JSON, deep nesting. */
const body: fc.Arbitrary<Body> = fc.oneof(
  jsonData.map((recipe) => JSON.stringify(build(recipe)) ?? 'null'),
  fc
    .record(
      {
        input: jsonData.map(build),
        idempotencyKey: fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.constant(null)),
        globals: jsonData.map(build),
        reason: fc.oneof(fc.string({ maxLength: 4 }), fc.integer()),
      },
      { requiredKeys: [] },
    )
    .map((b) => JSON.stringify(b)),
  fc.string({ maxLength: 20 }),
  // Deep nesting (5,000 levels was a RangeError and a 500), described so a failure prints short.
  fc.record({ nestedInput: fc.constantFrom(5000, 999), as: fc.constantFrom('array', 'object') }),
  fc.constantFrom(
    '',
    '{',
    '{"input":1',
    'null',
    '[]',
    '{"input":{"__proto__":{"polluted":true}}}',
    '{"__proto__":{"input":1}}',
    '{"input":1e999}',
    '{"input":"\\ud800"}',
  ),
);
const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', undefined);
const runId = fc.oneof(
  fc.constantFrom('existing', 'missing', '%00', '..', 'a'.repeat(300)),
  fc.string({ maxLength: 6 }),
);
/** Mostly the route that stores what it is sent (starting a run); the actions take bodies too. */
const route = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      '/api/workflows/echo/runs',
      '/api/workflows/typed/runs',
      '/api/workflows/echo/runs?wait=true',
    ),
  },
  fc.constantFrom('/api/workflows/nope/runs', '/api/workflows/echo/runs?wait=maybe'),
  runId.map((id) => `/api/runs/${encodeURIComponent(id)}/cancel`),
  runId.map((id) => `/api/runs/${encodeURIComponent(id)}/pause`),
  runId.map((id) => `/api/runs/${encodeURIComponent(id)}/resume`),
  runId.map((id) => `/api/runs/${encodeURIComponent(id)}/replay`),
);
const query = fc.oneof(
  fc.constantFrom('', '?limit=0', '?limit=-1', '?limit=1e9', '?cursor=%FF', '?status=nope', '?since=yesterday'),
  fc.string({ maxLength: 12 }).map((q) => `?${q}`),
);

describe('properties: API bodies', () => {
  const executor = new WorkflowExecutor({ store: new MemoryStore(), workflows: [echo, typed] });
  const app = createApp(executor, { dashboardDir: null });
  afterAll(() => executor.cleanup());

  /** Everything the store holds, as text: compared before and after a refused request. */
  const snapshot = async () =>
    JSON.stringify([
      await executor.store.listRuns({ limit: 1000 }),
      await executor.store.listEvents({ limit: 10_000 }),
    ]);

  /** Waits until no run is active, so the snapshot only changes by what a request did. */
  const settle = async () => {
    for (;;) {
      const { runs } = await executor.store.listRuns({ status: ['queued', 'running'], limit: 1 });
      if (!runs.length) return;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };

  const expectErrorShape = async (res: Response) => {
    const payload = (await res.json()) as { error?: { code?: unknown; message?: unknown } };
    expect(typeof payload.error?.code).toBe('string');
    expect(typeof payload.error?.message).toBe('string');
  };

  it('POSTs answer 2xx, or 4xx with the error shape and the store unchanged; never 500', async () => {
    const seed = await app.request('/api/workflows/echo/runs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"input":"seed"}',
    });
    expect(seed.status).toBe(201);
    const existing = ((await seed.json()) as { runId: string }).runId;
    await settle();

    await fc.assert(
      fc.asyncProperty(route, body, contentType, async (path, spec, type) => {
        const text = bodyText(spec);
        const before = await snapshot();
        const headers: Record<string, string> = type ? { 'content-type': type } : {};
        const res = await app.request(path.replace('/existing/', `/${existing}/`), {
          method: 'POST',
          headers,
          body: text,
        });
        expect(res.status, `${path} ${text.slice(0, 80)}`).toBeLessThan(500);
        if (res.status >= 400) {
          await expectErrorShape(res);
          expect(await snapshot()).toBe(before);
        } else {
          await res.body?.cancel();
        }
        await settle();
      }),
      { ...propertyParameters, numRuns: 150 },
    );
  });

  it('GETs with any query answer 200, or 4xx with the error shape; never 500', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          '/api/runs',
          '/api/workflows',
          '/api/workflows/echo',
          '/api/runs/missing',
          '/api/runs/x/children',
        ),
        query,
        async (path, q) => {
          const res = await app.request(`${path}${q}`);
          expect(res.status, `${path}${q}`).toBeLessThan(500);
          if (res.status >= 400) await expectErrorShape(res);
          else await res.body?.cancel();
        },
      ),
      { ...propertyParameters, numRuns: 150 },
    );
  });
});
