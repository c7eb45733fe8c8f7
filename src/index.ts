export type { CallbackHandler } from './engine/callbacks.js';
export { CallbackManager } from './engine/callbacks.js';
export { type Clock, type ClockTimer, systemClock } from './engine/clock.js';
export { ConcurrencyLimitError } from './engine/concurrency.js';
export { DEFAULT_CONFIG, type ExecutionConfig } from './engine/config.js';
export type { StartOptions } from './engine/engine.js';
export type { ForkOptions } from './engine/forking.js';
export type { ProvidedInput, SendEventOptions, SentEvent } from './engine/inbox.js';
export type { RateLimitCounts } from './engine/rateLimits.js';
export type { Checkpoint, ExecutionResult, NodeResult, RunMetrics, WorkflowContext } from './engine/result.js';
export type { ProgressUpdate, StepProgressValue } from './engine/stepProgress.js';
export type { LimitsView, MaxRunsKeyUsage, MaxRunsView, PoolView } from './executor/limitViews.js';
export type { ExecutorOptions } from './executor/options.js';
export { type PruneOptions, type PruneResult, pruneStore } from './executor/pruning.js';
export type { RateLimitChange, RateLimitKeyUsage, RateLimitView } from './executor/rateLimitViews.js';
export type { RetentionOptions } from './executor/retention.js';
export type { CreateScheduleOptions } from './executor/schedules.js';
export { type StartWorkerOptions, startWorker } from './executor/startWorker.js';
export type { StreamChunkView, StreamReadOptions } from './executor/stepStream.js';
export { type RunHandle, WorkflowExecutor } from './executor/workflowExecutor.js';
export type {
  ChildHandle,
  ChildOutcome,
  EventWaitOptions,
  InputWaitOptions,
  JoinPolicy,
  QuorumResult,
  RouteDecision,
  SleepOptions,
  SpawnOptions,
  StepContext,
  WaitSpec,
} from './model/context.js';
export type { Duration } from './model/durations.js';
export {
  BraidError,
  ChildWorkflowError,
  CycleError,
  DuplicateStepError,
  DuplicateWorkflowError,
  ExecutorClosedError,
  ForkVersionMismatchError,
  IdempotencyConflictError,
  InputNotAwaitedError,
  InvalidConfigError,
  InvalidCronError,
  InvalidDeadlineError,
  InvalidDurationError,
  InvalidEventError,
  InvalidForkOutputsError,
  InvalidInputError,
  InvalidInputValueError,
  InvalidJoinError,
  InvalidLimitError,
  InvalidPriorityError,
  InvalidPruneOptionError,
  InvalidRateLimitError,
  InvalidRouteError,
  InvalidScheduleError,
  InvalidStateError,
  InvalidStepNameError,
  InvalidStreamNameError,
  InvalidTimezoneError,
  InvalidWaitError,
  InvalidWorkflowError,
  LeaseLostError,
  MaxRunsNotDefinedError,
  MigrationFilesError,
  MissingStepFunctionError,
  NonRetryableError,
  NotSerializableError,
  PoolNotFoundError,
  RateLimitedError,
  RemoteError,
  RunCancelledError,
  RunEndedElsewhereError,
  RunNotEndedError,
  RunNotFoundError,
  RunTakenOverError,
  RunTimeoutError,
  ScheduleChangedError,
  ScheduleExistsError,
  ScheduleNotFoundError,
  type SerializedError,
  SpawnError,
  StepEndedError,
  StepFailedError,
  StepNotFoundError,
  StepTimeoutError,
  StoreCommitError,
  StoreConnectionError,
  StoreLockedError,
  StoreMigrationError,
  StoreMigrationRequiredError,
  StoreOpenError,
  type StoreOpenProblem,
  StoreVersionError,
  StreamLimitError,
  UnknownForkStepError,
  UnknownParentError,
  UnknownPoolError,
  WorkflowNotRegisteredError,
} from './model/errors.js';
export { MAX_PRIORITY, MIN_PRIORITY, OLDEST_EVERY } from './model/priority.js';
export type { RateLimitOptions } from './model/rateLimit.js';
export type { PruneStatus, RetentionDurations } from './model/retention.js';
export {
  OVERLAP_POLICIES,
  type OverlapPolicy,
  Schedule,
  type ScheduleInfo,
  type ScheduleOptions,
  schedule,
} from './model/schedule.js';
export type {
  BackoffOptions,
  CacheOptions,
  DebounceOptions,
  StepOptions,
  WorkflowOptions,
} from './model/workflow.js';
export { defineWorkflow, Workflow, workflow } from './model/workflow.js';
export { type ExecutorMetrics, MetricsCollector } from './observe/metrics.js';
export * from './store/index.js';
export { MemoryStore } from './store/memory/memoryStore.js';
export { PostgresStore, type PostgresStoreOptions } from './store/postgres/index.js';
export { SqliteStore, type SqliteStoreOptions } from './store/sqlite/sqliteStore.js';
export { ManualClock } from './testing/manualClock.js';
export type { WorkerOptions } from './worker/clusterMember.js';
