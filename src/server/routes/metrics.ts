import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { ServerDeps } from '../deps.js';
import { HealthSchema } from '../schemas.js';
import { errorResponses, jsonResponse } from './responses.js';

const getMetrics = createRoute({
  method: 'get',
  path: '/metrics',
  tags: ['operations'],
  summary: 'Prometheus metrics (text exposition format)',
  responses: {
    200: {
      description: 'Counters, the step duration histogram, and the queued, running and waiting runs gauges',
      content: { 'text/plain': { schema: z.string().openapi({ example: 'braid_runs_started_total 42' }) } },
    },
    ...errorResponses(401),
  },
});

const getHealth = createRoute({
  method: 'get',
  path: '/healthz',
  tags: ['operations'],
  summary: 'Liveness: answers without a token',
  description:
    'Only liveness: `{ "ok": true }` while the server answers, to anyone, with or without a token (load ' +
    'balancers and probes carry none). It names no database or other internals: `braid dev` and ' +
    '`braid worker` print where the runs live when they start.',
  security: [],
  responses: { 200: jsonResponse(HealthSchema, 'The server is up') },
});

export function registerMetricsRoutes(app: OpenAPIHono, { metrics }: ServerDeps): void {
  app.openapi(getMetrics, async (c) => {
    const text = await metrics.registry.metrics();
    return c.text(text, 200, { 'Content-Type': metrics.registry.contentType });
  });

  app.openapi(getHealth, (c) => c.json({ ok: true as const }, 200));
}
