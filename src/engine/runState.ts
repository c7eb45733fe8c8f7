import type { SerializedError } from '../model/errors.js';
import type { StepDefinition, Workflow } from '../model/workflow.js';
import type { Span } from '../observe/tracing.js';
import type { RunRecord, StepRecord } from '../store/types.js';
import type { ChildRegistry } from './children.js';
import type { ExecutionResult } from './result.js';

/** What the engine precomputes once per registered workflow. */
export interface WorkflowPlan {
  workflow: Workflow<any, any, any>;
  children: ReadonlyMap<string, readonly string[]>;
  roots: readonly string[];
  sinks: readonly string[];
}

/** A step of an active run: its stored record plus what only lives while the process does. */
export interface ActiveStep {
  def: StepDefinition;
  rec: StepRecord;
  /** The parsed output, kept so children read it without parsing JSON again. */
  value: unknown;
  /** Changes with every attempt; a settle carrying an old token is ignored. */
  token: number;
  controller: AbortController | undefined;
  /** Timer for the attempt's timeout or the pending retry. */
  timer: number | undefined;
  holdsSlot: boolean;
  holdsPool: boolean;
  /** With a cluster: the step's slot of its pool in the database (being acquired, or held). */
  poolHold: 'acquiring' | 'held' | undefined;
  /** The semaphores in the database this step holds now (its pool, the cluster step limit). */
  clusterHolds: string[];
  /** Waiting for a slot in the ready queue. */
  inQueue: boolean;
  /** Attempts cut short by a crash; they do not count against the retry budget. */
  interrupted: number;
  /** Children this step spawned; loaded from the store before a re-run. */
  children: ChildRegistry | undefined;
  span: Span | undefined;
}

export type Waiter = (result: ExecutionResult) => void;

export interface ActiveRun {
  rec: RunRecord;
  plan: WorkflowPlan;
  input: unknown;
  globals: Record<string, unknown>;
  steps: Map<string, ActiveStep>;
  /** Steps holding an execution slot right now. */
  running: number;
  /** Per-run cap on `running` (the workflow's maxParallelNodes). */
  maxParallel: number;
  startOrder: string[];
  completedSinceCheckpoint: number;
  retries: number;
  cacheHits: number;
  /** `execute()` callers: resolved when the run ends or pauses. */
  settleWaiters: Waiter[];
  /** `result()` callers: resolved when the run ends. */
  doneWaiters: Waiter[];
  deadlineTimer: number | undefined;
  span: Span | undefined;
  /** True while the run is loaded but waits for a concurrency slot of its workflow. */
  waitingForConcurrency: boolean;
  /** The error that ended the run, kept for the result. */
  error: SerializedError | undefined;
}
