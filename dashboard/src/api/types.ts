/**
 * The JSON the Braid HTTP API sends, as the dashboard reads it. These mirror the zod schemas in
 * src/server/schemas.ts (the OpenAPI document at /openapi.json says the same); the dashboard keeps
 * its own copy because it talks to the server over HTTP only and is built separately;
 * test/server/dashboardTypes.test.ts holds the copy to the schemas at type-check time.
 * Every time is epoch milliseconds.
 */

export const RUN_STATUSES = [
  'queued',
  'running',
  'waiting',
  'paused',
  'succeeded',
  'failed',
  'cancelled',
  'timed_out',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const STEP_STATUSES = [
  'pending',
  'queued',
  'running',
  'waiting',
  'succeeded',
  'failed',
  'skipped',
  'cancelled',
] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

const TERMINAL_RUN_STATUSES: ReadonlySet<RunStatus> = new Set(['succeeded', 'failed', 'cancelled', 'timed_out']);
export const isTerminalRun = (status: RunStatus): boolean => TERMINAL_RUN_STATUSES.has(status);

export type StatusCounts = Partial<Record<RunStatus, number>>;

export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
  cause?: unknown;
}

export interface Run {
  id: string;
  workflow: string;
  version: string;
  status: RunStatus;
  input: unknown;
  output: unknown;
  error: SerializedError | null;
  globals: Record<string, unknown>;
  idempotencyKey: string | null;
  parentRunId: string | null;
  parentStep: string | null;
  spawnKey: string | null;
  rootRunId: string;
  concurrencyKey: string | null;
  replayOf: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  deadlineAt: number | null;
  /** When a paused run paused; null unless paused. */
  pausedAt: number | null;
  durationMs: number | null;
  /** Who goes first for a slot: higher first, then arrival (0 by default). */
  priority: number;
}

export interface Step {
  name: string;
  status: StepStatus;
  parents: string[];
  attempts: number;
  output: unknown;
  error: SerializedError | null;
  startedAt: number | null;
  finishedAt: number | null;
  durationMs: number | null;
  nextAttemptAt: number | null;
  route: string[] | null;
  cacheHit: boolean;
  fallbackUsed: boolean;
  /** A fork's step that was not run: the run whose outcome it reused. */
  reusedFrom?: string | null;
}

export interface BraidEvent {
  seq: number;
  runId: string;
  step: string | null;
  type: string;
  at: number;
  attempt: number | null;
  data: unknown;
}

export type AttemptOutcome = 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';

export interface Attempt {
  step: string;
  attempt: number;
  startedAt: number;
  finishedAt: number | null;
  durationMs: number | null;
  outcome: AttemptOutcome;
  willRetry: boolean;
  error: SerializedError | null;
}

export type WaitKind = 'sleep' | 'event' | 'input';
export type WaitStatus = 'pending' | 'resolved' | 'timed_out' | 'cancelled';

/** What a step that waits for a person asks: what to show, and the value's JSON Schema if known. */
export interface InputRequest {
  payload: unknown;
  schema: Record<string, unknown> | null;
}

/** A step's durable wait: a sleep, an event or a person's input. */
export interface Wait {
  step: string;
  /** The wait within its step: `sleep#0`, `event:<name>#0`, `input:<name>#0`, `first#0/<label>`. */
  key: string;
  /** Waits of one `waitForFirst` call share it. */
  group: string;
  kind: WaitKind;
  status: WaitStatus;
  /** event: the event name; input: the input name. */
  name: string | null;
  /** sleep: when it ends; event and input: when it times out (null: never). */
  dueAt: number | null;
  eventKey: string | null;
  match: Record<string, unknown> | null;
  request: InputRequest | null;
  /** What resolved it (the event, the value), once resolved. */
  value: unknown;
  createdAt: number;
  resolvedAt: number | null;
}

export interface RunDetail {
  run: Run;
  steps: Step[];
  /** Pending and settled, oldest first. */
  waits: Wait[];
  events: BraidEvent[];
  attempts: Attempt[];
  children: { total: number; counts: StatusCounts };
  parent: { runId: string; step: string | null } | null;
  replayOf: string | null;
  /** The latest `ctx.progress` of each step that reported one (ephemeral). */
  progress?: Record<string, StepProgress>;
  /** Set when the run is a fork: the run and step it came from. */
  forkedFrom?: ForkOrigin | null;
  /** The runs forked from this one, oldest first. */
  forks?: ForkSummary[];
}

export interface ForkOrigin {
  runId: string;
  step: string;
  reusedSteps: string[];
  overriddenSteps: string[];
}

export interface ForkSummary {
  runId: string;
  step: string;
  createdAt: number;
}

export interface RunPage {
  runs: Run[];
  nextCursor: string | null;
}

export interface ChildrenPage extends RunPage {
  total: number;
  counts: StatusCounts;
}

export interface WorkflowStepShape {
  name: string;
  parents: string[];
  routes: string[];
}

export interface WorkflowShape {
  name: string;
  version: string;
  description: string | null;
  steps: WorkflowStepShape[];
}

export interface ApiIssue {
  path: (string | number)[];
  message: string;
}

export interface ApiErrorBody {
  error: { code: string; message: string; issues?: ApiIssue[] };
}

/** What a step reported with `ctx.progress` (not stored: the latest value only). */
export interface StepProgress {
  value: unknown;
  at: number;
}

/** One chunk of a step's output stream (`ctx.emit`). */
export interface StreamChunk {
  seq: number;
  step: string;
  stream: string;
  attempt: number;
  data: unknown;
  at: number;
}

export type ScheduleOverlap = 'skip' | 'buffer_one' | 'buffer_all' | 'cancel_other' | 'allow_all';

/** A schedule as GET /api/schedules answers it. */
export interface Schedule {
  id: string;
  workflow: string;
  cron: string;
  timezone: string;
  input: unknown;
  overlap: ScheduleOverlap;
  catchupWindowMs: number;
  jitterMs: number;
  paused: boolean;
  nextFireAt: number | null;
  lastScheduledAt: number | null;
  lastRunId: string | null;
  buffered: number[];
  createdAt: number;
  updatedAt: number;
}

/** One tick of a schedule: the run it started, or why it did not. */
export interface ScheduleTick {
  scheduledAt: number;
  status: 'started' | 'skipped' | 'buffered';
  reason: 'overlap' | 'catchup_window' | 'paused' | null;
  runId: string | null;
  source: 'cron' | 'trigger' | 'backfill';
  at: number;
}

export interface ScheduleDetail extends Schedule {
  ticks: ScheduleTick[];
}

/** One pending debounced trigger as GET /api/debounces shows it. */
export interface PendingDebounce {
  workflow: string;
  key: string;
  /** The run that will carry the triggers. */
  runId: string;
  /** The last trigger's input: the one that will run. */
  input: unknown;
  /** Triggers collapsed so far: all but the last were superseded. */
  triggers: number;
  firstAt: number;
  lastAt: number;
  dueAt: number;
  windowMs: number | null;
  /** firstAt + maxWait: the latest it starts; null without maxWait. */
  maxWaitAt: number | null;
}

/** One rate limit as GET /api/rate-limits shows it. */
export interface RateLimitView {
  name: string;
  limit: number;
  periodMs: number;
  burst: number;
  onLimit: 'queue' | 'drop';
  defined: { limit: number; periodMs: number } | null;
  setting: { limit: number; periodMs: number; updatedAt: number } | null;
  appliesTo: string[];
  keys: Array<{ key: string; used: number; queued: number; nextStartAt: number }>;
  counts: { started: number; queued: number; dropped: number };
}

/** A workflow's maxRuns as GET /api/limits shows it. */
export interface MaxRunsView {
  workflow: string;
  maxRuns: number;
  defined: number;
  setting: { value: number; updatedAt: number } | null;
  onConcurrencyLimit: 'queue' | 'cancel-newest' | 'cancel-oldest';
  keys: Array<{ key: string; active: number; queued: number }>;
}

/** A resource pool as GET /api/limits shows it. */
export interface PoolView {
  pool: string;
  size: number;
  defined: number;
  setting: { value: number; updatedAt: number } | null;
  busy: number;
  waiting: number;
}

export interface LimitsView {
  maxRuns: MaxRunsView[];
  pools: PoolView[];
}
