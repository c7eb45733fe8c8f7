import type { SerializedError } from './errors.js';

/** What a step returns to choose which of its children run: `return ctx.route('ship')`. */
export interface RouteDecision<T = unknown> {
  readonly __braidRoute: true;
  readonly targets: readonly string[];
  readonly value: T;
}

export function isRouteDecision(value: unknown): value is RouteDecision {
  try {
    return typeof value === 'object' && value !== null && (value as RouteDecision).__braidRoute === true;
  } catch {
    return false; // a value that cannot be read (a revoked Proxy) chose no route
  }
}

export interface SpawnOptions {
  /** The child's identity within this step. Default: a hash of the workflow name and input. */
  key?: string;
  /** Alias of `key`, for callers who think of it as the child run's idempotency key. */
  idempotencyKey?: string;
}

/** A spawned child run. Cheap: no promise or timer is held until you ask for `result()`. */
export interface ChildHandle<TOut = unknown> {
  readonly runId: string;
  readonly workflow: string;
  readonly key: string;
  /** Resolves with the child's output, rejects with ChildWorkflowError if it did not succeed. */
  result(): Promise<TOut>;
}

export type ChildOutcome<TOut = unknown> =
  | { status: 'succeeded'; runId: string; output: TOut }
  | { status: 'failed' | 'cancelled' | 'timed_out'; runId: string; error: SerializedError | undefined };

export type JoinPolicy = 'all' | 'any' | { atLeast: number };

/** What a join with an `'any'` or `{ atLeast }` policy returns: which children counted. */
export interface QuorumResult<TOut = unknown> {
  /** The successes that satisfied the policy, in the order they finished. */
  counted: Array<{ index: number; runId: string; output: TOut }>;
  /** Children that were still running when the policy was met, and were cancelled. */
  cancelled: string[];
  /** Children that failed before the policy was met. */
  failed: Array<{ index: number; runId: string; error: SerializedError | undefined }>;
}

/**
 * A workflow as a step that spawns it sees it: its name, and (for typing only) its input and
 * output. A `Workflow` is one; the context does not need the rest of it.
 */
export interface SpawnableWorkflow<TInput = any, TResult = any> {
  readonly name: string;
  readonly __input?: TInput;
  readonly __result?: TResult;
}

export type WorkflowInput<W> = W extends SpawnableWorkflow<infer I, any> ? I : never;
export type WorkflowOutput<W> = W extends SpawnableWorkflow<any, infer R> ? R : never;

/** The context every step function receives. */
export interface StepContext<TInput = unknown, TOutputs extends Record<string, unknown> = Record<string, unknown>> {
  /** The run's input, as parsed by the workflow's schema. */
  readonly input: TInput;
  readonly runId: string;
  /** The root of this run's tree (itself when it has no parent). */
  readonly rootRunId: string;
  readonly workflowName: string;
  readonly stepName: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** Fires when the step times out, the run is cancelled or times out, or the executor shuts down. */
  readonly signal: AbortSignal;
  /** The output of a parent step. */
  parent<K extends keyof TOutputs & string>(name: K): TOutputs[K];
  /** The run's global variables (the `WorkflowContext.globalVariables` given to `execute`). */
  readonly globals: Readonly<Record<string, unknown>>;
  /** Sets a global variable; later steps see it, and it is checkpointed with `enableCheckpoints`. */
  setGlobal(key: string, value: unknown): void;
  /** Chooses which children run; the others, and what only they lead to, end `skipped`. */
  route<T = null>(targets: string | readonly string[], value?: T): RouteDecision<T>;
  /** Starts a child run now; returns its handle at once. Idempotent by key or input hash. */
  spawnWorkflow<W extends SpawnableWorkflow>(
    workflow: W | string,
    input: WorkflowInput<W>,
    options?: SpawnOptions,
  ): ChildHandle<WorkflowOutput<W>>;
  /** Starts many children in one transaction. */
  spawnWorkflows<W extends SpawnableWorkflow>(
    children: ReadonlyArray<{ workflow: W | string; input: WorkflowInput<W>; options?: SpawnOptions }>,
  ): Array<ChildHandle<WorkflowOutput<W>>>;
  /** Waits for all children: their outputs in spawn order, or ChildWorkflowError for the first failure. */
  join<T>(handles: ReadonlyArray<ChildHandle<T>>): Promise<T[]>;
  join<T>(handles: ReadonlyArray<ChildHandle<T>>, options: { policy: 'all' }): Promise<T[]>;
  join<T>(
    handles: ReadonlyArray<ChildHandle<T>>,
    options: { policy: 'any' | { atLeast: number } },
  ): Promise<QuorumResult<T>>;
  /** Waits for all children and returns each one's outcome, failures included. */
  joinSettled<T>(handles: ReadonlyArray<ChildHandle<T>>): Promise<Array<ChildOutcome<T>>>;
}

/** A fallback gets the step's context and the error of its last attempt. */
export type FallbackFn<TInput, TOutputs extends Record<string, unknown>, R> = (
  ctx: StepContext<TInput, TOutputs>,
  error: SerializedError,
) => R | Promise<R>;
