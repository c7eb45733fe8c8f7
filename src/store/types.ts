/**
 * The records Braid stores and the batch the engine commits. Payloads (inputs, outputs, errors,
 * globals) are JSON text, serialised once by the engine and stored as written.
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
export const TERMINAL_RUN_STATUSES: ReadonlySet<RunStatus> = new Set(['succeeded', 'failed', 'cancelled', 'timed_out']);
export const isTerminalRun = (status: RunStatus): boolean => TERMINAL_RUN_STATUSES.has(status);

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
export const isTerminalStep = (status: StepStatus): boolean =>
  status === 'succeeded' || status === 'failed' || status === 'skipped' || status === 'cancelled';

export interface RunRecord {
  id: string;
  workflow: string;
  version: string;
  status: RunStatus;
  /** JSON text. */
  input: string;
  /** JSON text, set when succeeded. */
  output: string | null;
  /** JSON text of a SerializedError, set when failed / cancelled / timed out. */
  error: string | null;
  /** JSON text of the run's global variables (WorkflowContext.globalVariables). */
  globals: string;
  idempotencyKey: string | null;
  parentRunId: string | null;
  parentStep: string | null;
  spawnKey: string | null;
  rootRunId: string;
  concurrencyKey: string | null;
  /** The run this one replays, if any. */
  replayOf: string | null;
  /** Epoch milliseconds. */
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** Run deadline (epoch ms); survives restarts. */
  deadlineAt: number | null;
  /** Number of completed steps when the globals were last checkpointed. */
  checkpointSeq: number;
  /**
   * Set while the run is asleep out of memory (it only waits for a time): when it must be looked
   * at again (its earliest wake-up, or its deadline). Null for a run in memory or finished.
   */
  wakeAt: number | null;
  /** When the run was paused (epoch ms): resume moves its deadline on by the time spent paused. */
  pausedAt: number | null;
  /**
   * Who goes first when runs and steps wait for a slot: higher first, then arrival (with the
   * anti-starvation turn of PriorityQueue). A whole number from MIN_PRIORITY to MAX_PRIORITY; 0 by default.
   */
  priority: number;
}

/** The fields of a run that change after it is created. */
export type RunUpdate = Pick<
  RunRecord,
  | 'id'
  | 'status'
  | 'output'
  | 'error'
  | 'startedAt'
  | 'finishedAt'
  | 'deadlineAt'
  | 'globals'
  | 'checkpointSeq'
  | 'wakeAt'
  | 'pausedAt'
>;

export interface StepRecord {
  runId: string;
  name: string;
  status: StepStatus;
  /** Attempts started so far. */
  attempts: number;
  output: string | null;
  error: string | null;
  startedAt: number | null;
  finishedAt: number | null;
  /** When a retry is due (epoch ms): a stored time, so the backoff survives a restart. */
  nextAttemptAt: number | null;
  /** JSON array of the children this step routed to, when it routed. */
  route: string | null;
  cacheHit: boolean;
  fallbackUsed: boolean;
}

export const EVENT_TYPES = [
  'run_created',
  'run_started',
  'run_queued',
  'run_succeeded',
  'run_failed',
  'run_cancelled',
  'run_timed_out',
  'run_paused',
  'run_resumed',
  'step_started',
  'step_succeeded',
  'step_failed',
  'step_retrying',
  'step_skipped',
  'step_cancelled',
  'step_cache_hit',
  'step_fallback',
  'step_waiting',
  'step_woken',
  'run_waiting',
  'run_woken',
  'child_spawned',
  'event_received',
  'step_reused',
  'step_throttled',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface EventRecord {
  /** Global, increasing sequence assigned by the store on commit. */
  seq?: number;
  runId: string;
  step: string | null;
  type: EventType;
  at: number;
  attempt: number | null;
  /** Small JSON text (error, delay, child id...). Outputs are not copied into events. */
  data: string | null;
}

export interface CacheEntry {
  key: string;
  /** JSON text of the cached output. */
  output: string;
  createdAt: number;
  /** Epoch ms; null = never expires. */
  expiresAt: number | null;
}

export const WAIT_KINDS = ['sleep', 'event', 'input'] as const;
/** What a waiting step waits for: a time, an event, or a value from a person. */
export type WaitKind = (typeof WAIT_KINDS)[number];
export const WAIT_STATUSES = ['pending', 'resolved', 'timed_out', 'cancelled'] as const;
/** A wait is resolved once, by whichever of its event, its time, its timeout or a cancel comes first. */
export type WaitStatus = (typeof WAIT_STATUSES)[number];

/**
 * One durable wait of a step: a row, not a timer or a promise. Its identity is (run, step, key),
 * where the key names the wait call within the step (`sleep#0`, `event:order.paid#0`,
 * `input:approval#0`, or a name the step gave), so a step that runs again finds its finished waits
 * and does not wait again. Waits of one call (`waitForFirst`) share a `group`: the first one
 * resolved wins and the others are cancelled with it.
 */
export interface WaitRecord {
  runId: string;
  step: string;
  key: string;
  group: string;
  kind: WaitKind;
  status: WaitStatus;
  /** sleep: when it is over; event and input: when it times out (null: never). Epoch ms. */
  dueAt: number | null;
  /** event: the name waited for. input: the input's name. */
  name: string | null;
  /** event: only an event sent with this key matches (null: any key). */
  eventKey: string | null;
  /** event: JSON object of payload fields that must be equal (dotted paths allowed), or null. */
  match: string | null;
  /** event: events received at or after this time count (the inbox lookback). */
  since: number | null;
  /**
   * event: only events after this inbox seq count: the step's earlier waits for the same event name
   * took the ones up to it, so a step waiting for `tick` three times gets three events.
   */
  afterSeq: number | null;
  /** input: JSON `{ payload, schema }`: what to show the person, and the value's JSON Schema if known. */
  request: string | null;
  /** What resolved it, as JSON: the event (`{ name, key, payload, seq, at }`) or the input value. */
  value: string | null;
  createdAt: number;
  resolvedAt: number | null;
}

/** An event in the durable inbox: what `sendEvent` records, and what waiters match against. */
export interface InboxEvent {
  /** Assigned by the store. */
  seq?: number;
  name: string;
  key: string | null;
  /** JSON text. */
  payload: string;
  /** One event per key, however often it is sent. */
  idempotencyKey: string | null;
  createdAt: number;
}

/** A value given for a pending input of a run, to be checked and recorded in a commit. */
export interface InputResolution {
  runId: string;
  /** The input's name: the oldest pending input of that name is resolved. */
  name: string;
  /** JSON text. */
  value: string;
  at: number;
}

/** Everything one group commit writes, in one transaction. */
export interface WriteBatch {
  newRuns: RunRecord[];
  runUpdates: RunUpdate[];
  /** Upserts by (runId, name). */
  steps: StepRecord[];
  events: EventRecord[];
  cache: CacheEntry[];
  /**
   * Scale-out stores: ids of `newRuns` this process runs itself (the store records it as their
   * owner); every other new run waits for a worker to claim it. Single-process stores ignore it.
   */
  localRuns?: ReadonlySet<string>;
  /** Scale-out stores: actions for runs another process owns (cancel a child, say). */
  controls?: RunControl[];
  /**
   * Upserts by (runId, step, key). A wait the store already holds as resolved, timed out or
   * cancelled is not changed again (its first outcome stands; see CommitResult.settledWaits).
   * A new pending event wait is matched against the inbox in the same transaction.
   */
  waits?: WaitRecord[];
  /** Events to record; each is matched against the pending event waits in the same transaction. */
  inbox?: InboxEvent[];
  /** Values for pending inputs (`provideInput`), resolved with a compare-and-set. */
  inputs?: InputResolution[];
  /**
   * Chunks steps emitted (`ctx.emit`), appended in batch order; the store assigns each its `seq`.
   * Chunks of a run whose writes are refused or stale are dropped with the rest of its writes.
   */
  chunks?: StreamChunk[];
  /**
   * Links of forked runs (`executor.fork`), each written with its run (in `newRuns`) and the run's
   * reused steps (in `steps`): a fork lands whole or not at all. A link whose run was not inserted
   * is not written either.
   */
  forks?: ForkRecord[];
  /**
   * The committing engine's clock reading (epoch ms). Stores without a clock of their own (memory,
   * SQLite) stamp the waits this batch settles with it and wake their runs at it, so an engine on a
   * virtual clock (ManualClock) sees them due in its own time. Absent (a batch written by a tool,
   * not an engine): the system clock. PostgreSQL uses the database's clock instead.
   */
  at?: number;
  /**
   * Schedule changes whose ticks start runs of this batch (a tick, its schedule's advance and its
   * run land in one transaction). Each compare-and-sets its schedule's version: when one no longer
   * matches, the store throws ScheduleChangedError and nothing of the batch lands.
   */
  schedules?: ScheduleWrite[];
}

/**
 * A run started from a step of another run (`executor.fork`): the link both ways (a run's forks
 * are the records whose `forkedFrom` names it) and which of its steps were reused, not run.
 */
export interface ForkRecord {
  /** The new run. */
  runId: string;
  /** The run it was forked from. */
  forkedFrom: string;
  /** The step it was forked from: that step and every step downstream of it ran again. */
  fromStep: string;
  /** Steps whose outcome (output, or skipped) was copied from the original, never executed. */
  reusedSteps: string[];
  /** Those of `reusedSteps` whose output the fork was given (`outputs`) instead of the original's. */
  overriddenSteps: string[];
  createdAt: number;
}

/** A cancel, pause or resume for a run that may be owned by another process. */
export interface RunControl {
  runId: string;
  action: 'cancel' | 'pause' | 'resume';
  reason: string | null;
}

/** Whether a wait still waits. */
export const isPendingWait = (w: WaitRecord): boolean => w.status === 'pending';

export function emptyBatch(): WriteBatch {
  return { newRuns: [], runUpdates: [], steps: [], events: [], cache: [] };
}

export function isEmptyBatch(b: WriteBatch): boolean {
  return (
    !b.newRuns.length &&
    !b.runUpdates.length &&
    !b.steps.length &&
    !b.events.length &&
    !b.cache.length &&
    !b.controls?.length &&
    !b.waits?.length &&
    !b.inbox?.length &&
    !b.inputs?.length &&
    !b.forks?.length &&
    !b.chunks?.length &&
    !b.schedules?.length
  );
}

export interface RunFilter {
  workflow?: string;
  status?: RunStatus | readonly RunStatus[];
  parentRunId?: string;
  parentStep?: string;
  rootRunId?: string;
  /** Only runs no other run spawned (parentRunId is null). */
  topLevel?: boolean;
  /** createdAt >= since (epoch ms). */
  since?: number;
  /** createdAt < until (epoch ms). */
  until?: number;
  /** Page size; default 50, at most 1000. */
  limit?: number;
  /** Opaque cursor from a previous page. */
  cursor?: string;
  /** Default 'desc' (newest first); 'asc' lists oldest first (children in spawn order). */
  order?: 'asc' | 'desc';
}

export interface RunPage {
  runs: RunRecord[];
  nextCursor: string | null;
}

export type StatusCounts = Partial<Record<RunStatus, number>>;

/** A child as its parent step needs it on resume: identity and outcome, not the whole record. */
/** A run's stored steps and waits: what bringing it back into memory needs besides its row. */
export interface StoredRunState {
  steps: StepRecord[];
  waits: WaitRecord[];
}

/** One step of one run, by name. */
export interface StepRef {
  runId: string;
  step: string;
}

export interface ChildLink {
  spawnKey: string;
  runId: string;
  workflow: string;
  status: RunStatus;
  output: string | null;
  error: string | null;
}

/**
 * One chunk of a step's durable output stream (`ctx.emit`). Its identity is (run, step, stream,
 * attempt, seq): `seq` is assigned by the store on commit, increasing across every stream (like an
 * event's), so it orders a stream's chunks and is the resume point of a reader (SSE Last-Event-ID).
 * Each attempt of a step writes its own chunks; a retry does not overwrite the failed attempt's.
 */
export interface StreamChunk {
  /** Assigned by the store. */
  seq?: number;
  runId: string;
  step: string;
  /** The stream's name within the step ('default' unless the step named one). */
  stream: string;
  /** The attempt of the step that emitted it (1 for the first). */
  attempt: number;
  /** JSON text of the chunk. */
  data: string;
  at: number;
}

/** Which chunks to read: of a run (or one step of it), after a seq, optionally of one stream or attempt. */
export interface ChunkQuery {
  runId: string;
  /** One step's chunks; undefined: every step of the run. */
  step?: string;
  /** One stream's chunks; undefined: every stream of the step. */
  stream?: string;
  /** One attempt's chunks; undefined: every attempt. */
  attempt?: number;
  /** Only chunks with seq > afterSeq. Default 0. */
  afterSeq?: number;
  /** Page size; default 1000, at most 10,000. */
  limit?: number;
}
/**
 * Which finished run trees one prune batch removes. A tree is chosen by its root (a run nothing
 * spawned): the root ended with one of `statuses` before `finishedBefore`, and no run of its tree
 * is unfinished. Children are never chosen on their own: they go with their root.
 */
export interface PruneSelection {
  /** Ended statuses only (succeeded, failed, cancelled, timed_out). */
  statuses: readonly RunStatus[];
  /** Epoch ms: roots that finished before this time. */
  finishedBefore: number;
  /** Only roots of this workflow (null: any). */
  workflow: string | null;
  /** Leave roots of these workflows (they have a retention of their own). */
  excludeWorkflows: readonly string[];
  /** At most this many roots (with their trees) in this batch, in one transaction. */
  limit: number;
}

/** What a prune removed (or, for a dry run, would remove). */
export interface PruneCounts {
  /** Run trees, counted by their root. */
  roots: number;
  /** Runs, roots and descendants. */
  runs: number;
  steps: number;
  events: number;
  waits: number;
  /** Expired cache entries. */
  cache: number;
}

export const emptyPruneCounts = (): PruneCounts => ({ roots: 0, runs: 0, steps: 0, events: 0, waits: 0, cache: 0 });

/** What one event-log compaction pass did. */
export interface CompactionCounts {
  /** Runs whose event log was over the cap. */
  runs: number;
  /** Superseded events deleted. */
  events: number;
}

/**
 * The event types compaction may drop from a long run's log: progress whose facts the store keeps
 * elsewhere (each wait is a row of its own, each child a run with its parent link). Attempt events
 * (started, retrying, failed, succeeded...) are never dropped, so a step's attempts are rebuilt
 * from the log as before; nor is the first or the last event of a step (or of the run's own), so
 * steps keep the order in which they first appeared.
 */
export const COMPACTABLE_EVENT_TYPES: readonly EventType[] = [
  'step_waiting',
  'step_woken',
  'run_waiting',
  'run_woken',
  'child_spawned',
  'event_received',
];

export const SCHEDULE_OVERLAPS = ['skip', 'buffer_one', 'buffer_all', 'cancel_other', 'allow_all'] as const;
export type ScheduleOverlap = (typeof SCHEDULE_OVERLAPS)[number];

/**
 * A schedule as stored: its definition and where it stands. `nextFireAt` is the next SCHEDULED
 * time (computed from the previous scheduled time, never from when a tick ran, so it never
 * drifts); `dueAt` is when this schedule next needs attention (that tick plus its jitter, or
 * sooner while ticks are buffered). Every change bumps `version`: writes compare-and-set on it.
 */
export interface ScheduleRecord {
  id: string;
  workflow: string;
  cron: string;
  timezone: string;
  /** JSON text. */
  input: string;
  overlap: ScheduleOverlap;
  catchupWindowMs: number;
  jitterMs: number;
  paused: boolean;
  /** Epoch ms; null when the expression never fires again. */
  nextFireAt: number | null;
  /** Epoch ms: when a process should look at it next (null: never, e.g. paused with nothing buffered). */
  dueAt: number | null;
  /** The scheduled time of the last cron tick handled (run, skipped or buffered). */
  lastScheduledAt: number | null;
  /** The run the schedule started last (the one overlap policies look at). */
  lastRunId: string | null;
  /** Scheduled times of the ticks waiting for the running run to end (buffer_one / buffer_all), oldest first. */
  buffered: number[];
  /** Scale-out stores: the process handling it now, and until when (a lease). */
  claimedBy: string | null;
  claimedUntil: number | null;
  version: number;
  createdAt: number;
  updatedAt: number;
}

export const SCHEDULE_TICK_STATUSES = ['started', 'skipped', 'buffered'] as const;
export type ScheduleTickStatus = (typeof SCHEDULE_TICK_STATUSES)[number];
/** Why a tick was skipped. */
export const SCHEDULE_SKIP_REASONS = ['overlap', 'catchup_window', 'paused'] as const;
export type ScheduleSkipReason = (typeof SCHEDULE_SKIP_REASONS)[number];
/** What made a tick: the cron expression, `trigger` (run now) or `backfill`. */
export type ScheduleTickSource = 'cron' | 'trigger' | 'backfill';

/** One tick of a schedule, by (schedule, scheduled time): the run it started, or why it did not. */
export interface ScheduleTickRecord {
  scheduleId: string;
  scheduledAt: number;
  status: ScheduleTickStatus;
  reason: ScheduleSkipReason | null;
  runId: string | null;
  source: ScheduleTickSource;
  /** When it was recorded (epoch ms). */
  at: number;
}

/**
 * One change of a schedule: its new state and the ticks it recorded, written together with a
 * compare-and-set on the version the writer read (`expectedVersion`; null = create). A tick's
 * run, when it started one, is in the same batch (see WriteBatch.schedules).
 */
export interface ScheduleWrite {
  schedule: ScheduleRecord;
  expectedVersion: number | null;
  /** Upserts by (scheduleId, scheduledAt). */
  ticks: ScheduleTickRecord[];
}

/** What one claimDueSchedules took, and the time it judged them due by. */
export interface DueSchedules {
  schedules: ScheduleRecord[];
  /**
   * Epoch ms: the `now` the claim was given, or the database's clock on a store that
   * usesDatabaseClock, so the ticks it hands over are handled by the time that found them due.
   */
  now: number;
}

/**
 * One trigger of a debounced workflow (`debounce` on a workflow). Triggers with the same key collapse
 * into one run while it is pending: a run row in `queued` whose `wakeAt` (its due time) has not
 * come, and that no worker holds. The first trigger inserts `run` as is, due `min(window, maxWait)`
 * later; each later one gives the pending run its input (the last one wins) and moves the due time
 * to `min(now + window, firstAt + maxWait)`. When the due time comes, the run is woken like any run
 * asleep in the store (one scan timer; on PostgreSQL, the claim), so it starts exactly once. A
 * trigger after that starts a new pending run. Each trigger is recorded as a `run_queued` event of
 * the run (`{ reason: 'debounce', key, trigger }`): trigger n supersedes triggers 1..n-1.
 */
export interface DebounceTrigger {
  /** The run to insert if no run is pending for the key: status queued; its wakeAt is set by the store. */
  run: RunRecord;
  key: string;
  windowMs: number;
  /** null: no maximum (a steady stream of triggers postpones the run for as long as it lasts). */
  maxWaitMs: number | null;
  /** Epoch ms (single-process stores; PostgreSQL reads the database's clock). */
  now: number;
}

/** What a debounce trigger joined: the run that will carry it. */
export interface DebounceResult {
  runId: string;
  /** True when this trigger started a new pending run. */
  isNew: boolean;
  /** How many triggers the pending run has collapsed so far (this one included). */
  triggers: number;
  /** When the run is due to start (epoch ms), unless another trigger comes first. */
  dueAt: number;
}

/** A debounced run not started yet, with its key's trigger history (for the API). */
export interface PendingDebounce {
  workflow: string;
  key: string;
  runId: string;
  /** JSON text: the last trigger's input, the one that will run. */
  input: string;
  firstAt: number;
  lastAt: number;
  dueAt: number;
  triggers: number;
}

/** Whether a debounce's run is still pending at `now`: not started, not held, its due time not come. */
export const isPendingDebounceRun = (run: RunRecord | undefined, now: number): run is RunRecord =>
  run !== undefined && run.status === 'queued' && run.startedAt === null && run.wakeAt !== null && run.wakeAt > now;

/** A debounce without a maxWait, in SQL: far enough never to be the earlier bound (over 100,000 years). */
export const NO_MAX_WAIT = 2 ** 53 - 1 - 2 ** 52;

/** The due time of a pending run after a trigger at `now`. */
export const debounceDueAt = (firstAt: number, now: number, windowMs: number, maxWaitMs: number | null): number =>
  Math.min(now + windowMs, maxWaitMs === null ? Number.POSITIVE_INFINITY : firstAt + maxWaitMs);

/**
 * One start asked of a rate limit (a generic cell rate algorithm, see src/store/rateLimits.ts).
 * `limit` and `periodMs` are the definition's; a setting stored for `name` (setRateLimit) wins.
 */
export interface RateLimitRequest {
  /** The limit's name (shared by every workflow or step that names it). */
  name: string;
  /** The key the limit is counted per ('' when the limit has no key function). */
  key: string;
  limit: number;
  periodMs: number;
  /** Starts that may go back to back after an idle spell (1: evenly spaced, one per periodMs / limit). */
  burst: number;
  /** Epoch ms, by the engine's clock. */
  now: number;
  /** 'queue': reserve the earliest start, later than `now` if need be. 'drop': take a start only if one is free now. */
  onLimit: 'queue' | 'drop';
}

export interface RateLimitGrant {
  /** False only under 'drop', when no start was free: nothing was reserved. */
  granted: boolean;
  /** When the start may happen (granted), or when the next start would be free (refused). */
  startAt: number;
  /** The limit and period in force (the stored setting's, if one was set). */
  limit: number;
  periodMs: number;
}

/** A limit changed at run time; it overrides the definition's limit and period everywhere. */
export interface RateLimitSetting {
  name: string;
  limit: number;
  periodMs: number;
  updatedAt: number;
}

/** A limit's state for one key: its theoretical arrival time (when the next start is free, ignoring burst). */
export interface RateLimitState {
  name: string;
  key: string;
  tat: number;
}

/** What a stored limit setting changes: a workflow's `maxRuns` (per concurrency key), or a pool's size. */
export const LIMIT_KINDS = ['max_runs', 'pool'] as const;
export type LimitKind = (typeof LIMIT_KINDS)[number];

/**
 * A concurrency limit changed at run time (`executor.setMaxRuns`, `executor.setPoolSize`): it
 * overrides the value in code for every process sharing the store, until reset.
 */
export interface LimitSetting {
  kind: LimitKind;
  /** The workflow (max_runs) or the pool (pool). */
  name: string;
  value: number;
  updatedAt: number;
}

/** Unfinished runs of one concurrency key of a workflow with `maxRuns`. */
export interface KeyedRunCount {
  workflow: string;
  key: string;
  /** Started and not finished (running, waiting, or paused after starting): each holds a slot. */
  active: number;
  /** Waiting for a slot (queued, due now). */
  queued: number;
}
