import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { InvalidDurationError } from '../../model/errors.js';
import type { ScheduleRecord } from '../../store/types.js';
import type { ServerDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import {
  BackfillBodySchema,
  CreateScheduleBodySchema,
  ScheduleDetailSchema,
  ScheduleIdParamsSchema,
  type ScheduleJson,
  ScheduleListSchema,
  ScheduleRunsSchema,
  ScheduleSchema,
  TriggeredRunSchema,
} from '../schemas.js';
import { errorResponses, jsonResponse } from './responses.js';

const listSchedules = createRoute({
  method: 'get',
  path: '/api/schedules',
  tags: ['schedules'],
  summary: 'Every schedule, with its next scheduled time and last run',
  responses: { 200: jsonResponse(ScheduleListSchema, 'The schedules, by id'), ...errorResponses(401) },
});

const createSchedule = createRoute({
  method: 'post',
  path: '/api/schedules',
  tags: ['schedules'],
  summary: 'Create a schedule of a registered workflow',
  description:
    'The cron expression (5 fields, or 6 with seconds first) is read in `timezone` (IANA, default UTC). 422 names ' +
    'the field that is wrong (cron, timezone, overlap, a duration, or an input the schema refuses); 409 when the id is taken.',
  request: { body: { required: true, content: { 'application/json': { schema: CreateScheduleBodySchema } } } },
  responses: {
    201: jsonResponse(ScheduleSchema, 'The schedule'),
    ...errorResponses(400, 401, 404, 409, 413, 415, 422),
  },
});

const getSchedule = createRoute({
  method: 'get',
  path: '/api/schedules/{id}',
  tags: ['schedules'],
  summary: 'One schedule and its latest ticks (the run each started, or why it did not)',
  request: { params: ScheduleIdParamsSchema },
  responses: { 200: jsonResponse(ScheduleDetailSchema, 'The schedule'), ...errorResponses(401, 404) },
});

const action = (path: string, summary: string) =>
  createRoute({
    method: 'post',
    path: `/api/schedules/{id}/${path}`,
    tags: ['schedules'],
    summary,
    request: { params: ScheduleIdParamsSchema },
    responses: { 200: jsonResponse(ScheduleSchema, 'The schedule'), ...errorResponses(401, 404) },
  });
const pauseSchedule = action('pause', 'Pause a schedule: no tick starts until it is resumed');
const resumeSchedule = action('resume', 'Resume a schedule; ticks missed while paused are recorded as skipped');

const triggerSchedule = createRoute({
  method: 'post',
  path: '/api/schedules/{id}/trigger',
  tags: ['schedules'],
  summary: 'Start a run of the schedule now (whatever its overlap policy, even paused)',
  request: { params: ScheduleIdParamsSchema },
  responses: { 201: jsonResponse(TriggeredRunSchema, 'The run started'), ...errorResponses(401, 404, 422) },
});

const backfillSchedule = createRoute({
  method: 'post',
  path: '/api/schedules/{id}/backfill',
  tags: ['schedules'],
  summary: 'Start a run for every scheduled time in [from, to] that has no tick recorded yet',
  request: {
    params: ScheduleIdParamsSchema,
    body: { required: true, content: { 'application/json': { schema: BackfillBodySchema } } },
  },
  responses: {
    201: jsonResponse(ScheduleRunsSchema, 'The runs started, oldest first'),
    ...errorResponses(400, 401, 404, 413, 415, 422),
  },
});

const deleteSchedule = createRoute({
  method: 'delete',
  path: '/api/schedules/{id}',
  tags: ['schedules'],
  summary: 'Delete a schedule and its tick records (the runs it started stay)',
  request: { params: ScheduleIdParamsSchema },
  responses: { 204: { description: 'Deleted' }, ...errorResponses(401, 404) },
});

export function scheduleView(s: ScheduleRecord): ScheduleJson {
  return {
    id: s.id,
    workflow: s.workflow,
    cron: s.cron,
    timezone: s.timezone,
    input: JSON.parse(s.input),
    overlap: s.overlap,
    catchupWindowMs: s.catchupWindowMs,
    jitterMs: s.jitterMs,
    paused: s.paused,
    nextFireAt: s.nextFireAt,
    lastScheduledAt: s.lastScheduledAt,
    lastRunId: s.lastRunId,
    buffered: s.buffered,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  };
}

const toMs = (t: number | string): number => (typeof t === 'number' ? t : Date.parse(t));

export function registerScheduleRoutes(app: OpenAPIHono, deps: ServerDeps): void {
  const executor = deps.executor;
  app.openapi(listSchedules, async (c) => {
    return c.json({ schedules: (await executor.listSchedules()).map(scheduleView) }, 200);
  });
  app.openapi(createSchedule, async (c) => {
    const body = c.req.valid('json');
    if (!executor.workflows.some((w) => w.name === body.workflow)) {
      throw new ApiError(
        404,
        'workflow_not_registered',
        `No workflow "${body.workflow}" is registered with this server. Schedule one of: ${
          executor.workflows.map((w) => w.name).join(', ') || '(none)'
        }.`,
      );
    }
    try {
      return c.json(scheduleView(await executor.createSchedule(body)), 201);
    } catch (error) {
      // A duration in a request is the request's fault.
      if (error instanceof InvalidDurationError) throw new ApiError(422, error.code, error.message);
      throw error;
    }
  });
  app.openapi(getSchedule, async (c) => {
    const { id } = c.req.valid('param');
    const schedule = await executor.getSchedule(id);
    const ticks = await executor.scheduleTicks(id, 50);
    return c.json(
      {
        ...scheduleView(schedule),
        ticks: ticks.map((t) => ({
          scheduledAt: t.scheduledAt,
          status: t.status,
          reason: t.reason,
          runId: t.runId,
          source: t.source,
          at: t.at,
        })),
      },
      200,
    );
  });
  app.openapi(pauseSchedule, async (c) =>
    c.json(scheduleView(await executor.pauseSchedule(c.req.valid('param').id)), 200),
  );
  app.openapi(resumeSchedule, async (c) =>
    c.json(scheduleView(await executor.resumeSchedule(c.req.valid('param').id)), 200),
  );
  app.openapi(triggerSchedule, async (c) => {
    const handle = await executor.triggerSchedule(c.req.valid('param').id);
    return c.json({ runId: handle.runId }, 201);
  });
  app.openapi(backfillSchedule, async (c) => {
    const { id } = c.req.valid('param');
    const { from, to } = c.req.valid('json');
    const handles = await executor.backfillSchedule(id, toMs(from), toMs(to));
    return c.json({ runIds: handles.map((h) => h.runId) }, 201);
  });
  app.openapi(deleteSchedule, async (c) => {
    await executor.deleteSchedule(c.req.valid('param').id);
    return c.body(null, 204);
  });
}
