import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { ServerDeps } from '../deps.js';
import {
  LimitPoolParamSchema,
  LimitsSchema,
  LimitWorkflowParamSchema,
  MaxRunsLimitSchema,
  PoolLimitSchema,
  SetMaxRunsBodySchema,
  SetPoolSizeBodySchema,
} from '../schemas.js';
import { errorResponses, jsonResponse } from './responses.js';

const listLimits = createRoute({
  method: 'get',
  path: '/api/limits',
  tags: ['limits'],
  summary: "Every workflow's maxRuns and every resource pool, with usage: runs per concurrency key, pool units",
  responses: { 200: jsonResponse(LimitsSchema, 'The limits'), ...errorResponses(401) },
});

const setMaxRuns = createRoute({
  method: 'put',
  path: '/api/limits/max-runs/{workflow}',
  tags: ['limits', 'actions'],
  summary: "Change a workflow's maxRuns (per concurrency key) at run time, for every process sharing the store",
  description:
    'Raising it starts queued runs that fit at once; lowering it lets running runs finish and starts no queued ' +
    'run until the key is under the new limit. Until reset (DELETE).',
  request: {
    params: LimitWorkflowParamSchema,
    body: { required: true, content: { 'application/json': { schema: SetMaxRunsBodySchema } } },
  },
  responses: {
    200: jsonResponse(MaxRunsLimitSchema, 'The limit as it now stands'),
    ...errorResponses(400, 401, 404, 409, 413, 415),
  },
});

const resetMaxRuns = createRoute({
  method: 'delete',
  path: '/api/limits/max-runs/{workflow}',
  tags: ['limits', 'actions'],
  summary: "Drop a workflow's run-time maxRuns: its definition applies again",
  request: { params: LimitWorkflowParamSchema },
  responses: { 204: { description: 'Reset (or there was no setting)' }, ...errorResponses(400, 401, 404, 409) },
});

const setPoolSize = createRoute({
  method: 'put',
  path: '/api/limits/pools/{pool}',
  tags: ['limits', 'actions'],
  summary: "Change a resource pool's size at run time, for every process sharing the store",
  description:
    'Raising it starts waiting steps at once; lowering it lets running steps finish and starts none until the pool ' +
    'is under the new size. Until reset (DELETE).',
  request: {
    params: LimitPoolParamSchema,
    body: { required: true, content: { 'application/json': { schema: SetPoolSizeBodySchema } } },
  },
  responses: {
    200: jsonResponse(PoolLimitSchema, 'The pool as it now stands'),
    ...errorResponses(400, 401, 404, 413, 415),
  },
});

const resetPoolSize = createRoute({
  method: 'delete',
  path: '/api/limits/pools/{pool}',
  tags: ['limits', 'actions'],
  summary: "Drop a pool's run-time size: ExecutorOptions.pools applies again",
  request: { params: LimitPoolParamSchema },
  responses: { 204: { description: 'Reset (or there was no setting)' }, ...errorResponses(400, 401, 404) },
});

export function registerLimitRoutes(app: OpenAPIHono, { executor }: ServerDeps): void {
  app.openapi(listLimits, async (c) => c.json(await executor.limits(), 200));

  app.openapi(setMaxRuns, async (c) => {
    const view = await executor.setMaxRuns(c.req.valid('param').workflow, c.req.valid('json').maxRuns);
    return c.json(view, 200);
  });

  app.openapi(resetMaxRuns, async (c) => {
    await executor.resetMaxRuns(c.req.valid('param').workflow);
    return c.body(null, 204);
  });

  app.openapi(setPoolSize, async (c) => {
    const view = await executor.setPoolSize(c.req.valid('param').pool, c.req.valid('json').size);
    return c.json(view, 200);
  });

  app.openapi(resetPoolSize, async (c) => {
    await executor.resetPoolSize(c.req.valid('param').pool);
    return c.body(null, 204);
  });
}
