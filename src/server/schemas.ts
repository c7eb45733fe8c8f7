/**
 * The zod schemas of the HTTP API. Requests are validated with them and the OpenAPI document is
 * generated from them, so the document cannot drift from what the server accepts and returns.
 * Every timestamp is epoch milliseconds (a number), in requests' responses and in events alike.
 */
import { z } from '@hono/zod-openapi';
import { PRUNE_STATUSES } from '../model/retention.js';
import {
  EVENT_TYPES,
  RUN_STATUSES,
  type RunStatus,
  SCHEDULE_OVERLAPS,
  SCHEDULE_SKIP_REASONS,
  SCHEDULE_TICK_STATUSES,
  STEP_STATUSES,
  WAIT_KINDS,
  WAIT_STATUSES,
} from '../store/types.js';

// ------------------------------------------------------------------------------------------------
// Shared pieces

const EpochMs = z.number().int().openapi({ description: 'Epoch milliseconds', example: 1767225600000 });
const NullableEpochMs = EpochMs.nullable();

export const RunStatusSchema = z.enum(RUN_STATUSES).openapi('RunStatus');
export const StepStatusSchema = z.enum(STEP_STATUSES).openapi('StepStatus');
export const EventTypeSchema = z.enum(EVENT_TYPES).openapi('EventType');
export const WaitKindSchema = z.enum(WAIT_KINDS).openapi('WaitKind');
export const WaitStatusSchema = z.enum(WAIT_STATUSES).openapi('WaitStatus');

export const SerializedErrorSchema = z
  .object({
    name: z.string(),
    message: z.string(),
    code: z.string().optional(),
    stack: z.string().optional(),
    cause: z.unknown().optional().openapi({ description: 'The error this one wraps, in the same shape' }),
  })
  .openapi('SerializedError');

export const ErrorResponseSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'run_not_found' }),
      message: z.string(),
      issues: z
        .array(
          z.object({
            path: z.array(z.union([z.string(), z.number()])),
            message: z.string(),
            code: z.string().optional(),
          }),
        )
        .optional()
        .openapi({ description: 'What is wrong with each field, for validation failures' }),
    }),
  })
  .openapi('Error');

export const StatusCountsSchema = z
  .object(
    Object.fromEntries(RUN_STATUSES.map((s) => [s, z.number().int().optional()])) as Record<
      RunStatus,
      z.ZodOptional<z.ZodNumber>
    >,
  )
  .openapi('StatusCounts', { description: 'Number of runs in each status (statuses with none are left out)' });

// ------------------------------------------------------------------------------------------------
// Records

export const RunSchema = z
  .object({
    id: z.string(),
    workflow: z.string(),
    version: z.string(),
    status: RunStatusSchema,
    input: z.unknown(),
    output: z.unknown().openapi({ description: 'Set when the run succeeded; null otherwise' }),
    error: SerializedErrorSchema.nullable(),
    globals: z.record(z.string(), z.unknown()),
    idempotencyKey: z.string().nullable(),
    parentRunId: z.string().nullable(),
    parentStep: z.string().nullable(),
    spawnKey: z.string().nullable(),
    rootRunId: z.string(),
    concurrencyKey: z.string().nullable(),
    replayOf: z.string().nullable(),
    createdAt: EpochMs,
    startedAt: NullableEpochMs,
    finishedAt: NullableEpochMs,
    deadlineAt: NullableEpochMs,
    pausedAt: NullableEpochMs.openapi({ description: 'When a paused run paused; null unless paused' }),
    durationMs: z
      .number()
      .nullable()
      .openapi({
        description:
          'finishedAt - startedAt; for a paused run pausedAt - startedAt (it does not grow while paused); ' +
          'for any other unfinished run, the time since it started',
      }),
    schedule: z
      .object({ id: z.string(), scheduledAt: EpochMs, previousScheduledAt: NullableEpochMs })
      .optional()
      .openapi({ description: "Only on a run a schedule started: the tick's scheduled time and the one before" }),
    priority: z
      .number()
      .int()
      .openapi({ description: 'Who goes first for a slot: higher first, then arrival (-100 to 100, 0 by default)' }),
  })
  .openapi('Run');
export type RunJson = z.infer<typeof RunSchema>;

export const StepSchema = z
  .object({
    name: z.string(),
    status: StepStatusSchema,
    parents: z.array(z.string()).openapi({ description: 'From the registered definition; empty if unknown' }),
    attempts: z.number().int(),
    output: z.unknown(),
    error: SerializedErrorSchema.nullable(),
    startedAt: NullableEpochMs,
    finishedAt: NullableEpochMs,
    durationMs: z.number().nullable(),
    nextAttemptAt: NullableEpochMs.openapi({ description: 'When a retry is due' }),
    route: z.array(z.string()).nullable().openapi({ description: 'The children this step routed to, if it routed' }),
    cacheHit: z.boolean(),
    fallbackUsed: z.boolean(),
    reusedFrom: z.string().nullable().optional().openapi({
      description: "A fork's step that was not run: the run whose outcome it reused (absent or null otherwise)",
    }),
  })
  .openapi('Step');
export type StepJson = z.infer<typeof StepSchema>;

export const EventSchema = z
  .object({
    seq: z.number().int().openapi({ description: 'Global, increasing; the SSE id' }),
    runId: z.string(),
    step: z.string().nullable(),
    type: EventTypeSchema,
    at: EpochMs,
    attempt: z.number().int().nullable(),
    data: z.unknown().openapi({ description: 'Small JSON payload (error, retry delay, ...), or null' }),
  })
  .openapi('Event');
export type EventJson = z.infer<typeof EventSchema>;

export const ATTEMPT_OUTCOMES = ['running', 'succeeded', 'failed', 'cancelled', 'interrupted'] as const;
export const AttemptSchema = z
  .object({
    step: z.string(),
    attempt: z.number().int(),
    startedAt: EpochMs,
    finishedAt: NullableEpochMs,
    durationMs: z.number().nullable(),
    outcome: z.enum(ATTEMPT_OUTCOMES).openapi({
      description: '`interrupted`: the process stopped during the attempt and the step was started again',
    }),
    willRetry: z.boolean(),
    error: SerializedErrorSchema.nullable(),
  })
  .openapi('Attempt');
export type AttemptJson = z.infer<typeof AttemptSchema>;

export const InputRequestSchema = z
  .object({
    payload: z.unknown().openapi({ description: 'What to show the person (the `payload` the step gave), or null' }),
    schema: z.record(z.string(), z.unknown()).nullable().openapi({
      description: "JSON Schema of the value, when the step's schema library provides one; null otherwise",
    }),
  })
  .openapi('InputRequest');

export const WaitSchema = z
  .object({
    step: z.string(),
    key: z.string().openapi({
      description:
        'The wait within its step: `sleep#0`, `sleep:<name>`, `event:<name>#0`, `input:<name>#0`, `first#0/<label>`',
      example: 'input:approve#0',
    }),
    group: z.string().openapi({ description: 'Waits of one `waitForFirst` call share it: the first settled wins' }),
    kind: WaitKindSchema,
    status: WaitStatusSchema,
    name: z.string().nullable().openapi({ description: 'event: the event name; input: the input name; sleep: null' }),
    dueAt: NullableEpochMs.openapi({
      description: 'sleep: when it ends; event and input: when it times out (null: never)',
    }),
    eventKey: z.string().nullable().openapi({ description: 'event: only an event sent with this key matches' }),
    match: z
      .record(z.string(), z.unknown())
      .nullable()
      .openapi({ description: 'event: payload fields that must be equal (dotted paths reach into objects)' }),
    request: InputRequestSchema.nullable().openapi({ description: 'input: what the person is asked; null otherwise' }),
    value: z.unknown().openapi({
      description:
        'Once resolved, what resolved it: the event (`{ name, key, payload, seq, at }`) or the input value; null before',
    }),
    createdAt: EpochMs,
    resolvedAt: NullableEpochMs,
  })
  .openapi('Wait', { description: "A step's durable wait: a sleep, an event or a person's input" });
export type WaitJson = z.infer<typeof WaitSchema>;

export const ForkOriginSchema = z
  .object({
    runId: z.string().openapi({ description: 'The run this one was forked from' }),
    step: z.string().openapi({ description: 'The step it was forked from: it and every step after it ran again' }),
    reusedSteps: z.array(z.string()).openapi({ description: "Steps that reused the original's outcome, not run" }),
    overriddenSteps: z
      .array(z.string())
      .openapi({ description: 'Reused steps given a new output in the fork request' }),
  })
  .openapi('ForkOrigin');

export const ForkSummarySchema = z
  .object({ runId: z.string(), step: z.string(), createdAt: EpochMs })
  .openapi('ForkSummary');

export const StepProgressSchema = z
  .object({
    value: z.unknown().openapi({ description: 'What the step reported: any JSON' }),
    at: EpochMs,
  })
  .openapi('StepProgress', { description: "A step's latest `ctx.progress` value (ephemeral, not stored)" });
export type StepProgressJson = z.infer<typeof StepProgressSchema>;

export const RunDetailSchema = z
  .object({
    run: RunSchema,
    steps: z.array(StepSchema).openapi({ description: 'In definition order when the workflow is registered' }),
    waits: z
      .array(WaitSchema)
      .openapi({ description: "The run's waits, pending and settled, oldest first (a re-run step's are kept)" }),
    events: z.array(EventSchema),
    attempts: z.array(AttemptSchema).openapi({ description: 'Every step attempt, derived from the events' }),
    children: z.object({ total: z.number().int(), counts: StatusCountsSchema }),
    parent: z.object({ runId: z.string(), step: z.string().nullable() }).nullable(),
    replayOf: z.string().nullable(),
    forkedFrom: ForkOriginSchema.nullable().optional().openapi({
      description: 'Set when the run is a fork (`POST /api/runs/{id}/fork`): the run and step it came from',
    }),
    forks: z
      .array(ForkSummarySchema)
      .optional()
      .openapi({ description: 'The runs forked from this one, oldest first' }),
    progress: z.record(z.string(), StepProgressSchema).optional().openapi({
      description:
        'The latest `ctx.progress` of each step that reported one, while the run lives (ephemeral: from the process serving the API, which runs the step; absent or {} elsewhere)',
    }),
  })
  .openapi('RunDetail');
export type RunDetailJson = z.infer<typeof RunDetailSchema>;

export const RunPageSchema = z
  .object({
    runs: z.array(RunSchema),
    nextCursor: z.string().nullable().openapi({ description: 'Pass as `cursor` for the next page; null on the last' }),
  })
  .openapi('RunPage');

export const ChildrenPageSchema = z
  .object({
    runs: z.array(RunSchema),
    nextCursor: z.string().nullable(),
    total: z.number().int().openapi({ description: 'All children of the run (of the step, with `step`)' }),
    counts: StatusCountsSchema,
  })
  .openapi('ChildrenPage');

export const ExecutionSummarySchema = z
  .object({
    runId: z.string(),
    status: RunStatusSchema,
    success: z.boolean(),
    output: z.unknown(),
    error: SerializedErrorSchema.nullable(),
    executionTime: z.number().openapi({ description: 'Milliseconds' }),
    nodeExecutionOrder: z.array(z.string()),
    partialResults: z.record(z.string(), z.unknown()),
  })
  .openapi('ExecutionSummary');
export type ExecutionSummaryJson = z.infer<typeof ExecutionSummarySchema>;

export const StartedRunSchema = z
  .object({
    runId: z.string(),
    result: ExecutionSummarySchema.optional().openapi({ description: 'With `?wait=true`: the finished run' }),
  })
  .openapi('StartedRun');

export const InboxEventSchema = z
  .object({
    seq: z.number().int().openapi({ description: "The event's place in the inbox" }),
    name: z.string(),
    key: z.string().nullable(),
    payload: z.unknown(),
    idempotencyKey: z.string().nullable(),
    createdAt: EpochMs,
  })
  .openapi('InboxEvent');
export type InboxEventJson = z.infer<typeof InboxEventSchema>;

export const InboxPageSchema = z.object({ events: z.array(InboxEventSchema) }).openapi('InboxPage');

export const SentEventSchema = z
  .object({
    seq: z.number().int().openapi({ description: "The event's place in the inbox (the first one's, for a duplicate)" }),
    duplicate: z
      .boolean()
      .openapi({ description: 'An event with this idempotency key was recorded before: nothing was delivered again' }),
    delivered: z.number().int().openapi({ description: 'How many waiting steps it resolved' }),
    started: z
      .array(z.object({ workflow: z.string(), runId: z.string() }))
      .openapi({ description: 'Runs of the workflows this event triggers (`on: { event }`)' }),
  })
  .openapi('SentEvent');

export const ProvidedInputSchema = z
  .object({
    runId: z.string(),
    name: z.string(),
    key: z.string().openapi({ description: 'The wait it resolved', example: 'input:approve#0' }),
  })
  .openapi('ProvidedInput');

export const RunActionResultSchema = z
  .object({ runId: z.string(), status: RunStatusSchema })
  .openapi('RunActionResult');

export const ReplayResultSchema = z
  .object({ runId: z.string().openapi({ description: 'The new run' }), replayOf: z.string() })
  .openapi('ReplayResult');

export const WorkflowStepShapeSchema = z
  .object({
    name: z.string(),
    parents: z.array(z.string()),
    routes: z.array(z.string()),
    pool: z.string().nullable(),
    retries: z.number().int().nullable(),
    timeoutSeconds: z.number().nullable(),
    cache: z.union([z.boolean(), z.object({ ttlSeconds: z.number().optional() })]).nullable(),
    hasFallback: z.boolean(),
    isConditional: z.boolean().openapi({ description: 'Has a `when` predicate' }),
    requireAllParents: z.boolean(),
  })
  .openapi('WorkflowStep');

export const WorkflowShapeSchema = z
  .object({
    name: z.string(),
    version: z.string(),
    description: z.string().nullable(),
    inputSchema: z
      .record(z.string(), z.unknown())
      .nullable()
      .openapi({ description: 'JSON Schema of the input, when the schema is zod; null otherwise' }),
    timeoutSeconds: z.number().nullable(),
    retries: z.number().int().nullable(),
    maxRuns: z.number().int().nullable(),
    maxParallelNodes: z.number().int().nullable(),
    steps: z.array(WorkflowStepShapeSchema),
  })
  .openapi('Workflow');
export type WorkflowShapeJson = z.infer<typeof WorkflowShapeSchema>;

/** Liveness only, for anyone: nothing about the store (its path or URL) to callers without a token. */
export const HealthSchema = z.object({ ok: z.literal(true) }).openapi('Health');

// ------------------------------------------------------------------------------------------------
// Requests

export const RunIdParamsSchema = z.object({
  id: z
    .string()
    .min(1)
    .openapi({ param: { name: 'id', in: 'path' }, example: 'run_01JZ...' }),
});

export const WorkflowNameParamsSchema = z.object({
  name: z
    .string()
    .min(1)
    .openapi({ param: { name: 'name', in: 'path' }, example: 'order' }),
});

/** A statuses filter: `status=failed,timed_out` or `status=failed&status=timed_out`. */
const StatusListQuery = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .transform((value, ctx): RunStatus[] | undefined => {
    if (value === undefined) return undefined;
    const names = (Array.isArray(value) ? value : [value])
      .flatMap((v) => v.split(','))
      .map((v) => v.trim())
      .filter(Boolean);
    const statuses: RunStatus[] = [];
    for (const name of names) {
      const parsed = RunStatusSchema.safeParse(name);
      if (!parsed.success) {
        ctx.addIssue({ code: 'custom', message: `unknown status "${name}"; use one of ${RUN_STATUSES.join(', ')}` });
        return z.NEVER;
      }
      statuses.push(parsed.data);
    }
    return statuses.length ? statuses : undefined;
  })
  .openapi({ type: 'string', description: 'One status or a comma-separated list', example: 'failed,timed_out' });

/** A time as ISO 8601 or epoch milliseconds, read as epoch milliseconds. */
const TimeQuery = z
  .string()
  .optional()
  .transform((value, ctx): number | undefined => {
    if (value === undefined || value === '') return undefined;
    const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
    if (!Number.isFinite(ms)) {
      ctx.addIssue({ code: 'custom', message: `"${value}" is not a time; use ISO 8601 or epoch milliseconds` });
      return z.NEVER;
    }
    return ms;
  })
  .openapi({ type: 'string', description: 'ISO 8601 or epoch milliseconds', example: '2026-01-01T00:00:00Z' });

const LimitQuery = z.coerce
  .number()
  .int()
  .min(1)
  .max(1000)
  .optional()
  .openapi({ type: 'integer', description: 'Page size, 1-1000 (default 50)' });

const CursorQuery = z.string().min(1).optional().openapi({ description: 'The `nextCursor` of the previous page' });

export const ListRunsQuerySchema = z.object({
  workflow: z.string().min(1).optional(),
  status: StatusListQuery,
  parentRunId: z.string().min(1).optional(),
  rootRunId: z.string().min(1).optional(),
  topLevel: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => (v === undefined ? undefined : v === 'true'))
    .openapi({ type: 'string', enum: ['true', 'false'], description: 'Only runs no other run spawned' }),
  since: TimeQuery.openapi({ description: 'createdAt >= since (ISO 8601 or epoch ms)' }),
  until: TimeQuery.openapi({ description: 'createdAt < until (ISO 8601 or epoch ms)' }),
  limit: LimitQuery,
  cursor: CursorQuery,
  order: z.enum(['asc', 'desc']).optional().openapi({ description: 'By creation time; default desc (newest first)' }),
});

export const ListChildrenQuerySchema = z.object({
  step: z.string().min(1).optional().openapi({ description: 'Only the children spawned by this step' }),
  status: StatusListQuery,
  limit: LimitQuery,
  cursor: CursorQuery,
  order: z.enum(['asc', 'desc']).optional().openapi({ description: 'Default asc: spawn order' }),
});

const BooleanQuery = z
  .enum(['true', 'false', '1', '0'])
  .optional()
  .transform((v) => v === 'true' || v === '1')
  .openapi({ type: 'string', enum: ['true', 'false'] });

export const StartRunQuerySchema = z.object({
  wait: BooleanQuery.openapi({ description: 'Wait until the run ends and return its result' }),
});

export const StartRunBodySchema = z
  .object({
    input: z.unknown().openapi({ description: "The run's input, checked against the workflow's schema" }),
    idempotencyKey: z
      .string()
      .min(1)
      .max(512)
      .optional()
      .openapi({ description: 'A run already started with this key is returned instead of a new one' }),
    globals: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({ description: "The run's global variables (ctx.globals)" }),
    priority: z.number().int().min(-100).max(100).optional().openapi({
      description: "Who goes first for a slot: higher first, then arrival. Default: the workflow's, else 0",
    }),
  })
  .openapi('StartRunRequest');

export const CancelRunBodySchema = z.object({ reason: z.string().max(1000).optional() }).openapi('CancelRunRequest');

/** The most characters of an event name (the engine refuses longer ones too). */
export const MAX_EVENT_NAME_CHARS = 200;

export const SendEventBodySchema = z
  .object({
    name: z.string().min(1).max(MAX_EVENT_NAME_CHARS).openapi({ example: 'order.paid' }),
    payload: z.unknown().optional().openapi({ description: 'Any JSON; null when left out' }),
    key: z
      .string()
      .min(1)
      .max(512)
      .optional()
      .openapi({ description: 'Waiters that match on a key (`waitForEvent(name, { match: key })`) get only it' }),
    idempotencyKey: z
      .string()
      .min(1)
      .max(512)
      .optional()
      .openapi({ description: 'One event per key, however often it is sent: later sends deliver nothing' }),
  })
  .openapi('SendEventRequest');

export const ProvideInputBodySchema = z
  .object({
    value: z
      .unknown()
      .nonoptional({ error: 'is required (send `"value": null` for null)' })
      .openapi({ description: "The value, checked against the input's JSON Schema (null is a value)" }),
  })
  .openapi('ProvideInputRequest');

export const InputParamsSchema = z.object({
  id: RunIdParamsSchema.shape.id,
  name: z
    .string()
    .min(1)
    .openapi({ param: { name: 'name', in: 'path' }, example: 'approve', description: 'The input the run waits for' }),
});

export const EventsQuerySchema = z.object({
  runId: z.string().min(1).optional().openapi({ description: 'Stream: only this run and its descendants' }),
  after: z.coerce
    .number()
    .int()
    .min(0)
    .optional()
    .openapi({ type: 'integer', description: 'Stream: replay events with seq > after first (Last-Event-ID wins)' }),
  name: z.string().min(1).optional().openapi({ description: 'Inbox (JSON): only events of this name' }),
  limit: LimitQuery.openapi({
    type: 'integer',
    description: 'Inbox (JSON): how many, newest first, 1-1000 (default 50)',
  }),
});

export const LastEventIdHeaderSchema = z.object({
  'last-event-id': z
    .string()
    .regex(/^\d+$/, 'must be the seq of an event (a whole number)')
    // Past 2^53 - 1 a seq no longer converts exactly: 99999999999999999999 would skip every event.
    .refine((id) => Number.isSafeInteger(Number(id)), `must be at most ${Number.MAX_SAFE_INTEGER}`)
    .optional()
    .openapi({
      param: { name: 'last-event-id', in: 'header' },
      description: 'The seq of the last event received (sent by EventSource on reconnect)',
    }),
});

export const ForkRunBodySchema = z
  .object({
    from: z.string().min(1).max(1000).openapi({ description: 'The step to fork from', example: 'summarise' }),
    input: z.unknown().optional().openapi({
      description: "The new run's input (checked against the workflow's schema); the original's when left out",
    }),
    outputs: z.record(z.string(), z.unknown()).optional().openapi({
      description: 'Outputs to use in place of the original ones, by step (only steps the fork reuses)',
    }),
    version: z
      .string()
      .optional()
      .openapi({ description: 'The workflow version the fork must run (the registered one; 409 otherwise)' }),
  })
  .openapi('ForkRunRequest');

export const ForkResultSchema = z
  .object({
    runId: z.string().openapi({ description: 'The new run' }),
    forkedFrom: z.object({ runId: z.string(), step: z.string() }),
  })
  .openapi('ForkResult');

// ------------------------------------------------------------------------------------------------
// Step output streams (ctx.emit) and progress (ctx.progress)

export const StepParamsSchema = z.object({
  id: z
    .string()
    .min(1)
    .openapi({ param: { name: 'id', in: 'path' }, example: 'run_01JZ...' }),
  step: z
    .string()
    .min(1)
    .openapi({ param: { name: 'step', in: 'path' }, example: 'write' }),
});

const StreamNameQuery = z
  .string()
  .min(1)
  .max(128, 'must be at most 128 characters (a stream name is 1-128 characters)')
  .optional();

const AfterSeqQuery = z.coerce
  .number()
  .int()
  .min(0)
  .max(Number.MAX_SAFE_INTEGER)
  .optional()
  .openapi({ type: 'integer', description: 'Only chunks with seq > after (Last-Event-ID wins over it)' });

export const StepStreamQuerySchema = z.object({
  name: StreamNameQuery.openapi({ description: "The stream (default 'default'); `*` for every stream of the step" }),
  after: AfterSeqQuery,
  attempts: z.enum(['all', 'final']).optional().openapi({
    description:
      "`all` (default): every attempt's chunks, each with its attempt. `final`: the step's last attempt's only",
  }),
});

export const ChunksQuerySchema = z.object({
  name: StreamNameQuery.openapi({ description: 'One stream; omitted or `*`: every stream of the step' }),
  after: AfterSeqQuery,
  attempt: z.coerce
    .number()
    .int()
    .min(1)
    .optional()
    .openapi({ type: 'integer', description: "Only this attempt's chunks" }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(10_000)
    .optional()
    .openapi({ type: 'integer', description: 'How many, 1-10,000 (default 1,000)' }),
});

export const StreamChunkSchema = z
  .object({
    seq: z.number().int().openapi({ description: "Orders the run's chunks; resume after it" }),
    step: z.string(),
    stream: z.string(),
    attempt: z.number().int().openapi({ description: 'The attempt of the step that emitted it (1 for the first)' }),
    data: z.unknown().openapi({ description: 'What the step emitted: any JSON' }),
    at: EpochMs,
  })
  .openapi('StreamChunk', { description: "One chunk of a step's output stream (`ctx.emit`)" });
export type StreamChunkJson = z.infer<typeof StreamChunkSchema>;

export const ChunkPageSchema = z
  .object({
    chunks: z.array(StreamChunkSchema),
    nextAfter: z
      .number()
      .int()
      .nullable()
      .openapi({ description: 'Pass as `after` for the next page; null when this page was not full' }),
  })
  .openapi('ChunkPage');

export const PruneBodySchema = z
  .object({
    olderThan: z
      .union([z.number(), z.string().max(64)])
      .optional()
      .openapi({
        description:
          'Only run trees whose root finished at least this long ago: milliseconds, or text such as "30d". ' +
          'Default 0: every finished tree.',
        example: '30d',
      }),
    workflow: z.string().min(1).max(512).optional().openapi({ description: 'Only roots of this workflow' }),
    status: z
      .union([z.enum(PRUNE_STATUSES), z.array(z.enum(PRUNE_STATUSES)).min(1)])
      .optional()
      .openapi({ description: 'Only roots that ended so (`failed` includes timed out). Default: all three' }),
    dryRun: z.boolean().optional().openapi({ description: 'Count what would be deleted; delete nothing' }),
    batchSize: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .optional()
      .openapi({ description: 'Run trees per transaction. Default 500' }),
  })
  .strict()
  .openapi('PruneRequest');

export const PruneResultSchema = z
  .object({
    dryRun: z.boolean(),
    roots: z.number().int().openapi({ description: 'Run trees, counted by their root' }),
    runs: z.number().int().openapi({ description: 'Runs, roots and the runs they spawned' }),
    steps: z.number().int(),
    events: z.number().int(),
    waits: z.number().int(),
    cache: z.number().int().openapi({ description: 'Expired cache entries' }),
    batches: z.number().int().openapi({ description: 'Transactions it took (0 for a dry run)' }),
  })
  .openapi('PruneResult');

// ------------------------------------------------------------------------------------------------
// Schedules

export const ScheduleOverlapSchema = z.enum(SCHEDULE_OVERLAPS).openapi('ScheduleOverlap');

export const ScheduleSchema = z
  .object({
    id: z.string(),
    workflow: z.string(),
    cron: z.string(),
    timezone: z.string(),
    input: z.unknown(),
    overlap: ScheduleOverlapSchema,
    catchupWindowMs: z.number(),
    jitterMs: z.number(),
    paused: z.boolean(),
    nextFireAt: NullableEpochMs.openapi({ description: 'The next scheduled time (null: never again)' }),
    lastScheduledAt: NullableEpochMs.openapi({ description: 'The scheduled time of the last tick handled' }),
    lastRunId: z.string().nullable().openapi({ description: 'The run the schedule started last' }),
    buffered: z.array(EpochMs).openapi({ description: 'Scheduled times of ticks waiting for the running run to end' }),
    createdAt: EpochMs,
    updatedAt: EpochMs,
  })
  .openapi('Schedule');
export type ScheduleJson = z.infer<typeof ScheduleSchema>;

export const ScheduleTickSchema = z
  .object({
    scheduledAt: EpochMs,
    status: z.enum(SCHEDULE_TICK_STATUSES),
    reason: z.enum(SCHEDULE_SKIP_REASONS).nullable().openapi({ description: 'Why a skipped tick was skipped' }),
    runId: z.string().nullable(),
    source: z.enum(['cron', 'trigger', 'backfill']),
    at: EpochMs.openapi({ description: 'When it was recorded' }),
  })
  .openapi('ScheduleTick');

export const ScheduleDetailSchema = ScheduleSchema.extend({
  ticks: z.array(ScheduleTickSchema).openapi({ description: 'The latest ticks, newest first' }),
}).openapi('ScheduleDetail');

export const ScheduleListSchema = z.object({ schedules: z.array(ScheduleSchema) }).openapi('ScheduleList');

export const ScheduleIdParamsSchema = z.object({
  id: z
    .string()
    .min(1)
    .max(128)
    .openapi({ param: { name: 'id', in: 'path' }, example: 'nightly-report' }),
});

const DurationInput = z.union([z.number().min(0), z.string().min(1).max(64)]);

export const CreateScheduleBodySchema = z
  .object({
    workflow: z.string().min(1).max(512).openapi({ description: 'A workflow registered with the server' }),
    id: z.string().min(1).max(128).optional().openapi({ description: "Default: the workflow's name" }),
    cron: z.string().min(1).max(256).openapi({ example: '0 9 * * 1-5' }),
    timezone: z.string().min(1).max(128).optional().openapi({ description: 'IANA time zone; default UTC' }),
    input: z.unknown().optional(),
    overlap: ScheduleOverlapSchema.optional(),
    catchupWindow: DurationInput.optional().openapi({ description: 'Milliseconds or text ("10m"); default 1 minute' }),
    jitter: DurationInput.optional().openapi({ description: 'Milliseconds or text ("30s"); default 0' }),
    paused: z.boolean().optional(),
  })
  .strict()
  .openapi('CreateScheduleBody');

export const BackfillBodySchema = z
  .object({
    from: z.union([EpochMs, z.string().datetime({ offset: true })]).openapi({ description: 'Epoch ms or ISO time' }),
    to: z.union([EpochMs, z.string().datetime({ offset: true })]).openapi({ description: 'Epoch ms or ISO time' }),
  })
  .strict()
  .openapi('BackfillBody');

export const ScheduleRunsSchema = z
  .object({ runIds: z.array(z.string()) })
  .openapi('ScheduleRuns', { description: 'The runs started' });

export const TriggeredRunSchema = z.object({ runId: z.string() }).openapi('TriggeredRun');

// Debounce

export const PendingDebounceSchema = z
  .object({
    workflow: z.string(),
    key: z.string().openapi({ description: "The debounce key (the workflow's `debounce.key` of the input)" }),
    runId: z.string().openapi({ description: 'The run that will carry the triggers: what `start()` returned' }),
    input: z.unknown().openapi({ description: 'The last trigger’s input: the one that will run' }),
    triggers: z
      .number()
      .int()
      .openapi({ description: 'Triggers collapsed so far; each later one superseded the earlier' }),
    firstAt: EpochMs,
    lastAt: EpochMs,
    dueAt: EpochMs.openapi({ description: 'When the run starts unless another trigger comes first' }),
    windowMs: z.number().nullable().openapi({
      description:
        'The quiet time a trigger moves `dueAt` by (null when the workflow is not registered on this server)',
    }),
    maxWaitAt: NullableEpochMs.openapi({
      description: 'The latest it starts, however many triggers follow: firstAt + maxWait (null without maxWait)',
    }),
  })
  .openapi('PendingDebounce');
export type PendingDebounceJson = z.infer<typeof PendingDebounceSchema>;

export const DebouncesQuerySchema = z.object({
  workflow: z.string().min(1).optional().openapi({ description: 'Only this workflow’s' }),
  limit: z.coerce.number().int().min(1).max(1000).optional().openapi({ description: 'Default 100, at most 1000' }),
});

export const DebouncePageSchema = z.object({ debounces: z.array(PendingDebounceSchema) }).openapi('PendingDebounces');

const RateLimitKeySchema = z.object({
  key: z.string().openapi({ description: 'The key ("" for a limit without a key function)' }),
  used: z.number().int().openapi({ description: 'Starts counted in the current period' }),
  queued: z.number().int().openapi({ description: 'Starts granted for later than now (waiting under queue)' }),
  nextStartAt: z.number().openapi({ description: 'When a new start of this key would be granted (epoch ms)' }),
});

export const RateLimitSchema = z
  .object({
    name: z.string(),
    limit: z.number().int().openapi({ description: 'Starts per period in force (the setting, else the definition)' }),
    periodMs: z.number(),
    burst: z.number().int(),
    onLimit: z.enum(['queue', 'drop']),
    defined: z.object({ limit: z.number().int(), periodMs: z.number() }).nullable(),
    setting: z.object({ limit: z.number().int(), periodMs: z.number(), updatedAt: z.number() }).nullable(),
    appliesTo: z.array(z.string()).openapi({ description: 'Workflow names and "workflow/step" names' }),
    keys: z.array(RateLimitKeySchema).openapi({ description: 'Keys busy now' }),
    counts: z
      .object({ started: z.number().int(), queued: z.number().int(), dropped: z.number().int() })
      .openapi({ description: 'Since this server process started' }),
  })
  .openapi('RateLimit');

export const SetRateLimitBodySchema = z
  .object({
    name: z.string().min(1).max(512).openapi({ description: "The limit's name", example: 'billing/charge' }),
    limit: z.number().openapi({ description: 'Starts per period, a whole number >= 1', example: 10 }),
    period: z
      .union([z.number(), z.string().max(64)])
      .openapi({ description: 'Milliseconds, or text such as "1s", "1m"', example: '1s' }),
  })
  .strict()
  .openapi('SetRateLimitBody');

export const RateLimitNameQuerySchema = z.object({
  name: z.string().min(1).max(512).openapi({ description: "The limit's name" }),
});

const MaxRunsKeySchema = z.object({
  key: z.string().openapi({ description: 'The concurrency key ("" when the workflow has no concurrencyKey)' }),
  active: z.number().int().openapi({ description: 'Runs started and not finished: each holds a slot' }),
  queued: z.number().int().openapi({ description: 'Runs waiting for a slot' }),
});

const LimitSettingSchema = z
  .object({ value: z.number().int(), updatedAt: z.number() })
  .nullable()
  .openapi({ description: 'The run-time setting in force, if any' });

export const MaxRunsLimitSchema = z
  .object({
    workflow: z.string(),
    maxRuns: z
      .number()
      .int()
      .openapi({ description: 'Runs per concurrency key in force (the setting, else the definition)' }),
    defined: z.number().int().openapi({ description: "The definition's maxRuns" }),
    setting: LimitSettingSchema,
    onConcurrencyLimit: z.enum(['queue', 'cancel-newest', 'cancel-oldest']),
    keys: z.array(MaxRunsKeySchema).openapi({ description: 'Keys with unfinished runs' }),
  })
  .openapi('MaxRunsLimit');

export const PoolLimitSchema = z
  .object({
    pool: z.string(),
    size: z.number().int().openapi({ description: 'Size in force (the setting, else ExecutorOptions.pools)' }),
    defined: z.number().int().openapi({ description: 'The size in ExecutorOptions.pools' }),
    setting: LimitSettingSchema,
    busy: z.number().int().openapi({ description: 'Steps holding a unit (every worker on PostgreSQL)' }),
    waiting: z.number().int().openapi({ description: 'Steps waiting for a unit' }),
  })
  .openapi('PoolLimit');

export const LimitsSchema = z
  .object({ maxRuns: z.array(MaxRunsLimitSchema), pools: z.array(PoolLimitSchema) })
  .openapi('Limits');

export const SetMaxRunsBodySchema = z
  .object({
    maxRuns: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .openapi({ description: 'Runs per concurrency key, a whole number >= 1', example: 5 }),
  })
  .strict()
  .openapi('SetMaxRunsBody');

export const SetPoolSizeBodySchema = z
  .object({
    size: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .openapi({ description: 'Steps holding the pool at once, a whole number >= 1', example: 4 }),
  })
  .strict()
  .openapi('SetPoolSizeBody');

export const LimitWorkflowParamSchema = z.object({
  workflow: z
    .string()
    .min(1)
    .max(512)
    .openapi({ param: { name: 'workflow', in: 'path' }, description: 'A registered workflow with maxRuns' }),
});

export const LimitPoolParamSchema = z.object({
  pool: z
    .string()
    .min(1)
    .max(512)
    .openapi({ param: { name: 'pool', in: 'path' }, description: 'A pool of ExecutorOptions.pools' }),
});

export type LimitsJson = z.infer<typeof LimitsSchema>;
