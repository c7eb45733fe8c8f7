import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { durationMs } from '../../model/durations.js';
import type { DebounceOptions } from '../../model/workflow.js';
import type { ServerDeps } from '../deps.js';
import { DebouncePageSchema, DebouncesQuerySchema } from '../schemas.js';
import { errorResponses, jsonResponse } from './responses.js';

const listDebounces = createRoute({
  method: 'get',
  path: '/api/debounces',
  tags: ['runs'],
  summary: 'Debounced triggers waiting: one pending run per key, soonest due first',
  description:
    'Runs of workflows with `debounce` that have not started: each collapses the triggers of one key, carries ' +
    'the last one’s input, and starts at `dueAt` unless another trigger of the key comes first (see README ' +
    '"Debounce"). The run itself is `GET /api/runs/{runId}` (status `queued`; its `run_queued` events record ' +
    'each trigger).',
  request: { query: DebouncesQuerySchema },
  responses: {
    200: jsonResponse(DebouncePageSchema, 'The pending debounced runs'),
    ...errorResponses(400, 401),
  },
});

export function registerDebounceRoutes(app: OpenAPIHono, deps: ServerDeps): void {
  app.openapi(listDebounces, async (c) => {
    const { workflow, limit } = c.req.valid('query');
    const pending = await deps.executor.store.listDebounces({
      ...(workflow === undefined ? {} : { workflow }),
      ...(limit === undefined ? {} : { limit }),
    });
    const rules = new Map(deps.executor.workflows.map((w) => [w.name, w.options.debounce]));
    const debounces = pending.map((p) => {
      const { windowMs, maxWaitMs } = debounceTimes(rules.get(p.workflow), p.workflow);
      const maxWaitAt = maxWaitMs === null ? null : p.firstAt + maxWaitMs;
      return { ...p, input: JSON.parse(p.input) as unknown, windowMs, maxWaitAt };
    });
    return c.json({ debounces }, 200);
  });
}

/** The definition's window and maxWait (checked when the workflow was defined), null when unknown here. */
function debounceTimes(
  options: DebounceOptions | undefined,
  workflow: string,
): { windowMs: number | null; maxWaitMs: number | null } {
  if (!options) return { windowMs: null, maxWaitMs: null };
  return {
    windowMs: durationMs(options.window, `The debounce window of workflow "${workflow}"`),
    maxWaitMs:
      options.maxWait === undefined
        ? null
        : durationMs(options.maxWait, `The debounce maxWait of workflow "${workflow}"`),
  };
}
