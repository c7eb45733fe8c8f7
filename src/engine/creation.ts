import { durationMs } from '../model/durations.js';
import { IdempotencyConflictError, InvalidPriorityError, RunNotFoundError } from '../model/errors.js';
import { fromJson, toJson } from '../model/json.js';
import { isPriority } from '../model/priority.js';
import { validateInput } from '../model/schema.js';
import type { DebounceOptions } from '../model/workflow.js';
import type { Store } from '../store/store.js';
import type { RunRecord, ScheduleWrite } from '../store/types.js';
import type { Clock } from './clock.js';
import { type ForkOptions, planFork } from './forking.js';
import { newRunId } from './ids.js';
import type { WorkflowRegistry } from './registry.js';
import type { ExecutionResult } from './result.js';
import type { ForkSeed, NewRunSpec, WorkflowPlan } from './runState.js';
import type { RunTable } from './runTable.js';
import type { WriteQueue } from './writeQueue.js';

export interface StartOptions {
  idempotencyKey?: string;
  /** Initial global variables (WorkflowContext.globalVariables). */
  globals?: Record<string, unknown>;
  /** The run this one replays. */
  replayOf?: string;
  /**
   * Who goes first when runs and steps wait for a slot: higher first, then arrival. A whole number
   * from -100 to 100; default: the workflow's `priority`, else 0. See README "Priority".
   */
  priority?: number;
}

/** What the engine itself may ask of a creation besides StartOptions. */
export interface CreateOptions extends StartOptions {
  /** A fork: the rows the new run starts with, built once it has its id (see planFork). */
  fork?: (runId: string) => ForkSeed;
  /** A schedule's tick: its write, given the new run's id, lands in the commit that creates the run. */
  scheduleTick?: (runId: string) => ScheduleWrite;
}

/**
 * Creates top-level runs: checks the input against the workflow's schema, stores it in its JSON
 * form, and answers once the run is durable. An idempotency key names one run: a start with a key
 * already taken returns that run, or is a conflict if the run is of another workflow. Only keys
 * being created right now are held in memory (the store answers for the others), so memory stays
 * flat however many keyed runs there are. Also the runs made from others (forks and replays) and
 * the triggers of debounced workflows, which the store joins to a pending run.
 */
export class RunCreation {
  /** Keyed creations in flight, by key. */
  private readonly inFlight = new Map<string, { workflow: string; id: Promise<string> }>();

  constructor(
    private readonly store: Store,
    private readonly runs: RunTable,
    private readonly queue: WriteQueue,
    private readonly registry: WorkflowRegistry,
    private readonly hooks: {
      addRun(spec: NewRunSpec): RunRecord;
      /** The record a new run would have (a debounced trigger's pending run is written by the store). */
      recordOf(spec: NewRunSpec): RunRecord;
      /** A new run is being committed: `reject` fails its creator if the commit fails. */
      expectCreated(runId: string, reject: (error: unknown) => void): void;
      created(runId: string): void;
      /** Waits for the run to end or pause (for `execute()` when the run is not held here). */
      waitFor(runId: string): Promise<ExecutionResult>;
      /** A debounced run is stored asleep until `dueAt`: wake it then. */
      storedAsleep(dueAt: number): void;
      /** The run's record, from memory when it is here, else from the store. */
      runRecord(runId: string): Promise<RunRecord | undefined>;
      assertOpen(): void;
    },
    private readonly clock: Clock,
  ) {}

  async create(
    plan: WorkflowPlan,
    rawInput: unknown,
    options: CreateOptions,
    onCreated: ((settled: Promise<ExecutionResult>) => void) | undefined,
  ): Promise<string> {
    if (options.priority !== undefined && !isPriority(options.priority)) {
      throw new InvalidPriorityError('priority', options.priority);
    }
    const key = options.idempotencyKey;
    if (key === undefined) return this.createNew(plan, rawInput, options, onCreated);
    const workflow = plan.workflow.name;
    const inFlight = this.inFlight.get(key);
    if (inFlight) {
      if (inFlight.workflow !== workflow) {
        throw new IdempotencyConflictError(key, await inFlight.id, inFlight.workflow, workflow);
      }
      return inFlight.id;
    }
    const id = this.createKeyed(plan, rawInput, options, key, onCreated);
    this.inFlight.set(key, { workflow, id });
    const done = () => this.inFlight.delete(key);
    id.then(done, done);
    return id;
  }

  private async createKeyed(
    plan: WorkflowPlan,
    rawInput: unknown,
    options: CreateOptions,
    key: string,
    onCreated: ((settled: Promise<ExecutionResult>) => void) | undefined,
  ): Promise<string> {
    const found = await this.store.findRunByIdempotencyKey(key);
    if (found && found.workflow !== plan.workflow.name) {
      throw new IdempotencyConflictError(key, found.id, found.workflow, plan.workflow.name);
    }
    if (found) return found.id;
    return this.createNew(plan, rawInput, options, onCreated);
  }

  private async createNew(
    plan: WorkflowPlan,
    rawInput: unknown,
    options: CreateOptions,
    onCreated: ((settled: Promise<ExecutionResult>) => void) | undefined,
  ): Promise<string> {
    const name = plan.workflow.name;
    const schema = plan.workflow.options.input;
    // Without a schema there is nothing to wait for: no promise and no turn of the event loop per run.
    const parsed = schema === undefined ? rawInput : await validateInput(name, schema, rawInput);
    const inputJson = toJson(parsed, `The input of workflow "${name}"`);
    // A copy in its stored form: `setGlobal` must not write into the caller's object, and every
    // reader sees what a recovered run would. No globals (execute() passes `{}`) is '{}' as it is.
    const globalsJson = isEmptyObject(options.globals)
      ? '{}'
      : toJson(options.globals, `The global variables of a "${name}" run`);
    const globals = globalsJson === '{}' ? {} : fromJson<Record<string, unknown>>(globalsJson);
    this.hooks.assertOpen();
    const newId = newRunId();
    const spec: NewRunSpec = {
      plan,
      input: fromJson(inputJson),
      inputJson,
      id: newId,
      idempotencyKey: options.idempotencyKey ?? null,
      globals,
      globalsJson,
      parent: null,
      replayOf: options.replayOf ?? null,
    };
    if (options.priority !== undefined) spec.priority = options.priority;
    // A trigger of a debounced workflow (not a fork or a replay, which run as asked) is recorded,
    // not started: the run that carries the last trigger of its window starts later.
    if (plan.workflow.options.debounce && !options.fork && options.replayOf === undefined) {
      const id = await this.debounce(spec);
      onCreated?.(this.hooks.waitFor(id));
      return id;
    }
    if (options.fork) spec.fork = options.fork(newId);
    const rec = this.hooks.addRun(spec);
    const id = rec.id;
    // In the same tick as the run's insert, so in the same batch: the tick and its run land together.
    if (options.scheduleTick) this.queue.writeSchedule(options.scheduleTick(id));
    // Durable before visible: return once the run is committed, or fail with the store's error
    // instead of waiting for a commit that will never come.
    const committed = new Promise<void>((resolve, reject) => {
      this.hooks.expectCreated(id, reject);
      this.queue.afterCommit(() => {
        this.hooks.created(id);
        resolve();
      });
    });
    // The caller of execute() waits on this run: register now, before it can finish and leave memory.
    const run = this.runs.get(id);
    if (run) onCreated?.(new Promise((resolve) => run.waiters.settle.push(resolve)));
    else onCreated?.(committed.then(() => this.hooks.waitFor(id)));
    await committed;
    return id;
  }

  /**
   * A trigger of a debounced workflow: the store joins it to the key's pending run or inserts a new
   * one (a queued row whose wakeAt is its due time), in one transaction. The run is woken like any
   * run asleep in the store: one scan timer here, the claim on PostgreSQL (whose commit announces
   * the due time to every worker).
   */
  private async debounce(spec: NewRunSpec): Promise<string> {
    const options = spec.plan.workflow.options.debounce as DebounceOptions;
    const name = spec.plan.workflow.name;
    const key = options.key ? String(options.key(spec.input)) : '';
    const result = await this.store.debounce({
      run: this.hooks.recordOf(spec),
      key,
      windowMs: durationMs(options.window, `The debounce window of workflow "${name}"`),
      maxWaitMs:
        options.maxWait === undefined
          ? null
          : durationMs(options.maxWait, `The debounce maxWait of workflow "${name}"`),
      now: this.clock.now(),
    });
    this.hooks.storedAsleep(result.dueAt);
    return result.runId;
  }

  /**
   * Creates a fork of an ended run (see planFork): a new run of its workflow, with the original's
   * input (or `options.input`) and global variables, that starts with the steps it reuses. Every
   * check is made before anything is written; the run, its reused steps and its link land in one
   * commit. Resolves with the new run's id once it is durable.
   */
  async fork(runId: string, options: ForkOptions): Promise<string> {
    const { original, plan } = await this.originOf(runId);
    // A run that has just ended here may have its last steps in the batch being committed: the
    // fork reads them from the store once that batch has landed.
    if (this.runs.has(runId)) await new Promise<void>((resolve) => this.queue.afterCommit(resolve));
    const seed = planFork(plan, original, await this.store.getSteps(runId), options, this.clock);
    const input = options.input !== undefined ? options.input : fromJson(original.input);
    return this.create(
      plan,
      input,
      { globals: fromJson(original.globals) ?? {}, fork: seed, priority: original.priority },
      undefined,
    );
  }

  /** A new run of the same workflow with the same input and globals, linked by `replayOf`: every step runs. */
  async replay(runId: string): Promise<string> {
    const { original, plan } = await this.originOf(runId);
    const globals = fromJson<Record<string, unknown>>(original.globals) ?? {};
    return this.create(
      plan,
      fromJson(original.input),
      { replayOf: runId, globals, priority: original.priority },
      undefined,
    );
  }

  /** The run that a replay or a fork starts from, and the plan of its workflow (registered here). */
  private async originOf(runId: string): Promise<{ original: RunRecord; plan: WorkflowPlan }> {
    this.hooks.assertOpen();
    const original = await this.hooks.runRecord(runId);
    if (!original) throw new RunNotFoundError(runId);
    return { original, plan: this.registry.planFor(original.workflow) };
  }
}

/** Undefined, or a plain object with no keys: stored as '{}' with nothing to check. */
function isEmptyObject(value: Record<string, unknown> | undefined): boolean {
  if (value === undefined) return true;
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  for (const _ in value) return false;
  return true;
}
