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
import { type Duration, durationMs } from '../model/durations.js';
import {
  ChildWorkflowError,
  InvalidInputValueError,
  InvalidJoinError,
  InvalidWaitError,
  InvalidWorkflowError,
  RemoteError,
  RunCancelledError,
  type SerializedError,
  SpawnError,
  StepEndedError,
} from '../model/errors.js';
import { canonicalJson, fromJson, toJson } from '../model/json.js';
import { jsonSchemaOf, type StandardSchemaV1, validateInputSync } from '../model/schema.js';
import { isTerminalRun, type RunRecord, type WaitRecord } from '../store/types.js';
import type { ChildEntry, JoinWaiter } from './children.js';
import { ChildRegistry } from './children.js';
import { hashText, newRunId } from './ids.js';
import type { ExecutionResult } from './result.js';
import {
  type ActiveRun,
  type ActiveStep,
  type Continuation,
  isCurrentAttempt,
  type NewRunSpec,
  type WorkflowPlan,
} from './runState.js';
import type { WaitRequest } from './suspensions.js';

/** What a step's context needs from the engine: a narrow port, so the context never sees the engine. */
export interface StepHost {
  /** The engine's index from child run id to the registry of the step that spawned it. */
  readonly childIndex: Map<string, ChildRegistry>;
  /** The plan of a workflow given by object (registered on first use) or by name. */
  planOf(workflow: SpawnableWorkflow | string): WorkflowPlan;
  /** Creates a run in the current batch (synchronously, so a fan-out is one transaction). */
  addRun(spec: NewRunSpec): RunRecord;
  /** Cancels children a join no longer needs. */
  cancelChildren(runIds: readonly string[], reason: string): void;
  /** The step gives its slot back while it waits. */
  suspend(run: ActiveRun, step: ActiveStep): void;
  /** The step takes a slot back, ahead of new work: true once it has one, false if the attempt ended. */
  resume(run: ActiveRun, step: ActiveStep, token: number, then: (outcome: boolean | Error) => void): void;
  /** Waits for a run to end (for a handle used after the attempt that spawned it). */
  waitForRun(runId: string): Promise<ExecutionResult>;
  /** The settled wait of a wait group of the step, if it has one (a re-run finds it). */
  settledWait(step: ActiveStep, group: string): WaitRecord | undefined;
  /** An input's schema, so a value given for it is checked with the schema itself. */
  rememberInputSchema(run: ActiveRun, step: ActiveStep, name: string, schema: StandardSchemaV1): void;
  /** Suspends the step on the waits of one call; the continuation runs once the group settles. */
  suspendOn(
    run: ActiveRun,
    step: ActiveStep,
    group: string,
    requests: readonly WaitRequest[],
    continuation: Continuation,
  ): void;
}

interface PreparedSpawn {
  plan: WorkflowPlan;
  input: unknown;
  inputJson: string;
  explicitKey: string | undefined;
  contentHash: string;
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
  /** Joins and `result()` calls of this attempt still waiting on children. */
  private waits = 0;
  /** How many waits of each kind (and name) this invocation has made: the default wait identities. */
  private readonly waitOrdinals = new Map<string, number>();

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
    // Check every child before creating any, so a bad one leaves nothing half-spawned.
    const prepared = children.map((c) => this.prepare(c.workflow, c.input, c.options));
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

  private prepare(
    workflow: SpawnableWorkflow | string,
    input: unknown,
    options: SpawnOptions | undefined,
  ): PreparedSpawn {
    const name = typeof workflow === 'string' ? workflow : workflow?.name;
    let plan: WorkflowPlan;
    try {
      plan = this.host.planOf(workflow);
    } catch (error) {
      throw new SpawnError(String(name), (error as Error).message, { cause: error });
    }
    const checked = validateInputSync(plan.workflow.options.input, input);
    if ('async' in checked) {
      throw new SpawnError(
        plan.workflow.name,
        'its input schema validates asynchronously; spawn needs a synchronous schema.',
      );
    }
    if ('issues' in checked) {
      throw new SpawnError(
        plan.workflow.name,
        `the input does not match its schema: ${checked.issues.map((i) => i.message).join('; ')}. Nothing was spawned.`,
      );
    }
    let inputJson: string;
    try {
      inputJson = toJson(checked.value, `The input of child workflow "${plan.workflow.name}"`);
    } catch (error) {
      throw new SpawnError(plan.workflow.name, (error as Error).message, { cause: error });
    }
    const parsed = fromJson(inputJson);
    const explicitKey = options?.key ?? options?.idempotencyKey;
    if (explicitKey !== undefined && (typeof explicitKey !== 'string' || explicitKey.length === 0)) {
      throw new SpawnError(
        plan.workflow.name,
        `its key must be a non-empty string, got ${typeof explicitKey === 'string' ? 'an empty string' : typeof explicitKey}. ` +
          'Nothing was spawned.',
      );
    }
    return {
      plan,
      input: parsed,
      inputJson,
      explicitKey,
      contentHash: explicitKey === undefined ? hashText(`${plan.workflow.name}\0${canonicalJson(parsed)}`) : '',
    };
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
  // Durable waits

  sleep(duration: Duration, options?: SleepOptions): Promise<void> {
    return this.guard('sleep', () => {
      const ms = durationMs(duration, `ctx.sleep in step "${this.stepName}"`);
      return this.sleepAt(Date.now() + ms, options?.name);
    });
  }

  sleepUntil(time: Date | number, options?: SleepOptions): Promise<void> {
    return this.guard('sleepUntil', () => this.sleepAt(this.timeOf(time, 'sleepUntil'), options?.name));
  }

  waitForEvent<T = unknown>(name: string, options: EventWaitOptions = {}): Promise<T | null> {
    return this.guard('waitForEvent', async () => {
      const key = options.name !== undefined ? `event:${name}:${options.name}` : this.ordinalKey(`event:${name}`);
      const wait = await this.durable(key, [this.eventRequest(key, name, options, options.timeout)]);
      return wait.status === 'timed_out' ? null : (eventPayload(wait) as T);
    });
  }

  waitForInput<S extends StandardSchemaV1 | undefined = undefined>(
    name: string,
    options: InputWaitOptions<S> = {},
  ): Promise<(S extends StandardSchemaV1 ? StandardSchemaV1.InferOutput<S> : unknown) | null> {
    return this.guard('waitForInput', async () => {
      const key = this.ordinalKey(`input:${name}`);
      const wait = await this.durable(key, [this.inputRequest(key, name, options, options.timeout)]);
      if (wait.status === 'timed_out') return null;
      return (await this.parseInput(name, wait, options.schema)) as never;
    });
  }

  waitForFirst<W extends Record<string, WaitSpec>>(waits: W): Promise<{ name: keyof W & string; value: unknown }> {
    return this.guard('waitForFirst', async () => {
      const labels = Object.keys(waits);
      if (labels.length === 0) throw new InvalidWaitError(this.stepName, 'waitForFirst needs at least one wait.');
      const group = this.ordinalKey('first');
      const specs = new Map<string, WaitSpec>();
      const requests = labels.map((label) => {
        const spec = waits[label] as WaitSpec;
        const key = `${group}/${label}`;
        specs.set(key, spec);
        if ('sleep' in spec) return sleepRequest(key, Date.now() + durationMs(spec.sleep, `waitForFirst "${label}"`));
        if ('sleepUntil' in spec) return sleepRequest(key, this.timeOf(spec.sleepUntil, `waitForFirst "${label}"`));
        if ('event' in spec) return this.eventRequest(key, spec.event, spec, undefined);
        if ('input' in spec) return this.inputRequest(key, spec.input, spec, undefined);
        throw new InvalidWaitError(
          this.stepName,
          `waitForFirst "${label}" is not a sleep, sleepUntil, event or input wait.`,
        );
      });
      const wait = await this.durable(group, requests);
      const spec = specs.get(wait.key) as WaitSpec;
      const name = wait.key.slice(group.length + 1) as keyof W & string;
      if ('event' in spec) return { name, value: eventPayload(wait) };
      if ('input' in spec) return { name, value: await this.parseInput(spec.input, wait, spec.schema) };
      return { name, value: undefined };
    });
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

  private async sleepAt(dueAt: number, name: string | undefined): Promise<void> {
    const key = name !== undefined ? `sleep:${name}` : this.ordinalKey('sleep');
    await this.durable(key, [sleepRequest(key, dueAt)]);
  }

  /** The settled wait of a call, at once on a re-run, or once the step has waited for it. */
  private durable(group: string, requests: readonly WaitRequest[]): Promise<WaitRecord> {
    const settled = this.host.settledWait(this.step, group);
    if (settled?.status === 'cancelled') {
      return Promise.reject(new StepEndedError(this.runId, this.stepName, this.attempt, `wait "${group}"`));
    }
    if (settled) return Promise.resolve(settled);
    return new Promise((resolve, reject) =>
      this.host.suspendOn(this.run, this.step, group, requests, { token: this.token, resolve, reject }),
    );
  }

  private ordinalKey(prefix: string): string {
    const n = this.waitOrdinals.get(prefix) ?? 0;
    this.waitOrdinals.set(prefix, n + 1);
    return `${prefix}#${n}`;
  }

  private timeOf(time: Date | number, what: string): number {
    const at = time instanceof Date ? time.getTime() : time;
    if (typeof at !== 'number' || !Number.isFinite(at)) {
      throw new InvalidWaitError(this.stepName, `${what} needs a Date or epoch milliseconds, got ${String(time)}.`);
    }
    return at;
  }

  private eventRequest(
    key: string,
    name: string,
    options: Pick<EventWaitOptions, 'match' | 'lookback'>,
    timeout: Duration | undefined,
  ): WaitRequest {
    if (typeof name !== 'string' || name.length === 0) {
      throw new InvalidWaitError(this.stepName, 'an event wait needs the event name, a non-empty string.');
    }
    const now = Date.now();
    const match = options.match;
    if (match !== undefined && typeof match !== 'string' && (match === null || typeof match !== 'object')) {
      throw new InvalidWaitError(
        this.stepName,
        `\`match\` is an event key (a string) or payload fields (an object), got ${String(match)}.`,
      );
    }
    return {
      key,
      kind: 'event',
      dueAt: timeout === undefined ? null : now + durationMs(timeout, `the timeout of waitForEvent("${name}")`),
      name,
      eventKey: typeof match === 'string' ? match : null,
      match:
        match !== undefined && typeof match === 'object' ? toJson(match, `The match of waitForEvent("${name}")`) : null,
      since:
        options.lookback === undefined
          ? this.run.rec.createdAt
          : now - durationMs(options.lookback, `the lookback of waitForEvent("${name}")`),
      afterSeq: this.lastEventSeq(name),
      request: null,
    };
  }

  private inputRequest(
    key: string,
    name: string,
    options: Pick<InputWaitOptions<StandardSchemaV1 | undefined>, 'schema' | 'payload'>,
    timeout: Duration | undefined,
  ): WaitRequest {
    if (typeof name !== 'string' || name.length === 0) {
      throw new InvalidWaitError(this.stepName, 'an input needs a name, a non-empty string.');
    }
    if (options.schema) this.host.rememberInputSchema(this.run, this.step, name, options.schema);
    const schema = jsonSchemaOf(options.schema);
    const request = toJson(
      { payload: options.payload ?? null, ...(schema ? { schema } : {}) },
      `The request of input "${name}"`,
    );
    return {
      key,
      kind: 'input',
      dueAt: timeout === undefined ? null : Date.now() + durationMs(timeout, `the timeout of waitForInput("${name}")`),
      name,
      eventKey: null,
      match: null,
      since: null,
      afterSeq: null,
      request,
    };
  }

  /**
   * The inbox seq of the last event of this name the step received: a later wait of the step takes
   * only events after it, so each of the step's waits for an event gets its own.
   */
  private lastEventSeq(name: string): number | null {
    let last: number | null = null;
    for (const wait of this.step.waits.values()) {
      if (wait.kind !== 'event' || wait.name !== name || wait.status !== 'resolved') continue;
      const seq = (fromJson(wait.value) as { seq?: number } | undefined)?.seq;
      if (typeof seq === 'number' && (last === null || seq > last)) last = seq;
    }
    return last;
  }

  /** The value a person gave, checked by the call's schema (which may transform it). */
  private async parseInput(name: string, wait: WaitRecord, schema: StandardSchemaV1 | undefined): Promise<unknown> {
    const value = fromJson(wait.value);
    if (!schema) return value;
    let result = schema['~standard'].validate(value);
    if (result instanceof Promise) result = await result;
    if (result.issues) throw new InvalidInputValueError(this.runId, name, result.issues);
    return result.value;
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
    const settle = (pending: ReadonlySet<string>): QuorumResult<any> | Error | undefined => {
      if (counted.length >= needed) {
        const cancelled = [...pending];
        this.host.cancelChildren(cancelled, `join needed ${needed} success(es) and has them`);
        return { counted: counted.slice(0, Math.max(needed, counted.length)), cancelled, failed };
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
    const pending = new Set(entries.filter((e) => !isFinished(e)).map((e) => e.runId));
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

function sleepRequest(key: string, dueAt: number): WaitRequest {
  return {
    key,
    kind: 'sleep',
    dueAt,
    name: null,
    eventKey: null,
    match: null,
    since: null,
    afterSeq: null,
    request: null,
  };
}

/** The payload of the event that resolved an event wait. */
function eventPayload(wait: WaitRecord): unknown {
  return (fromJson(wait.value) as { payload?: unknown } | undefined)?.payload ?? null;
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
