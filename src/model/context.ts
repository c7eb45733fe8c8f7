import type { Duration } from './durations.js';
import type { SerializedError } from './errors.js';
import type { ScheduleInfo } from './scheduleInfo.js';
import type { StandardSchemaV1 } from './schema.js';

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

export interface SleepOptions {
  /** The wait's identity within the step (default: its order among the step's sleeps). */
  name?: string;
}

export interface EventWaitOptions {
  /**
   * Which events count: a string matches the key the event was sent with; an object matches
   * payload fields by value (dotted paths reach into objects: `{ 'order.id': 42 }`).
   */
  match?: string | Record<string, unknown>;
  /** Give up after this long: the call then resolves to null. */
  timeout?: Duration;
  /**
   * How far back the inbox counts when the wait begins. Default: every event since the run was
   * created, so an event that arrives before the step gets here is not lost. `0`: only new ones.
   */
  lookback?: Duration;
  /** The wait's identity within the step (default: its order among the step's waits for this event). */
  name?: string;
}

export interface InputWaitOptions<S extends StandardSchemaV1 | undefined = undefined> {
  /** Checks the value; its JSON Schema (when the library has one) shapes the dashboard's form. */
  schema?: S;
  /** Give up after this long: the call then resolves to null. */
  timeout?: Duration;
  /** What to show the person: any JSON (a question, the facts to decide on). */
  payload?: unknown;
}

/** One of the waits `waitForFirst` races. */
export type WaitSpec =
  | { sleep: Duration }
  | { sleepUntil: Date | number }
  | ({ event: string } & Omit<EventWaitOptions, 'timeout' | 'name'>)
  | ({ input: string } & Omit<InputWaitOptions<StandardSchemaV1 | undefined>, 'timeout'>);

/** The context every step function receives. */
export interface StepContext<TInput = unknown, TOutputs extends Record<string, unknown> = Record<string, unknown>> {
  /** The run's input, as parsed by the workflow's schema. */
  readonly input: TInput;
  readonly runId: string;
  /** The root of this run's tree (itself when it has no parent). */
  readonly rootRunId: string;
  readonly workflowName: string;
  readonly stepName: string;
  /**
   * In a run a schedule started: the schedule's id, the tick's scheduled time (not when the run
   * started) and the tick before it. Undefined in every other run.
   */
  readonly schedule: ScheduleInfo | undefined;
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
  /**
   * Waits durably: the deadline is stored, the step holds no slot meanwhile, and after a restart
   * (or on another worker) it wakes on time. A step that waits may run again from its start when
   * it wakes (after a restart, or when a long wait let its run leave memory); the waits it has
   * finished then return at once. Put side effects after the last wait, or make them idempotent.
   */
  sleep(duration: Duration, options?: SleepOptions): Promise<void>;
  /** Waits until a time (a Date or epoch ms), durably; see `sleep`. */
  sleepUntil(time: Date | number, options?: SleepOptions): Promise<void>;
  /**
   * Waits for an event sent with `executor.sendEvent(name, payload)` (or the API, or the CLI) and
   * resolves with its payload, or with null at the timeout. An event sent before the step got here
   * counts (see `lookback`). Each waiter gets an event once.
   */
  waitForEvent<T = unknown>(name: string, options?: EventWaitOptions): Promise<T | null>;
  /**
   * Asks a person for a value: the run shows `waiting` with the request until someone gives it
   * (`executor.provideInput`, the API, the CLI, the dashboard's form). Resolves with the value,
   * parsed by `schema`, or with null at the timeout. Inputs are keyed by name (and by occurrence,
   * when the same name is asked for again in a loop).
   */
  waitForInput<S extends StandardSchemaV1 | undefined = undefined>(
    name: string,
    options?: InputWaitOptions<S>,
  ): Promise<(S extends StandardSchemaV1 ? StandardSchemaV1.InferOutput<S> : unknown) | null>;
  /**
   * Appends a chunk (any JSON value: a token, a line, an object) to the step's durable output
   * stream, `'default'` unless a stream name comes first: `ctx.emit('log', line)`. Readers
   * (`handle.stream()`, the API's SSE, the dashboard) get the chunks as they commit, each with the
   * attempt that wrote it. Chunks ride the engine's group commit, so a burst of emits is a few
   * transactions, not one each. The promise resolves once the chunk is durable (await it when the
   * next thing you do depends on that; otherwise there is no need to). A value that is not JSON, a
   * bad stream name, or a stream past its bound (`streamMaxChunks`, `streamMaxBytes` per attempt)
   * throws at the call, before anything is written.
   */
  emit(chunk: unknown): Promise<void>;
  emit(stream: string, chunk: unknown): Promise<void>;
  /**
   * Reports how far the step has got (any JSON value: `{ done: 3, total: 10 }`, a percentage).
   * Ephemeral: not stored, only the latest value per step is kept, in this process, until the run
   * ends. The CLI's `--wait` view, the API's run view and the dashboard show it.
   */
  progress(value: unknown): void;
  /**
   * Races several waits; the first to finish wins and the others are cancelled. Resolves with the
   * winner's label and value (undefined for a sleep, the payload for an event, the value for an input).
   */
  waitForFirst<W extends Record<string, WaitSpec>>(waits: W): Promise<{ name: keyof W & string; value: unknown }>;
}

/** A fallback gets the step's context and the error of its last attempt. */
export type FallbackFn<TInput, TOutputs extends Record<string, unknown>, R> = (
  ctx: StepContext<TInput, TOutputs>,
  error: SerializedError,
) => R | Promise<R>;
