import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { InvalidDurationError } from '../../model/errors.js';
import type { ServerDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { PruneBodySchema, PruneResultSchema } from '../schemas.js';
import { errorResponses, jsonResponse } from './responses.js';

const prune = createRoute({
  method: 'post',
  path: '/api/prune',
  tags: ['actions'],
  summary: 'Delete finished run trees (and expired cache entries), in batches; or count them with dryRun',
  description:
    'A run is deleted with its whole tree (the runs it spawned, their steps, events and waits), judged by its root: ' +
    'never a run that is not finished, never a child whose root still runs. Batches of `batchSize` trees, each one ' +
    'short transaction, with pauses between them so running workflows go on; the answer comes when all are done. ' +
    'With `dryRun: true`, the counts of what would be deleted, and nothing changes.',
  request: { body: { required: true, content: { 'application/json': { schema: PruneBodySchema } } } },
  responses: {
    200: jsonResponse(PruneResultSchema, 'What was deleted (or, for a dry run, would be)'),
    ...errorResponses(400, 401, 413, 415),
  },
});

export function registerPruneRoutes(app: OpenAPIHono, deps: ServerDeps): void {
  app.openapi(prune, async (c) => {
    const body = c.req.valid('json');
    try {
      return c.json(await deps.executor.prune(body), 200);
    } catch (error) {
      // A duration in a request is the request's fault (in a step's wait call it is the step's).
      if (error instanceof InvalidDurationError) throw new ApiError(400, error.code, error.message);
      throw error;
    }
  });
}
