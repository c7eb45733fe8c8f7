import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { FallbackFn, RouteDecision, StepContext } from './context.js';
import type { Duration } from './durations.js';
import { InvalidStepNameError, InvalidWorkflowError } from './errors.js';
import { validateGraph } from './graph.js';
import { type BackoffOptions, checkStepOptions, checkWorkflowOptions } from './options.js';
import type { RateLimitOptions } from './rateLimit.js';
import type { RetentionDurations } from './retention.js';

export type { BackoffOptions };

export interface CacheOptions {
  /** How long an entry stays valid. Default: no expiry. */
  ttlSeconds?: number;
}

/**
 * What a step's function or fallback contributes to the step's output: its resolved value, or the
 * value of the route it chose. A function that only throws returns `never` and contributes nothing
 * (without the `[R] extends [never]` check, `never` would match the route branch and make it `unknown`).
 */
type Unwrap<R> = [R] extends [never] ? never : Awaited<R> extends RouteDecision<infer V> ? V : Awaited<R>;
/** A step's output: what its function returns, or what its fallback returns when the function failed. */
type StepOutput<R, F> = Unwrap<R> | Unwrap<F>;

/** F: what the fallback returns (inferred by `.step()`, where a step without one gets `never`). */
export interface StepOptions<TInput, TOutputs extends Record<string, unknown>, P extends string, F = unknown> {
  /** Steps that must finish first; their outputs are read with `ctx.parent(name)`. */
  parents?: readonly P[];
  /** Retries after the first attempt. Overrides the workflow's and the executor's setting. */
  retries?: number;
  backoff?: BackoffOptions;
  /** Per-attempt limit: `ctx.signal` fires, the attempt fails and may be retried. */
  timeoutSeconds?: number;
  /**
   * Runs when the attempts are exhausted (or at once after a NonRetryableError); its result
   * becomes the step's output and the step records `fallbackUsed`. A function, or a named
   * fallback step with its own timeout: `{ name: 'manual-refund', run, timeoutSeconds: 30 }`.
   */
  fallback?: FallbackFn<TInput, TOutputs, F> | FallbackStep<TInput, TOutputs, F>;
  /** Reuse a stored success for the same (workflow, version, step, input). */
  cache?: boolean | CacheOptions;
  /** A named resource pool (see ExecutionConfig.pools): at most N steps hold it at once. */
  pool?: string;
  /** Start the step no earlier than this long after it is ready (its parents done): `'10m'`, `5000`. */
  delay?: Duration;
  /** Evaluated when the step is ready; `false` skips it and what only it leads to. */
  when?: (ctx: StepContext<TInput, TOutputs>) => boolean;
  /** The children this step may choose with `ctx.route(...)`; checked when the workflow is registered. */
  routes?: readonly string[];
  /**
   * By default a step runs when its parents are done, none failed and at least one succeeded (so a
   * step after a conditional branch runs after whichever branch ran). `true`: skip it if any parent
   * was skipped.
   */
  requireAllParents?: boolean;
  /**
   * Who goes first when steps wait for an execution slot (maxParallelNodes, a pool): higher first,
   * then arrival. Default: the run's priority. A whole number from -100 to 100.
   */
  priority?: number;
  /** At most `limit` starts of this step per `period` (per key): see RateLimitOptions. */
  rateLimit?: RateLimitOptions<TInput>;
}

/** A fallback with a name (shown in events and the dashboard) and its own per-attempt timeout. */
export interface FallbackStep<TInput = any, TOutputs extends Record<string, unknown> = any, F = unknown> {
  name: string;
  run: FallbackFn<TInput, TOutputs, F>;
  timeoutSeconds?: number;
}

export interface StepDefinition {
  name: string;
  parents: readonly string[];
  run: (ctx: StepContext<any, any>) => unknown;
  retries?: number | undefined;
  backoff?: BackoffOptions | undefined;
  timeoutSeconds?: number | undefined;
  fallback?: FallbackFn<any, any, unknown> | FallbackStep | undefined;
  cache?: boolean | CacheOptions | undefined;
  pool?: string | undefined;
  delay?: Duration | undefined;
  when?: ((ctx: StepContext<any, any>) => boolean) | undefined;
  routes?: readonly string[] | undefined;
  requireAllParents?: boolean | undefined;
  priority?: number | undefined;
  rateLimit?: RateLimitOptions | undefined;
}

export type ConcurrencyStrategy = 'queue' | 'cancel-newest' | 'cancel-oldest';

export interface WorkflowOptions<TSchema extends StandardSchemaV1 | undefined> {
  /** Any Standard Schema (zod, valibot, arktype): inputs are checked before a run is created. */
  input?: TSchema;
  /** Part of the cache key and recorded on each run. Default "1". */
  version?: string;
  description?: string;
  /** Run deadline; overrides ExecutionConfig.timeoutSeconds. 0 means none. */
  timeoutSeconds?: number;
  /** Retries for every step of this workflow that sets none itself. */
  retries?: number;
  backoff?: BackoffOptions;
  /** Caches every step of this workflow (a step can opt out with `cache: false`). */
  cache?: boolean | CacheOptions;
  /** At most this many steps of one run execute at once. */
  maxParallelNodes?: number;
  /** At most this many runs of this workflow (per concurrency key) are active at once. */
  maxRuns?: number;
  /** Groups runs for `maxRuns`, e.g. `(input) => input.customerId`. */
  concurrencyKey?: (input: any) => string;
  /** What happens to a run over the limit. Default "queue". */
  onConcurrencyLimit?: ConcurrencyStrategy;
  /** Start a run of this workflow for every event of this name (`sendEvent`); the payload is its input. */
  on?: { event: string };
  /**
   * Whether time spent waiting (a sleep, an event, an input) counts against `timeoutSeconds`.
   * Default true: the deadline is the deadline. False: the deadline moves on by the time spent
   * waiting, as it does for a pause.
   */
  timeoutIncludesWaiting?: boolean;
  /**
   * How long finished runs of this workflow are kept, by how they ended (`failed` includes timed
   * out), overriding the executor's `retention` for each status given. Judged on the root run: a
   * child run goes with its root, whatever its own workflow says.
   */
  retention?: RetentionDurations;
  /**
   * The priority of this workflow's runs unless `start()` gives one: runs and their steps waiting
   * for a slot go by priority (higher first), then arrival. A whole number from -100 to 100;
   * default 0 (a child run without one takes its parent's). See README "Priority".
   */
  priority?: number;
  /**
   * Collapses triggers per key: `start()` calls with the same key within `window` of each other make
   * one run, with the LAST call's input, started once `window` passes with no new call, or
   * `maxWait` after the first call at the latest. `start()` returns a handle to that run at once.
   * Runs started by a parent (`spawnWorkflow`) are not debounced. See README "Debounce".
   */
  debounce?: DebounceOptions;
  /** At most `limit` runs of this workflow start per `period` (per key): see RateLimitOptions. */
  rateLimit?: RateLimitOptions<InputOf<TSchema>>;
}

export interface DebounceOptions {
  /** Which triggers collapse together, e.g. `(input) => input.userId`. Default: all of the workflow's. */
  key?: (input: any) => string;
  /** Quiet time after the last trigger before the run starts: `'5s'`, `500`. More than 0. */
  window: Duration;
  /** The longest a run waits after its first trigger, however many follow. At least `window`. Default: none. */
  maxWait?: Duration;
}

type InputOf<S> = S extends StandardSchemaV1 ? StandardSchemaV1.InferOutput<S> : unknown;

/**
 * A named, versioned workflow: a DAG of steps. Each `.step()` returns a new Workflow whose type
 * knows the step's output, so `ctx.parent('fetch')` is typed. Definitions are checked as they are
 * built: a duplicate name, an unknown parent, a cycle or a missing function throws at once.
 *
 * Type parameters: TInput is what `execute` accepts, TOutputs maps step names to outputs, TResult
 * is the output of the last declared step (the run's output when it is the only sink).
 */
export class Workflow<TInput = unknown, TOutputs extends Record<string, unknown> = {}, TResult = unknown> {
  readonly steps: readonly StepDefinition[];
  /** Carry the input and output types for inference (`WorkflowInput<W>`, `WorkflowOutput<W>`); never set at run time. */
  declare readonly __input?: TInput;
  declare readonly __result?: TResult;
  private readonly byName: ReadonlyMap<string, StepDefinition>;
  constructor(
    readonly name: string,
    readonly options: WorkflowOptions<StandardSchemaV1 | undefined>,
    steps: readonly StepDefinition[] = [],
  ) {
    if (!name || typeof name !== 'string')
      throw new InvalidWorkflowError(String(name), undefined, 'a workflow needs a name.');
    checkWorkflowOptions(name, options);
    this.steps = steps;
    this.byName = new Map(steps.map((s) => [s.name, s]));
  }

  get version(): string {
    return this.options.version ?? '1';
  }

  getStep(name: string): StepDefinition | undefined {
    return this.byName.get(name);
  }

  step<N extends string, R>(
    name: N,
    run: (ctx: StepContext<TInput, TOutputs>) => R,
  ): Workflow<TInput, TOutputs & { [K in N]: Unwrap<R> }, Unwrap<R>>;
  step<N extends string, P extends keyof TOutputs & string, R, F = never>(
    name: N,
    options: StepOptions<TInput, TOutputs, P, F>,
    run: (ctx: StepContext<TInput, TOutputs>) => R,
  ): Workflow<TInput, TOutputs & { [K in N]: StepOutput<R, F> }, StepOutput<R, F>>;
  step(
    name: string,
    optionsOrRun: StepOptions<TInput, TOutputs, string> | ((ctx: StepContext<TInput, TOutputs>) => unknown) | undefined,
    maybeRun?: (ctx: StepContext<TInput, TOutputs>) => unknown,
  ): Workflow<TInput, any, any> {
    const options = typeof optionsOrRun === 'function' ? {} : (optionsOrRun ?? {});
    const run = typeof optionsOrRun === 'function' ? optionsOrRun : maybeRun;
    checkStepOptions(this.name, name, options);
    const def: StepDefinition = {
      ...(options as Omit<StepDefinition, 'name' | 'parents' | 'run'>),
      name,
      parents: [...(options.parents ?? [])],
      run: run as StepDefinition['run'],
    };
    const steps = [...this.steps, def];
    validateGraph(
      this.name,
      steps.map(graphNode).map((n) => ({ ...n, routes: undefined })),
    );
    return new Workflow(this.name, this.options, steps);
  }

  /** Checks what can only be checked once all steps are known (route targets). */
  validate(): this {
    validateGraph(this.name, this.steps.map(graphNode));
    for (const step of this.steps) checkStepOptions(this.name, step.name, step);
    return this;
  }
}

function graphNode(step: StepDefinition) {
  return { name: step.name, parents: step.parents, routes: step.routes, run: step.run };
}

/** Starts a workflow definition: `workflow('order', { input: z.object(...) }).step(...)`. */
export function workflow<S extends StandardSchemaV1 | undefined = undefined>(
  name: string,
  options: WorkflowOptions<S> = {},
): Workflow<InputOf<S>, {}, undefined> {
  return new Workflow(name, options as WorkflowOptions<StandardSchemaV1 | undefined>);
}

/** One step of the data form: its options and its function. */
export type StepSpec<TInput = unknown> = StepOptions<TInput, Record<string, unknown>, string> & {
  run: StepDefinition['run'];
};

/**
 * The data form, for definitions built from configuration: steps in any order, either a list of
 * named steps (`[{ name: 'fetch', run }, ...]`) or an object keyed by step name
 * (`{ fetch: { run }, price: { parents: ['fetch'], run } }`). Checked whole.
 */
export function defineWorkflow<S extends StandardSchemaV1 | undefined = undefined>(
  name: string,
  options: WorkflowOptions<S>,
  steps:
    | ReadonlyArray<StepSpec<InputOf<S>> & { name: string }>
    | Readonly<Record<string, StepSpec<InputOf<S>> & { name?: string }>>,
): Workflow<InputOf<S>, Record<string, unknown>, unknown> {
  const defs = stepDefinitions(name, steps);
  validateGraph(name, defs.map(graphNode));
  for (const def of defs) checkStepOptions(name, def.name, def);
  return new Workflow(name, options as WorkflowOptions<StandardSchemaV1 | undefined>, defs);
}

const STEP_SHAPE = '{ run: (ctx) => ..., parents?: [...] }';

/** The data form's steps as definitions; a shape it cannot read is refused here, the graph later. */
function stepDefinitions(workflow: string, steps: unknown): StepDefinition[] {
  const isList = Array.isArray(steps);
  if (!isList && !isPlainObject(steps)) {
    throw new InvalidWorkflowError(
      workflow,
      undefined,
      `steps must be a list of steps ([{ name: 'fetch', run }, ...]) or an object keyed by step name ` +
        `({ fetch: ${STEP_SHAPE}, ... }); got ${describeValue(steps)}.`,
    );
  }
  const entries: Array<[string | undefined, unknown]> = isList
    ? steps.map((step) => [undefined, step])
    : Object.entries(steps);
  return entries.map(([key, step], index) => {
    if (!isPlainObject(step)) {
      throw new InvalidWorkflowError(
        workflow,
        key,
        `${key === undefined ? `steps[${index}]` : 'the step'} is ${describeValue(step)}; a step is an object ${STEP_SHAPE}.`,
      );
    }
    const stepName = key ?? step.name;
    // A name given but unusable ('' or not a string) is the step-name error `.step()` raises too.
    if (stepName !== undefined && (typeof stepName !== 'string' || stepName === '')) {
      throw new InvalidStepNameError(workflow, stepName);
    }
    if (stepName === undefined) {
      throw new InvalidWorkflowError(
        workflow,
        undefined,
        `steps[${index}] has no name: give each step of a list a \`name\`.`,
      );
    }
    if (key !== undefined && step.name !== undefined && step.name !== key) {
      throw new InvalidWorkflowError(
        workflow,
        key,
        `is also named "${String(step.name)}": in an object of steps the key is the name, so drop \`name\` or make it match.`,
      );
    }
    const parents = step.parents ?? [];
    if (!Array.isArray(parents) || !parents.every((p) => typeof p === 'string')) {
      throw new InvalidWorkflowError(workflow, stepName, `parents must be a list of step names, such as ['fetch'].`);
    }
    // Its function is checked with the graph (MissingStepFunctionError names the step).
    return { ...(step as Omit<StepDefinition, 'name' | 'parents'>), name: stepName, parents: [...parents] };
  });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') return `a ${value.constructor?.name ?? 'object'}`;
  return `a ${typeof value}`;
}
