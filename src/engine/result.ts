import type { SerializedError } from '../model/errors.js';
import type { RunStatus, StepStatus } from '../store/types.js';

/** One step's outcome inside a run. */
export interface NodeResult {
  nodeId: string;
  status: StepStatus;
  success: boolean;
  output: unknown;
  error: SerializedError | undefined;
  /** Attempts started (retries + 1; 0 for a cache hit or a skipped step). */
  attempts: number;
  /** Milliseconds from the first attempt's start to the step's end. */
  duration: number;
  startedAt: number | undefined;
  finishedAt: number | undefined;
  cacheHit: boolean;
  fallbackUsed: boolean;
  /** The children this step routed to (`ctx.route`), the data form of conditional next. */
  nextNodeId: string[] | undefined;
}

/** The run-wide context: the caller's global variables and every step's result. */
export interface WorkflowContext {
  workflowId: string;
  runId: string;
  globalVariables: Record<string, unknown>;
  nodeResults: Record<string, NodeResult>;
}

/** Passed back to `resume` to continue a paused run. */
export interface Checkpoint {
  runId: string;
  /** Steps completed when the run paused. */
  completedNodes: string[];
  at: number;
}

export interface RunMetrics {
  steps: number;
  succeeded: number;
  failed: number;
  skipped: number;
  cancelled: number;
  retries: number;
  cacheHits: number;
  /** Milliseconds per step. */
  nodeDurations: Record<string, number>;
}

export interface ExecutionResult<TOut = unknown> {
  runId: string;
  workflow: string;
  status: RunStatus;
  success: boolean;
  output: TOut | undefined;
  error: SerializedError | undefined;
  context: WorkflowContext;
  /** Milliseconds from the run's start to its end (or to now, for a paused run). */
  executionTime: number;
  /** Steps in the order they started. */
  nodeExecutionOrder: string[];
  metrics: RunMetrics;
  traceId: string | undefined;
  cancelled: boolean;
  paused: boolean;
  /** Outputs of the steps that succeeded (what a cancelled or failed run got done). */
  partialResults: Record<string, unknown>;
  /** Set on a paused result: what `resume` accepts. */
  checkpoint: Checkpoint | undefined;
  startTime: number | undefined;
  endTime: number | undefined;
}
