import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { ServerDeps } from '../deps.js';
import { RateLimitNameQuerySchema, RateLimitSchema, SetRateLimitBodySchema } from '../schemas.js';
import { errorResponses, jsonResponse } from './responses.js';

const listRateLimits = createRoute({
  method: 'get',
  path: '/api/rate-limits',
  tags: ['rate limits'],
  summary: 'Every rate limit defined by a registered workflow or set at run time, with its usage per busy key',
  responses: {
    200: jsonResponse(z.object({ rateLimits: z.array(RateLimitSchema) }), 'The limits, by name'),
    ...errorResponses(401),
  },
});

const setRateLimit = createRoute({
  method: 'put',
  path: '/api/rate-limits',
  tags: ['rate limits', 'actions'],
  summary: 'Change a rate limit at run time, for every process sharing the store',
  description:
    "The new limit and period replace the definition's until reset (DELETE). Starts already granted keep " +
    'their times; the next ones are spaced by the new limit.',
  request: { body: { required: true, content: { 'application/json': { schema: SetRateLimitBodySchema } } } },
  responses: {
    200: jsonResponse(RateLimitSchema, 'The limit as it now stands'),
    ...errorResponses(400, 401, 413, 415),
  },
});

const resetRateLimit = createRoute({
  method: 'delete',
  path: '/api/rate-limits',
  tags: ['rate limits', 'actions'],
  summary: "Drop a limit's run-time setting: its definition applies again",
  request: { query: RateLimitNameQuerySchema },
  responses: { 204: { description: 'Reset (or there was no setting)' }, ...errorResponses(400, 401) },
});

export function registerRateLimitRoutes(app: OpenAPIHono, { executor }: ServerDeps): void {
  app.openapi(listRateLimits, async (c) => c.json({ rateLimits: await executor.rateLimits() }, 200));

  app.openapi(setRateLimit, async (c) => {
    const { name, limit, period } = c.req.valid('json');
    const view = await executor.setRateLimit(name, { limit, period });
    const shown = view ?? (await executor.rateLimits()).find((v) => v.name === name);
    return c.json(shown as NonNullable<typeof shown>, 200);
  });

  app.openapi(resetRateLimit, async (c) => {
    await executor.resetRateLimit(c.req.valid('query').name);
    return c.body(null, 204);
  });
}
