export type { CallbackHandler } from './engine/callbacks.js';
export { CallbackManager } from './engine/callbacks.js';
export { ConcurrencyLimitError } from './engine/concurrency.js';
export { DEFAULT_CONFIG, type ExecutionConfig, type ExecutorOptions } from './engine/config.js';
export type { StartOptions } from './engine/engine.js';
export { type RunHandle, WorkflowExecutor } from './engine/executor.js';
export type { Checkpoint, ExecutionResult, NodeResult, RunMetrics, WorkflowContext } from './engine/result.js';
export type {
  ChildHandle,
  ChildOutcome,
  JoinPolicy,
  QuorumResult,
  RouteDecision,
  SpawnOptions,
  StepContext,
} from './model/context.js';
export {
  BraidError,
  ChildWorkflowError,
  CycleError,
  DuplicateStepError,
  ExecutorClosedError,
  InvalidInputError,
  InvalidRouteError,
  InvalidStateError,
  InvalidWorkflowError,
  MissingStepFunctionError,
  NonRetryableError,
  NotSerializableError,
  RemoteError,
  RunCancelledError,
  RunNotFoundError,
  RunTimeoutError,
  type SerializedError,
  SpawnError,
  StepFailedError,
  StepTimeoutError,
  StoreConnectionError,
  StoreLockedError,
  StoreMigrationRequiredError,
  StoreVersionError,
  UnknownParentError,
  WorkflowNotRegisteredError,
} from './model/errors.js';
export type { BackoffOptions, CacheOptions, StepOptions, WorkflowOptions } from './model/workflow.js';
export { defineWorkflow, Workflow, workflow } from './model/workflow.js';
export { type ExecutorMetrics, MetricsCollector } from './observe/metrics.js';
export * from './store/index.js';
export { PostgresStore, type PostgresStoreOptions } from './store/postgres/index.js';
export type { WorkerOptions } from './worker/clusterMember.js';
export { type StartWorkerOptions, startWorker } from './worker/startWorker.js';
