import type {
  ChildHandle,
  ChildOutcome,
  EventWaitOptions,
  InputWaitOptions,
  JoinPolicy,
  QuorumResult,
  RouteDecision,
  SleepOptions,
  SpawnableWorkflow,
  SpawnOptions,
  StepContext,
  WaitSpec,
} from '../model/context.js';
import type { Duration } from '../model/durations.js';
import {
  ChildWorkflowError,
  InvalidJoinError,
  InvalidStreamNameError,
  InvalidWorkflowError,
  RemoteError,
  RunCancelledError,
  type SerializedError,
  SpawnError,
  StepEndedError,
  StreamLimitError,
} from '../model/errors.js';
import { fromJson, toJson } from '../model/json.js';
import { type ScheduleInfo, scheduleInfoOf } from '../model/scheduleInfo.js';
import type { StandardSchemaV1 } from '../model/schema.js';
import { isTerminalRun } from '../store/types.js';
import type { ChildEntry, JoinWaiter } from './children.js';
import { ChildRegistry } from './children.js';
import { newRunId } from './ids.js';
import { type ActiveRun, type ActiveStep, isCurrentAttempt, type WorkflowPlan } from './runState.js';
import { type PreparedSpawn, prepareSpawn } from './spawnRequest.js';
import type { StepHost } from './stepHost.js';
import { StepWaits } from './stepWaits.js';

/** The stream `ctx.emit(chunk)` writes to. */
export const DEFAULT_STREAM = 'default';
/** Longest stream name: names key rows and travel in URLs. */
export const MAX_STREAM_NAME_LENGTH = 128;

/** What one attempt has written to one stream, against its bounds. */
interface StreamUsage {
  chunks: number;
  bytes: number;
}

/** The `ctx` a step function receives. One per attempt; cheap to build. */
export class StepContextImpl implements StepContext<any, any> {
  readonly input: unknown;
  readonly runId: string;
  readonly rootRunId: string;
  readonly workflowName: string;
  readonly stepName: string;
  readonly attempt: number;
  private readonly token: number;
  private scheduleInfo: ScheduleInfo | undefined | null = null;
  /** Joins and `result()` calls of this attempt still waiting on children. */
  private waits = 0;
  private stepWaits: StepWaits | undefined;
  /** This attempt's chunks and bytes per stream, made on first emit. */
  private streamUsage: Map<string, StreamUsage> | undefined;

  constructor(
    private readonly host: StepHost,
    private readonly run: ActiveRun,
    private readonly step: ActiveStep,
    private fixedSignal: AbortSignal | undefined,
  ) {
    this.input = run.input;
    this.runId = run.rec.id;
    this.rootRunId = run.rec.rootRunId;
    this.workflowName = run.rec.workflow;
    this.stepName = step.def.name;
    this.attempt = step.rec.attempts;
    this.token = step.token;
  }

  /** Read from the run's idempotency key on first use (see scheduleRunKey): most runs never ask. */
  get schedule(): ScheduleInfo | undefined {
    if (this.scheduleInfo === null) this.scheduleInfo = scheduleInfoOf(this.run.rec.idempotencyKey);
    return this.scheduleInfo;
  }

  /** The attempt's signal, made on first use (an AbortController per attempt is measurable at W1 rates). */
  get signal(): AbortSignal {
    if (this.fixedSignal) return this.fixedSignal;
    const step = this.step;
    // Kept once made: a step that reads ctx.signal again after it fired must see the same signal
    // and reason (a StepTimeoutError, say), not a new one.
    if (!isCurrentAttempt(step, this.token)) {
      this.fixedSignal = AbortSignal.abort(new RunCancelledError(this.runId, 'this attempt was stopped'));
      return this.fixedSignal;
    }
    step.controller ??= new AbortController();
    this.fixedSignal = step.controller.signal;
    return this.fixedSignal;
  }

  parent(name: string): any {
    if (!this.step.def.parents.includes(name)) {
      throw new InvalidWorkflowError(
        this.workflowName,
        this.stepName,
        `reads parent "${name}", which it does not list in \`parents\`. Add it there.`,
      );
    }
    return this.run.steps.get(name)?.value;
  }

  get globals(): Readonly<Record<string, unknown>> {
    return this.run.globals;
  }

  setGlobal(key: string, value: unknown): void {
    this.assertCurrent('setGlobal');
    // Stored as JSON, so every later reader sees the JSON form (as after a restart).
    this.run.globals[key] = fromJson(toJson(value, `Global variable "${key}"`));
  }

  emit(...args: [chunk: unknown] | [stream: string, chunk: unknown]): Promise<void> {
    this.assertCurrent('emit');
    // `emit(chunk)` or `emit(stream, chunk)`: told apart by count, since a chunk may be a string.
    const [stream, value] = args.length >= 2 ? args : [DEFAULT_STREAM, args[0]];
    if (typeof stream !== 'string' || stream === '' || stream === '*' || stream.length > MAX_STREAM_NAME_LENGTH) {
      throw new InvalidStreamNameError(this.stepName, stream, MAX_STREAM_NAME_LENGTH);
    }
    const data = toJson(value, `The chunk emitted to stream "${stream}" of step "${this.stepName}"`);
    this.streamUsage ??= new Map();
    let usage = this.streamUsage.get(stream);
    if (!usage) {
      usage = { chunks: 0, bytes: 0 };
      this.streamUsage.set(stream, usage);
    }
    const { maxChunks, maxBytes } = this.host.streamLimits;
    const bytes = Buffer.byteLength(data);
    if (usage.chunks + 1 > maxChunks) {
      throw new StreamLimitError(this.runId, this.stepName, stream, 'streamMaxChunks', maxChunks);
    }
    if (usage.bytes + bytes > maxBytes) {
      throw new StreamLimitError(this.runId, this.stepName, stream, 'streamMaxBytes', maxBytes);
    }
    usage.chunks++;
    usage.bytes += bytes;
    return this.host.appendChunk({
      runId: this.runId,
      step: this.stepName,
      stream,
      attempt: this.attempt,
      data,
      at: this.host.clock.now(),
    });
  }

  progress(value: unknown): void {
    this.assertCurrent('progress');
    // Kept as its JSON form, as every reader (the API, another process) would see it.
    const json = toJson(value, `The progress of step "${this.stepName}"`);
    this.host.reportProgress(this.runId, this.stepName, fromJson(json));
  }

  route<T = null>(targets: string | readonly string[], value?: T): RouteDecision<T> {
    return {
      __braidRoute: true,
      targets: typeof targets === 'string' ? [targets] : [...targets],
      value: (value ?? null) as T,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Spawning

  spawnWorkflow(workflow: SpawnableWorkflow | string, input: unknown, options?: SpawnOptions): ChildHandle<any> {
    return this.spawnWorkflows([{ workflow, input, ...(options ? { options } : {}) }])[0] as ChildHandle<any>;
  }

  spawnWorkflows(
    children: ReadonlyArray<{ workflow: SpawnableWorkflow | string; input: unknown; options?: SpawnOptions }>,
  ): Array<ChildHandle<any>> {
    this.assertCurrent('spawnWorkflow');
    if (!Array.isArray(children)) {
      throw new SpawnError('?', 'spawnWorkflows takes an array of { workflow, input, options? }. Nothing was spawned.');
    }
    // Check every child before creating any, so a bad one leaves nothing half-spawned. A fan-out
    // usually spawns one workflow: its plan is looked up once.
    let lastWorkflow: SpawnableWorkflow | string | undefined;
    let lastPlan: WorkflowPlan | undefined;
    const planOf = (workflow: SpawnableWorkflow | string): WorkflowPlan => {
      if (workflow !== lastWorkflow || lastPlan === undefined) {
        lastPlan = this.host.planOf(workflow);
        lastWorkflow = workflow;
      }
      return lastPlan;
    };
    const prepared = new Array<PreparedSpawn>(children.length);
    for (let i = 0; i < children.length; i++) {
      const c = children[i] as (typeof children)[number];
      prepared[i] = prepareSpawn(planOf, c.workflow, c.input, c.options);
    }
    this.step.children ??= new ChildRegistry(true, this.host.childIndex);
    const registry = this.step.children;
    return prepared.map((p) => {
      const key = p.explicitKey ?? `${p.contentHash}:${registry.nextOrdinal(p.contentHash)}`;
      const existing = registry.byKey.get(key);
      if (existing) return this.handle(existing);
      // Identity is (parent run, parent step, key), held by the store's unique index; the id itself
      // is a fresh time-ordered one, so a parent's children list in spawn order.
      const id = newRunId();
      const child = this.host.addRun({
        plan: p.plan,
        input: p.input,
        inputJson: p.inputJson,
        id,
        idempotencyKey: null,
        globals: {},
        // A literal, so the children of a fan-out share one string (not one JSON.stringify({}) each).
        globalsJson: '{}',
        parent: { run: this.run, step: this.step, key },
        replayOf: null,
      });
      const entry: ChildEntry = {
        key,
        runId: id,
        workflow: p.plan.workflow.name,
        status: child.status,
        output: child.output,
        error: child.error,
      };
      registry.add(entry);
      return this.handle(entry);
    });
  }

  private handle(entry: ChildEntry): ChildHandle<any> {
    const host = this.host;
    return {
      runId: entry.runId,
      workflow: entry.workflow,
      key: entry.key,
      result: async () => {
        // While the attempt that spawned the child runs, wait as a join of one: the step gives its
        // slot back, so `Promise.all(handles.map((h) => h.result()))` cannot starve the children.
        if (!isFinished(entry) && this.isCurrent()) {
          await this.wait<undefined>([entry], (_entry, pending, done) => {
            if (pending.size === 0) done(() => undefined);
          });
        }
        if (entry.status === 'succeeded') return fromJson(entry.output);
        if (isFinished(entry)) throw childError(entry);
        const result = await host.waitForRun(entry.runId);
        if (result.success) return result.output;
        throw new ChildWorkflowError(entry.runId, entry.workflow, result.status, result.error);
      },
    };
  }

  // -------------------------------------------------------------------------------------------
  // Durable waits (see stepWaits.ts)

  sleep(duration: Duration, options?: SleepOptions): Promise<void> {
    return this.guard('sleep', () => this.waitCalls.sleep(duration, options));
  }

  sleepUntil(time: Date | number, options?: SleepOptions): Promise<void> {
    return this.guard('sleepUntil', () => this.waitCalls.sleepUntil(time, options));
  }

  waitForEvent<T = unknown>(name: string, options?: EventWaitOptions): Promise<T | null> {
    return this.guard('waitForEvent', () => this.waitCalls.waitForEvent<T>(name, options));
  }

  waitForInput<S extends StandardSchemaV1 | undefined = undefined>(
    name: string,
    options?: InputWaitOptions<S>,
  ): Promise<(S extends StandardSchemaV1 ? StandardSchemaV1.InferOutput<S> : unknown) | null> {
    return this.guard('waitForInput', () => this.waitCalls.waitForInput(name, options));
  }

  waitForFirst<W extends Record<string, WaitSpec>>(waits: W): Promise<{ name: keyof W & string; value: unknown }> {
    return this.guard('waitForFirst', () => this.waitCalls.waitForFirst(waits));
  }

  /** The wait calls of this attempt's invocation, made on first use. */
  private get waitCalls(): StepWaits {
    this.stepWaits ??= new StepWaits(this.host, this.run, this.step, this.token, this.attempt);
    return this.stepWaits;
  }

  /** Runs a wait call, turning what it refuses into a rejection (a wait call answers with a promise). */
  private guard<T>(call: string, fn: () => Promise<T>): Promise<T> {
    try {
      this.assertCurrent(call);
      return fn();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Joining

  join(handles: ReadonlyArray<ChildHandle<any>>, options?: { policy: JoinPolicy }): Promise<any> {
    // A join always answers with a promise: what it refuses (a stale context, a foreign handle)
    // is a rejection, like a child's failure.
    try {
      const policy = options?.policy ?? 'all';
      if (policy === 'all') return this.joinAll(handles);
      const needed = policy === 'any' ? 1 : policy?.atLeast;
      return this.joinQuorum(handles, needed);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  joinSettled(handles: ReadonlyArray<ChildHandle<any>>): Promise<Array<ChildOutcome<any>>> {
    try {
      return this.settledJoin(handles);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private settledJoin(handles: ReadonlyArray<ChildHandle<any>>): Promise<Array<ChildOutcome<any>>> {
    this.assertCurrent('joinSettled');
    const entries = this.entriesOf(handles);
    const outcomes = () => entries.map(outcomeOf);
    return this.wait<Array<ChildOutcome<any>>>(entries, (_entry, pending, done) => {
      if (pending.size === 0) done(() => outcomes());
    }).then((r) => r ?? outcomes());
  }

  private joinAll(handles: ReadonlyArray<ChildHandle<any>>): Promise<any[]> {
    this.assertCurrent('join');
    const entries = this.entriesOf(handles);
    const values = () => entries.map((e) => fromJson(e.output));
    const failed = entries.find((e) => isFinished(e) && e.status !== 'succeeded');
    if (failed) return Promise.reject(childError(failed));
    return this.wait<any[]>(entries, (entry, pending, done) => {
      if (entry.status !== 'succeeded') done(() => Promise.reject(childError(entry)));
      else if (pending.size === 0) done(() => values());
    }).then((r) => r ?? values());
  }

  private joinQuorum(handles: ReadonlyArray<ChildHandle<any>>, needed: number): Promise<QuorumResult<any>> {
    this.assertCurrent('join');
    const entries = this.entriesOf(handles);
    if (!Number.isInteger(needed) || needed < 1 || needed > entries.length) {
      return Promise.reject(
        new InvalidJoinError(
          this.stepName,
          `policy { atLeast: ${needed} } needs a whole number from 1 to ${entries.length} (the number of handles joined).`,
        ),
      );
    }
    const index = new Map(entries.map((e, i) => [e.runId, i]));
    const counted: QuorumResult<any>['counted'] = [];
    const failed: QuorumResult<any>['failed'] = [];
    const record = (e: ChildEntry) => {
      const i = index.get(e.runId) as number;
      if (e.status === 'succeeded') counted.push({ index: i, runId: e.runId, output: fromJson(e.output) });
      else failed.push({ index: i, runId: e.runId, error: fromJson<SerializedError>(e.error) });
    };
    for (const e of entries) if (isFinished(e)) record(e);
    // A join that finds its policy already met is one resumed (a retry, a recovery) after it was met
    // and had cancelled the children it no longer needed: those are its `cancelled`, not failures,
    // and only `needed` successes count, as they did the first time (the simulation's seed 3).
    const cancelledBefore: string[] = [];
    if (counted.length >= needed) {
      for (let i = failed.length - 1; i >= 0; i--) {
        const entry = entries[(failed[i] as (typeof failed)[number]).index] as ChildEntry;
        if (entry.status === 'cancelled') cancelledBefore.unshift(...failed.splice(i, 1).map((f) => f.runId));
      }
    }
    const settle = (pending: ReadonlySet<string>): QuorumResult<any> | Error | undefined => {
      if (counted.length >= needed) {
        const cancelled = [...pending];
        this.host.cancelChildren(cancelled, `join needed ${needed} success(es) and has them`);
        return { counted: counted.slice(0, needed), cancelled: [...cancelledBefore, ...cancelled], failed };
      }
      if (counted.length + pending.size < needed) {
        return new ChildWorkflowError(
          failed[failed.length - 1]?.runId ?? '',
          entries[0]?.workflow ?? '',
          `left too few possible successes (${counted.length} of ${needed} needed)`,
          failed[failed.length - 1]?.error,
        );
      }
      return undefined;
    };
    const unfinished = new Set(entries.filter((e) => !isFinished(e)).map((e) => e.runId));
    const now = settle(unfinished);
    if (now instanceof Error) return Promise.reject(now);
    if (now) return Promise.resolve(now);
    return this.wait(entries, (entry, pending, done) => {
      record(entry);
      const outcome = settle(pending);
      if (outcome instanceof Error) done(() => Promise.reject(outcome));
      else if (outcome) done(() => outcome);
    }) as Promise<QuorumResult<any>>;
  }

  /**
   * Waits on the unfinished children as one counter: the step gives its execution slot back while
   * it waits (so its children can run even under maxParallelNodes = 1) and takes one again, ahead
   * of new work, before it continues.
   */
  private wait<T>(
    entries: ChildEntry[],
    onDone: (entry: ChildEntry, pending: ReadonlySet<string>, done: (result: () => T | Promise<T>) => void) => void,
  ): Promise<T | undefined> {
    this.assertCurrent('join');
    const pending = new Set<string>();
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i] as ChildEntry;
      if (!isFinished(entry)) pending.add(entry.runId);
    }
    if (pending.size === 0) return Promise.resolve(undefined);
    const registry = this.step.children as ChildRegistry;
    const host = this.host;
    return new Promise<T | undefined>((resolve, reject) => {
      let finished = false;
      const waiter: JoinWaiter = {
        pending,
        onChildDone: (entry) => {
          if (!finished) onDone(entry, pending, done);
        },
        abort: (reason) => {
          if (finished) return;
          finished = true;
          this.waits--;
          reject(reason);
        },
      };
      const settle = (result: () => T | Promise<T>) => {
        try {
          resolve(result());
        } catch (error) {
          reject(error);
        }
      };
      const done = (result: () => T | Promise<T>) => {
        if (finished) return;
        finished = true;
        registry.removeJoin(waiter);
        this.waits--;
        // Other waits of this attempt (several `result()` calls under Promise.all) still need their
        // children to run: the slot stays given back until the last one ends. An attempt that already
        // ended needs no slot at all.
        if (this.waits > 0 || !this.isCurrent()) return settle(result);
        host.resume(this.run, this.step, this.token, (outcome) => {
          if (outcome instanceof Error) return reject(outcome);
          if (!outcome) return reject(this.signal.reason ?? new RunCancelledError(this.runId));
          if (this.waits > 0) host.suspend(this.run, this.step); // a new wait began meanwhile
          settle(result);
        });
      };
      this.waits++;
      registry.addJoin(waiter);
      host.suspend(this.run, this.step);
    });
  }

  private entriesOf(handles: ReadonlyArray<ChildHandle<any>>): ChildEntry[] {
    if (!Array.isArray(handles)) {
      throw new InvalidJoinError(this.stepName, 'it takes an array of the handles spawnWorkflow returned.');
    }
    const registry = this.step.children;
    return handles.map((h) => {
      const entry = registry?.byRunId.get(h?.runId);
      if (!entry) {
        throw new InvalidJoinError(
          this.stepName,
          `run "${h?.runId}" was not spawned by this step of run "${this.runId}". A step joins only the handles its own ` +
            'spawnWorkflow calls returned; to wait for another run, use `executor.getHandle(runId)` outside the step.',
        );
      }
      return entry;
    });
  }

  private isCurrent(): boolean {
    return isCurrentAttempt(this.step, this.token);
  }

  /** Refuses a call made after the attempt ended: it would change a step that is over. */
  private assertCurrent(call: string): void {
    if (!this.isCurrent()) throw new StepEndedError(this.runId, this.stepName, this.attempt, call);
  }
}

function isFinished(e: ChildEntry): boolean {
  return isTerminalRun(e.status);
}

function outcomeOf(e: ChildEntry): ChildOutcome<any> {
  return e.status === 'succeeded'
    ? { status: 'succeeded', runId: e.runId, output: fromJson(e.output) }
    : { status: e.status as 'failed', runId: e.runId, error: fromJson<SerializedError>(e.error) };
}

function childError(e: ChildEntry): ChildWorkflowError {
  const error = fromJson<SerializedError | undefined>(e.error);
  const out = new ChildWorkflowError(e.runId, e.workflow, e.status, error);
  if (error) Object.defineProperty(out, 'cause', { value: new RemoteError(error), enumerable: false });
  return out;
}
