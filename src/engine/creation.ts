import { IdempotencyConflictError, InvalidPriorityError } from '../model/errors.js';
import { fromJson, toJson } from '../model/json.js';
import { isPriority } from '../model/priority.js';
import { validateInput } from '../model/schema.js';
import type { Store } from '../store/store.js';
import type { RunRecord, ScheduleWrite } from '../store/types.js';
import { newRunId } from './ids.js';
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
 * flat however many keyed runs there are.
 */
export class RunCreation {
  /** Keyed creations in flight, by key. */
  private readonly inFlight = new Map<string, { workflow: string; id: Promise<string> }>();

  constructor(
    private readonly store: Store,
    private readonly runs: RunTable,
    private readonly queue: WriteQueue,
    private readonly hooks: {
      addRun(spec: NewRunSpec): RunRecord;
      /** A new run is being committed: `reject` fails its creator if the commit fails. */
      expectCreated(runId: string, reject: (error: unknown) => void): void;
      created(runId: string): void;
      /** Waits for the run to end or pause (for `execute()` when the run is not held here). */
      waitFor(runId: string): Promise<ExecutionResult>;
      /** Records a trigger of a debounced workflow; resolves with the run that will carry it. */
      debounce(spec: NewRunSpec): Promise<string>;
      assertOpen(): void;
    },
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
    const parsed = await validateInput(name, plan.workflow.options.input, rawInput);
    const inputJson = toJson(parsed, `The input of workflow "${name}"`);
    // A copy in its stored form: `setGlobal` must not write into the caller's object, and every
    // reader sees what a recovered run would.
    const globals = fromJson<Record<string, unknown>>(
      toJson(options.globals ?? {}, `The global variables of a "${name}" run`),
    );
    this.hooks.assertOpen();
    const newId = newRunId();
    const spec: NewRunSpec = {
      plan,
      input: fromJson(inputJson),
      inputJson,
      id: newId,
      idempotencyKey: options.idempotencyKey ?? null,
      globals,
      parent: null,
      replayOf: options.replayOf ?? null,
      ...(options.priority !== undefined ? { priority: options.priority } : {}),
    };
    // A trigger of a debounced workflow (not a fork or a replay, which run as asked) is recorded,
    // not started: the run that carries the last trigger of its window starts later.
    if (plan.workflow.options.debounce && !options.fork && options.replayOf === undefined) {
      const id = await this.hooks.debounce(spec);
      onCreated?.(this.hooks.waitFor(id));
      return id;
    }
    const rec = this.hooks.addRun({ ...spec, ...(options.fork ? { fork: options.fork(newId) } : {}) });
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
}
