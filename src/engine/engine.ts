import { isRouteDecision } from '../model/context.js';
import {
  BraidError,
  ExecutorClosedError,
  InvalidRouteError,
  InvalidStateError,
  InvalidWorkflowError,
  NonRetryableError,
  NotSerializableError,
  RunCancelledError,
  RunNotFoundError,
  RunTimeoutError,
  type SerializedError,
  StepTimeoutError,
  serializeError,
  WorkflowNotRegisteredError,
} from '../model/errors.js';
import { canonicalJson, fromJson, toJson } from '../model/json.js';
import { validateInput } from '../model/schema.js';
import type { StepDefinition, Workflow } from '../model/workflow.js';
import type { MetricsCollector, RunSummary } from '../observe/metrics.js';
import { endSpan, startRunSpan, startStepSpan, traceIdOf } from '../observe/tracing.js';
import type { ClaimedRun } from '../store/coordination.js';
import type { CommitResult, Store } from '../store/store.js';
import {
  type EventType,
  isTerminalRun,
  isTerminalStep,
  type RunRecord,
  type RunStatus,
  type StepRecord,
  type StepStatus,
  type WriteBatch,
} from '../store/types.js';
import { retryDelayMs } from './backoff.js';
import { buildResult, stepFailure } from './buildResult.js';
import type { CallbackManager } from './callbacks.js';
import { ChildRegistry } from './children.js';
import type { Cluster } from './cluster.js';
import { Concurrency, ConcurrencyLimitError } from './concurrency.js';
import type { ExecutionConfig } from './config.js';
import { hashText, newRunId } from './ids.js';
import type { ExecutionResult } from './result.js';
import type { ActiveRun, ActiveStep, WorkflowPlan } from './runState.js';
import { StepContextImpl } from './stepContext.js';
import { TimerQueue } from './timers.js';
import { WriteQueue } from './writeQueue.js';

export interface StartOptions {
  idempotencyKey?: string;
  /** Initial global variables (WorkflowContext.globalVariables). */
  globals?: Record<string, unknown>;
  /** The run this one replays. */
  replayOf?: string;
}

/** What a new run needs besides its workflow and input; children fill the parent fields. */
interface NewRunSpec {
  plan: WorkflowPlan;
  input: unknown;
  inputJson: string;
  id: string;
  idempotencyKey: string | null;
  globals: Record<string, unknown>;
  parent: { run: ActiveRun; step: ActiveStep; key: string } | null;
  replayOf: string | null;
}

const NEVER_ABORTED = new AbortController().signal;

/** The semaphore behind a cluster-wide step limit (WorkerOptions.globalMaxParallelNodes). */
const GLOBAL_STEPS_SEMAPHORE = 'braid:steps';

/** Who holds a step's slots in the database: one attempt of a step at a time. */
const holderOf = (run: ActiveRun, step: ActiveStep) => `${run.rec.id}/${step.def.name}`;

/**
 * The scheduler and state machine. Active runs live in memory; every transition is applied to
 * memory at once, written into the current group-commit batch, and acted upon (a step function
 * invoked, a caller resolved, a callback fired) only after that batch is committed.
 */
export class Engine {
  readonly plans = new Map<string, WorkflowPlan>();
  readonly runs = new Map<string, ActiveRun>();
  readonly queue: WriteQueue;
  readonly timers = new TimerQueue();
  private freeSlots: number;
  private readonly poolUsed = new Map<string, number>();
  private ready: Array<{ run: ActiveRun; step: ActiveStep }> = [];
  private readyHead = 0;
  private resumers: Array<() => void> = [];
  private readonly idempotency = new Map<string, Promise<string>>();
  /** Top-level runs whose creation is not committed yet: how to fail their `createRun`. */
  private readonly creating = new Map<string, (error: unknown) => void>();
  private readonly concurrency = new Concurrency();
  /** Child run id → the registry of the step in memory that spawned it. */
  readonly childIndex = new Map<string, ChildRegistry>();
  private closed = false;
  /** While > 0, pump() dispatches nothing: a cascade of cancels is under way (see cancelChildren). */
  private dispatchHeld = 0;
  private nextToken = 1;
  /** Set when several processes share a scale-out store: runs are claimed, not all ours. */
  private cluster: Cluster | undefined;
  /** Graceful shutdown: running steps finish, nothing new starts. */
  private draining = false;

  constructor(
    readonly store: Store,
    readonly config: ExecutionConfig,
    readonly pools: Readonly<Record<string, number>>,
    private readonly callbacks: CallbackManager,
    private readonly metrics: MetricsCollector,
    private readonly onFinished: (result: ExecutionResult) => void,
  ) {
    this.freeSlots = config.maxParallelNodes;
    this.queue = new WriteQueue(
      store,
      (error, batch) => this.onCommitError(error, batch),
      (result, batch) => this.onCommitResult(result, batch),
    );
  }

  /** Joins a cluster of processes sharing a scale-out store (see src/worker). */
  attachCluster(cluster: Cluster): void {
    this.cluster = cluster;
  }

  get isClustered(): boolean {
    return this.cluster !== undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // Registration

  register(workflow: Workflow<any, any, any>): WorkflowPlan {
    const known = this.plans.get(workflow.name);
    if (known) {
      if (known.workflow !== workflow && known.workflow.version !== workflow.version) {
        throw new InvalidWorkflowError(
          workflow.name,
          undefined,
          `version "${workflow.version}" cannot be registered next to version "${known.workflow.version}" in one executor.`,
        );
      }
      return known;
    }
    workflow.validate();
    checkNumericOptions(workflow);
    // A process that only starts runs (in a cluster) needs no pools: the workers run the steps.
    const runsSteps = this.cluster?.runsSteps ?? true;
    for (const step of workflow.steps) {
      if (runsSteps && step.pool !== undefined && this.pools[step.pool] === undefined) {
        throw new InvalidWorkflowError(
          workflow.name,
          step.name,
          `uses pool "${step.pool}", which is not configured. Add it to the executor: \`pools: { ${step.pool}: N }\`.`,
        );
      }
    }
    const children = new Map<string, string[]>(workflow.steps.map((s) => [s.name, []]));
    for (const s of workflow.steps) for (const p of s.parents) children.get(p)?.push(s.name);
    const plan: WorkflowPlan = {
      workflow,
      children,
      roots: workflow.steps.filter((s) => s.parents.length === 0).map((s) => s.name),
      sinks: workflow.steps.filter((s) => (children.get(s.name) ?? []).length === 0).map((s) => s.name),
    };
    this.plans.set(workflow.name, plan);
    return plan;
  }

  planFor(name: string): WorkflowPlan {
    const plan = this.plans.get(name);
    if (!plan) throw new WorkflowNotRegisteredError(name, [...this.plans.keys()]);
    return plan;
  }

  // ---------------------------------------------------------------------------------------------
  // Creating runs

  /** Validates, creates and commits a top-level run; resolves with its id once it is durable. */
  async createRun(
    workflow: Workflow<any, any, any>,
    rawInput: unknown,
    options: StartOptions = {},
    onCreated?: (settled: Promise<ExecutionResult>) => void,
  ): Promise<string> {
    this.assertOpen();
    const plan = this.register(workflow);
    const key = options.idempotencyKey;
    if (key !== undefined) {
      const existing = this.idempotency.get(key);
      if (existing) return existing;
      const created = this.createKeyedRun(plan, rawInput, options, key, onCreated);
      this.idempotency.set(key, created);
      created.catch(() => this.idempotency.delete(key));
      return created;
    }
    return this.createNewRun(plan, rawInput, options, onCreated);
  }

  private async createKeyedRun(
    plan: WorkflowPlan,
    rawInput: unknown,
    options: StartOptions,
    key: string,
    onCreated: ((settled: Promise<ExecutionResult>) => void) | undefined,
  ): Promise<string> {
    const found = await this.store.findRunByIdempotencyKey(key);
    if (found) return found.id;
    return this.createNewRun(plan, rawInput, options, onCreated);
  }

  private async createNewRun(
    plan: WorkflowPlan,
    rawInput: unknown,
    options: StartOptions,
    onCreated: ((settled: Promise<ExecutionResult>) => void) | undefined,
  ): Promise<string> {
    const input = await validateInput(plan.workflow.name, plan.workflow.options.input, rawInput);
    const inputJson = toJson(input, `The input of workflow "${plan.workflow.name}"`);
    // A copy: `setGlobal` must not write into the caller's object, which may seed other runs too.
    const globals = { ...options.globals };
    toJson(globals, `The global variables of a "${plan.workflow.name}" run`);
    this.assertOpen();
    const rec = this.addRun({
      plan,
      input,
      inputJson,
      id: newRunId(),
      idempotencyKey: options.idempotencyKey ?? null,
      globals,
      parent: null,
      replayOf: options.replayOf ?? null,
    });
    const id = rec.id;
    // Durable before visible: return once the run is committed, or fail with the store's error
    // (onCommitError) instead of waiting for a commit that will never come.
    const committed = new Promise<void>((resolve, reject) => {
      this.creating.set(id, reject);
      this.queue.afterCommit(() => {
        this.creating.delete(id);
        resolve();
      });
    });
    // The caller of execute() waits on this run: register now, before it can finish and leave memory.
    const run = this.runs.get(id);
    if (run) onCreated?.(new Promise((resolve) => run.settleWaiters.push(resolve)));
    else onCreated?.(committed.then(() => this.waitFor(id, true)));
    await committed;
    return id;
  }

  /**
   * Puts a new run into memory and the current batch, and admits it (or queues it behind its
   * workflow's concurrency limit). Synchronous, so a fan-out of N spawns lands in one batch.
   * In a cluster, runs this process does not run go into the batch only, for a worker to claim.
   */
  addRun(spec: NewRunSpec): RunRecord {
    const now = Date.now();
    const wf = spec.plan.workflow;
    const groupKey = this.concurrency.groupOf(wf, spec.input);
    const rec: RunRecord = {
      id: spec.id,
      workflow: wf.name,
      version: wf.version,
      status: 'queued',
      input: spec.inputJson,
      output: null,
      error: null,
      globals: JSON.stringify(spec.globals),
      idempotencyKey: spec.idempotencyKey,
      parentRunId: spec.parent?.run.rec.id ?? null,
      parentStep: spec.parent?.step.def.name ?? null,
      spawnKey: spec.parent?.key ?? null,
      rootRunId: spec.parent?.run.rec.rootRunId ?? spec.id,
      concurrencyKey: groupKey?.key ?? null,
      replayOf: spec.replayOf,
      createdAt: now,
      startedAt: null,
      finishedAt: null,
      deadlineAt: null,
      checkpointSeq: 0,
    };
    // In a cluster, this worker runs a new run itself when it has the workflow and, for a child,
    // a free slot; the rest wait in the store for whichever worker claims them first.
    if (this.cluster && (!this.cluster.runsLocally(wf) || (spec.parent !== null && this.spareCapacity <= 0))) {
      this.queue.insertRun(rec, false);
      return rec;
    }
    const run = this.hydrate(rec, spec.plan, spec.input, spec.globals, []);
    this.queue.insertRun(rec);
    if (this.config.traceExecution) {
      run.span = startRunSpan(
        { workflow: wf.name, runId: rec.id, inputBytes: spec.inputJson.length, parentRunId: rec.parentRunId },
        spec.parent?.step.span ?? spec.parent?.run.span,
      );
    }
    this.admit(run, spec.parent?.run);
    return rec;
  }

  /** Starts the run now, or queues / cancels it per its workflow's concurrency strategy. */
  private admit(run: ActiveRun, parent: ActiveRun | undefined): void {
    const decision = this.concurrency.admit(run, parent, (r) => this.runs.get(r));
    if (decision.kind === 'start') this.startRun(run);
    else if (decision.kind === 'queue') {
      run.waitingForConcurrency = true;
      this.event(
        run,
        null,
        'run_queued',
        null,
        JSON.stringify({ reason: 'concurrency', group: run.rec.concurrencyKey }),
      );
    } else if (decision.kind === 'cancel-self') {
      this.finalizeRun(run, 'cancelled', { error: serializeError(decision.error) });
    } else {
      const oldest = this.runs.get(decision.cancelRunId);
      if (oldest) {
        this.finalizeRun(oldest, 'cancelled', {
          error: serializeError(
            new RunCancelledError(oldest.rec.id, `a newer run (${run.rec.id}) replaced it (cancel-oldest)`),
          ),
        });
      }
      this.startRun(run);
    }
  }

  private startRun(run: ActiveRun): void {
    const now = Date.now();
    run.waitingForConcurrency = false;
    run.rec.status = 'running';
    run.rec.startedAt ??= now;
    const timeoutSeconds = run.plan.workflow.options.timeoutSeconds ?? this.config.timeoutSeconds;
    if (timeoutSeconds > 0 && run.rec.deadlineAt === null) run.rec.deadlineAt = now + timeoutSeconds * 1000;
    this.writeRun(run);
    this.event(run, null, 'run_started', null, null);
    this.armDeadline(run);
    const rec = run.rec;
    if (this.callbacks.size) {
      this.queue.afterCommit(() =>
        this.callbacks.emit('onWorkflowStart', {
          runId: rec.id,
          workflow: rec.workflow,
          input: run.input,
          parentRunId: rec.parentRunId,
        }),
      );
    }
    this.advance(run);
  }

  /** Builds the in-memory state of a run from its record and stored steps. */
  private hydrate(
    rec: RunRecord,
    plan: WorkflowPlan,
    input: unknown,
    globals: Record<string, unknown>,
    stored: StepRecord[],
  ): ActiveRun {
    const byName = new Map(stored.map((s) => [s.name, s]));
    const steps = new Map<string, ActiveStep>();
    for (const def of plan.workflow.steps) {
      const rec0 = byName.get(def.name) ?? blankStep(rec.id, def.name);
      steps.set(def.name, {
        def,
        rec: rec0,
        value: rec0.status === 'succeeded' ? fromJson(rec0.output) : undefined,
        token: 0,
        controller: undefined,
        timer: undefined,
        holdsSlot: false,
        holdsPool: false,
        poolHold: undefined,
        clusterHolds: [],
        inQueue: false,
        interrupted: 0,
        children: undefined,
        span: undefined,
      });
    }
    const run: ActiveRun = {
      rec,
      plan,
      input,
      globals,
      steps,
      running: 0,
      maxParallel: plan.workflow.options.maxParallelNodes ?? Number.POSITIVE_INFINITY,
      startOrder: stored
        .filter((s) => s.startedAt !== null)
        .sort((a, b) => (a.startedAt ?? 0) - (b.startedAt ?? 0))
        .map((s) => s.name),
      completedSinceCheckpoint: 0,
      retries: 0,
      cacheHits: 0,
      settleWaiters: [],
      doneWaiters: [],
      deadlineTimer: undefined,
      span: undefined,
      waitingForConcurrency: false,
      error: undefined,
    };
    this.runs.set(rec.id, run);
    return run;
  }

  // ---------------------------------------------------------------------------------------------
  // Recovery and loading

  /** Loads every unfinished run of the registered workflows that is not in memory and resumes it. */
  async recover(): Promise<string[]> {
    this.assertOpen();
    if (this.cluster) return []; // in a cluster, workers claim unfinished runs instead
    const records = await this.store.listUnfinishedRuns([...this.plans.keys()]);
    const resumed: string[] = [];
    for (const rec of records) {
      if (this.runs.has(rec.id)) continue;
      const run = await this.load(rec);
      if (!run) continue;
      if (rec.status === 'queued') this.concurrency.requeue(run);
      else {
        this.concurrency.occupy(run);
        this.armDeadline(run);
        this.advance(run);
      }
      resumed.push(rec.id);
    }
    for (const run of this.concurrency.startable()) this.startRun(run);
    this.pump();
    return resumed;
  }

  /** Reads a run and its steps from the store into memory (not yet scheduled). */
  private async load(rec: RunRecord): Promise<ActiveRun | undefined> {
    const plan = this.plans.get(rec.workflow);
    if (!plan) return undefined;
    const stored = await this.store.getSteps(rec.id);
    if (this.runs.has(rec.id)) return this.runs.get(rec.id);
    return this.restore(rec, plan, stored);
  }

  /** Builds a stored run in memory; steps that were running when their process died go again. */
  private restore(rec: RunRecord, plan: WorkflowPlan, stored: StepRecord[]): ActiveRun {
    const run = this.hydrate(rec, plan, fromJson(rec.input), fromJson(rec.globals) ?? {}, stored);
    if (rec.concurrencyKey !== null) run.waitingForConcurrency = rec.status === 'queued';
    for (const step of run.steps.values()) {
      const s = step.rec;
      if (s.status === 'running') {
        // The process died mid-attempt: run it again (at-least-once for steps that were running).
        step.interrupted++;
        s.status = 'queued';
      }
      if (s.attempts > 0) step.children = new ChildRegistry(false, this.childIndex);
    }
    if (this.config.traceExecution) {
      run.span = startRunSpan({
        workflow: rec.workflow,
        runId: rec.id,
        inputBytes: rec.input.length,
        parentRunId: rec.parentRunId,
      });
    }
    return run;
  }

  /**
   * Takes over a run this worker has just claimed: restores it and carries on from its stored
   * state, or carries out the control request (cancel, pause, resume) that made it claimable.
   */
  adopt(claimed: ClaimedRun): void {
    const { run: rec, control } = claimed;
    const plan = this.plans.get(rec.workflow);
    if (this.runs.has(rec.id) || !plan || this.closed) {
      if (!this.runs.has(rec.id)) this.cluster?.handBack([rec.id]);
      return;
    }
    const run = this.restore(rec, plan, claimed.steps);
    run.waitingForConcurrency = false; // admitted by the claim, against the slots in the database
    if (claimed.denied) {
      const max = plan.workflow.options.maxRuns ?? 0;
      const error = new ConcurrencyLimitError(rec.workflow, rec.concurrencyKey ?? '', max);
      this.finalizeRun(run, 'cancelled', { error: serializeError(error) });
      return;
    }
    if (control?.action === 'cancel') {
      const error = new RunCancelledError(rec.id, control.reason ?? undefined);
      this.finalizeRun(run, 'cancelled', { error: serializeError(error) });
      return;
    }
    if (rec.status === 'paused') {
      if (control?.action === 'resume') this.applyResume(run);
      else this.handBackPaused(run);
      return;
    }
    if (control?.action === 'pause') {
      this.applyPause(run);
      return;
    }
    if (rec.status === 'queued') this.startRun(run);
    else {
      this.armDeadline(run);
      this.advance(run);
    }
    this.pump();
  }

  /** Whether a step in memory waits on this run as its child. */
  awaitsChild(runId: string): boolean {
    const status = this.childIndex.get(runId)?.byRunId.get(runId)?.status;
    return status !== undefined && !isTerminalRun(status);
  }

  /** The unfinished children of the steps in memory (to re-check after a lost notification). */
  awaitedChildren(): string[] {
    const ids: string[] = [];
    for (const [runId, registry] of this.childIndex) {
      const status = registry.byRunId.get(runId)?.status;
      if (status !== undefined && !isTerminalRun(status)) ids.push(runId);
    }
    return ids;
  }

  /** Children that ended in other processes reach their parent's join here. */
  childrenSettled(records: readonly RunRecord[]): void {
    for (const rec of records) if (isTerminalRun(rec.status)) this.notifyParent(rec);
  }

  /** Control requests for runs this worker holds (sent by other processes). */
  applyControls(
    controls: ReadonlyArray<{ runId: string; action: 'cancel' | 'pause' | 'resume'; reason: string | null }>,
  ) {
    for (const c of controls) {
      const run = this.runs.get(c.runId);
      if (!run || isTerminalRun(run.rec.status)) continue;
      if (c.action === 'cancel') {
        const error = new RunCancelledError(c.runId, c.reason ?? undefined);
        this.finalizeRun(run, 'cancelled', { error: serializeError(error) });
      } else if (c.action === 'pause' && (run.rec.status === 'running' || run.rec.status === 'queued')) {
        this.applyPause(run);
      } else if (c.action === 'resume' && run.rec.status === 'paused') this.applyResume(run);
    }
  }

  /** Free execution slots not yet spoken for by queued steps: how many more runs a worker may take. */
  get spareCapacity(): number {
    return this.freeSlots - (this.ready.length - this.readyHead);
  }

  /** Steps executing now. */
  get runningSteps(): number {
    return this.config.maxParallelNodes - this.freeSlots;
  }

  /** Graceful shutdown begins: steps already running finish, no new step starts. */
  stopDispatching(): void {
    this.draining = true;
  }

  /** The run in memory, loading it from the store if needed (for pause / resume / cancel). */
  private async activeRun(runId: string): Promise<ActiveRun | undefined> {
    const inMemory = this.runs.get(runId);
    if (inMemory) return inMemory;
    const rec = await this.store.getRun(runId);
    if (!rec) throw new RunNotFoundError(runId);
    if (isTerminalRun(rec.status)) return undefined;
    if (this.cluster) return this.runs.get(runId); // another process owns it, or will
    if (!this.plans.has(rec.workflow)) throw new WorkflowNotRegisteredError(rec.workflow, [...this.plans.keys()]);
    return this.load(rec);
  }

  // ---------------------------------------------------------------------------------------------
  // Results

  /** Resolves when the run ends (`untilSettled`: or pauses). */
  async waitFor(runId: string, untilSettled: boolean): Promise<ExecutionResult> {
    const run = this.runs.get(runId);
    if (run) {
      if (untilSettled && run.rec.status === 'paused' && run.running === 0) return this.resultOf(run);
      return new Promise((resolve) => (untilSettled ? run.settleWaiters : run.doneWaiters).push(resolve));
    }
    if (this.cluster) return this.waitElsewhere(runId, untilSettled);
    const rec = await this.store.getRun(runId);
    if (!rec) throw new RunNotFoundError(runId);
    const again = this.runs.get(runId);
    if (again) return this.waitFor(runId, untilSettled);
    if (!isTerminalRun(rec.status) && !(untilSettled && rec.status === 'paused')) {
      // Unfinished but not ours to run (not registered, or paused elsewhere): report its state.
      if (!this.plans.has(rec.workflow)) throw new WorkflowNotRegisteredError(rec.workflow, [...this.plans.keys()]);
      const loaded = await this.activeRun(runId);
      if (loaded && rec.status !== 'paused') {
        this.armDeadline(loaded);
        this.concurrency.occupy(loaded);
        this.advance(loaded);
        this.pump();
      }
      if (loaded) return this.waitFor(runId, untilSettled);
    }
    return this.storedResult(rec);
  }

  /** Waits for a run another process runs (or will claim): its end arrives as a notification. */
  private async waitElsewhere(runId: string, untilSettled: boolean): Promise<ExecutionResult> {
    const rec = await (this.cluster as Cluster).waitUntilSettled(runId, untilSettled);
    if (!rec) throw new RunNotFoundError(runId);
    // The run has ended; reading its steps may still meet the database restarting: try again
    // rather than fail the caller of a run that succeeded.
    for (let delayMs = 100; ; delayMs = Math.min(delayMs * 2, 2_000)) {
      try {
        return await this.storedResult(rec);
      } catch (error) {
        if (error instanceof BraidError || this.closed) throw error;
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  }

  async storedResult(rec: RunRecord): Promise<ExecutionResult> {
    const steps = await this.store.getSteps(rec.id);
    return buildResult(
      rec,
      steps.map((s) => ({ rec: s, value: s.status === 'succeeded' ? fromJson(s.output) : undefined })),
      {},
    );
  }

  resultOf(run: ActiveRun): ExecutionResult {
    return buildResult(run.rec, run.steps.values(), {
      order: run.startOrder,
      globals: run.globals,
      traceId: traceIdOf(run.span),
      retries: run.retries,
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Pause, resume, cancel

  async pause(runId: string): Promise<ExecutionResult> {
    const run = await this.activeRun(runId);
    if (!run) {
      const rec = await this.store.getRun(runId);
      if (this.cluster && rec && (rec.status === 'running' || rec.status === 'queued' || rec.status === 'paused')) {
        if (rec.status !== 'paused') await this.requestControl(runId, 'pause', null);
        return this.waitFor(runId, true);
      }
      throw new InvalidStateError(runId, rec?.status ?? 'unknown', 'pause');
    }
    if (run.rec.status === 'paused') return this.waitFor(runId, true);
    if (run.rec.status !== 'running' && run.rec.status !== 'queued') {
      throw new InvalidStateError(runId, run.rec.status, 'pause');
    }
    this.applyPause(run);
    return this.waitFor(runId, true);
  }

  /** Asks the process that owns the run (or the next worker to claim it) to act on it. */
  private async requestControl(runId: string, action: 'cancel' | 'pause' | 'resume', reason: string | null) {
    this.queue.control({ runId, action, reason });
    await this.queue.flushed();
  }

  private applyPause(run: ActiveRun): void {
    const runId = run.rec.id;
    run.rec.status = 'paused';
    this.checkpoint(run, true);
    this.writeRun(run);
    this.event(run, null, 'run_paused', null, null);
    this.queue.afterCommit(() => this.callbacks.emit('onWorkflowPause', { runId, workflow: run.rec.workflow }));
    this.maybeSettlePaused(run);
  }

  async resume(runId: string): Promise<void> {
    const run = await this.activeRun(runId);
    if (run?.rec.status !== 'paused') {
      const status = run?.rec.status ?? (await this.store.getRun(runId))?.status ?? 'unknown';
      if (this.cluster && !run && status === 'paused') return this.requestControl(runId, 'resume', null);
      throw new InvalidStateError(runId, status, 'resume');
    }
    this.applyResume(run);
    await this.queue.flushed();
  }

  private applyResume(run: ActiveRun): void {
    run.rec.status = run.waitingForConcurrency ? 'queued' : 'running';
    this.writeRun(run);
    this.event(run, null, 'run_resumed', null, null);
    if (run.waitingForConcurrency) {
      if (!this.concurrency.isQueued(run)) this.concurrency.requeue(run);
      // Its turn may have come and gone while it was paused (release passes over paused runs).
      for (const next of this.concurrency.startable()) this.startRun(next);
    } else {
      this.concurrency.occupy(run);
      this.armDeadline(run);
      this.advance(run);
      this.pump();
    }
  }

  async cancel(runId: string, reason?: string): Promise<ExecutionResult> {
    const run = await this.activeRun(runId);
    if (!run) {
      const rec = await this.store.getRun(runId);
      if (!rec) throw new RunNotFoundError(runId);
      if (this.cluster && !isTerminalRun(rec.status)) {
        // A run no worker has started yet is cancelled here and now: it may be waiting for a
        // worker with its version, or for a concurrency slot, and then no owner would come.
        const error = JSON.stringify(serializeError(new RunCancelledError(runId, reason)));
        if (!(rec.status === 'queued' && (await this.cluster.cancelUnstarted(runId, error)))) {
          await this.requestControl(runId, 'cancel', reason ?? null);
        }
        return this.waitFor(runId, false);
      }
      return this.storedResult(rec);
    }
    if (!isTerminalRun(run.rec.status)) {
      this.finalizeRun(run, 'cancelled', { error: serializeError(new RunCancelledError(runId, reason)) });
    }
    return this.waitFor(runId, false);
  }

  // ---------------------------------------------------------------------------------------------
  // Scheduling

  /** Dispatches every step of the run whose parents are done; finishes the run when all are. */
  advance(run: ActiveRun): void {
    if (run.rec.status !== 'running') return;
    for (const step of run.steps.values()) {
      const s = step.rec.status;
      if (s === 'pending') this.evaluate(run, step);
      else if (s === 'queued' && !step.inQueue && step.timer === undefined) {
        if (step.rec.nextAttemptAt !== null && step.rec.nextAttemptAt > Date.now()) this.armRetry(run, step);
        else this.enqueue(run, step);
      }
    }
    this.maybeFinishRun(run);
  }

  /** Decides a pending step once its parents are all done: run it, or skip it. */
  private evaluate(run: ActiveRun, step: ActiveStep): void {
    if (step.rec.status !== 'pending') return;
    let chosen = 0;
    let skipped = 0;
    for (const parentName of step.def.parents) {
      const parent = run.steps.get(parentName) as ActiveStep;
      const ps = parent.rec.status;
      if (!isTerminalStep(ps)) return;
      if (ps === 'failed' || ps === 'cancelled') return; // the run is ending
      const route = ps === 'succeeded' && parent.rec.route ? fromJson<string[]>(parent.rec.route) : undefined;
      if (ps === 'skipped' || (route && !route.includes(step.def.name))) skipped++;
      else chosen++;
    }
    const hasParents = step.def.parents.length > 0;
    if (hasParents && (chosen === 0 || (step.def.requireAllParents && skipped > 0))) {
      this.skip(run, step, chosen === 0 ? 'no parent chose this step' : 'a parent was skipped');
      return;
    }
    if (step.def.when) {
      let go: boolean;
      try {
        go = step.def.when(new StepContextImpl(this, run, step, NEVER_ABORTED));
      } catch (error) {
        this.failStep(run, step, serializeError(error), false);
        return;
      }
      if (!go) {
        this.skip(run, step, 'its `when` condition was false');
        return;
      }
    }
    step.rec.status = 'queued';
    const cacheKey = this.cacheKey(run, step);
    if (cacheKey === undefined) {
      this.enqueue(run, step);
      return;
    }
    const token = step.token;
    this.store.getCache(cacheKey, Date.now()).then(
      (entry) => {
        if (step.token !== token || step.rec.status !== 'queued' || isTerminalRun(run.rec.status)) return;
        if (!entry) return this.enqueue(run, step);
        run.cacheHits++;
        step.rec.cacheHit = true;
        this.event(run, step.def.name, 'step_cache_hit', null, JSON.stringify({ key: cacheKey }));
        this.queue.afterCommit(() =>
          this.callbacks.emit('onCacheHit', {
            runId: run.rec.id,
            workflow: run.rec.workflow,
            nodeId: step.def.name,
            key: cacheKey,
          }),
        );
        const cached = fromJson(entry.output);
        if (isRouteDecision(cached)) {
          this.succeedStep(run, step, cached.value, JSON.stringify(cached.value), [...cached.targets]);
        } else this.succeedStep(run, step, cached, entry.output, null);
      },
      (error) => this.failStep(run, step, serializeError(error), false),
    );
  }

  private skip(run: ActiveRun, step: ActiveStep, reason: string): void {
    const now = Date.now();
    step.rec.status = 'skipped';
    step.rec.finishedAt = now;
    this.writeStep(step);
    this.event(run, step.def.name, 'step_skipped', null, JSON.stringify({ reason }));
    this.queue.afterCommit(() =>
      this.callbacks.emit('onNodeSkip', {
        runId: run.rec.id,
        workflow: run.rec.workflow,
        nodeId: step.def.name,
        reason,
      }),
    );
    this.afterStepDone(run, step);
  }

  private enqueue(run: ActiveRun, step: ActiveStep): void {
    if (step.inQueue) return;
    step.rec.status = 'queued';
    step.inQueue = true;
    this.ready.push({ run, step });
    this.pump();
  }

  /**
   * Starts queued steps while slots are free. Steps that wake from a join go first. The ready
   * queue is an array with a moving head: started and stale entries are passed over, entries
   * blocked by a pool or a run's cap stay where they are, and the array is compacted now and then.
   */
  pump(): void {
    if (this.dispatchHeld > 0) return;
    while (this.freeSlots > 0 && this.resumers.length) {
      this.freeSlots--;
      (this.resumers.shift() as () => void)();
    }
    if (this.draining) return;
    const ready = this.ready;
    for (let i = this.readyHead; i < ready.length && this.freeSlots > 0; i++) {
      const { run, step } = ready[i] as { run: ActiveRun; step: ActiveStep };
      if (!step.inQueue || run.rec.status !== 'running' || step.rec.status !== 'queued') {
        step.inQueue = false;
        if (i === this.readyHead) this.readyHead++;
        continue;
      }
      const pool = step.def.pool;
      if (
        run.running >= run.maxParallel ||
        (pool !== undefined && (this.poolUsed.get(pool) ?? 0) >= (this.pools[pool] ?? 0))
      ) {
        continue;
      }
      if (this.cluster && step.poolHold !== 'held' && this.needsClusterSlots(step)) {
        if (step.poolHold === undefined) this.acquireClusterSlots(run, step);
        continue;
      }
      step.inQueue = false;
      if (i === this.readyHead) this.readyHead++;
      this.startAttempt(run, step);
    }
    if (this.readyHead > 1024 && this.readyHead * 2 > ready.length) {
      this.ready = ready.slice(this.readyHead);
      this.readyHead = 0;
    }
  }

  /**
   * The semaphores in the database a step needs in a cluster: its pool, whose size holds across
   * all workers, and the cluster-wide step limit when the workers set one.
   */
  private needsClusterSlots(step: ActiveStep): boolean {
    return step.def.pool !== undefined || this.cluster?.globalMaxParallelNodes !== undefined;
  }

  private clusterSemaphores(step: ActiveStep): Array<{ name: string; capacity: number }> {
    const sems: Array<{ name: string; capacity: number }> = [];
    const pool = step.def.pool;
    if (pool !== undefined) sems.push({ name: pool, capacity: this.pools[pool] ?? 0 });
    const global = this.cluster?.globalMaxParallelNodes;
    if (global !== undefined) sems.push({ name: GLOBAL_STEPS_SEMAPHORE, capacity: global });
    return sems;
  }

  /** Takes the step's slots in the database, one after the other, always in the same order. */
  private acquireClusterSlots(run: ActiveRun, step: ActiveStep): void {
    const cluster = this.cluster as Cluster;
    step.poolHold = 'acquiring';
    const holder = holderOf(run, step);
    const take = async () => {
      for (const { name, capacity } of this.clusterSemaphores(step)) {
        if (step.clusterHolds.includes(name)) continue;
        if (!(await cluster.acquirePool(name, holder, capacity))) return false;
        step.clusterHolds.push(name);
      }
      return true;
    };
    take().then(
      (granted) => {
        step.poolHold = granted ? 'held' : undefined;
        if (
          !granted ||
          this.runs.get(run.rec.id) !== run ||
          step.rec.status !== 'queued' ||
          isTerminalRun(run.rec.status)
        ) {
          this.releasePoolHold(run, step);
          return;
        }
        this.pump();
      },
      () => {
        step.poolHold = undefined; // the database is away: the safety poll pumps again
      },
    );
  }

  /** Gives back the step's slots in the database (only `only`, when given). */
  private releasePoolHold(run: ActiveRun, step: ActiveStep, only?: string): void {
    if (only === undefined && step.poolHold === 'held') step.poolHold = undefined;
    const released = step.clusterHolds.filter((name) => only === undefined || name === only);
    step.clusterHolds = step.clusterHolds.filter((name) => !released.includes(name));
    for (const name of released) this.cluster?.releasePool(name, holderOf(run, step));
  }

  private startAttempt(run: ActiveRun, step: ActiveStep): void {
    const now = Date.now();
    this.freeSlots--;
    run.running++;
    step.holdsSlot = true;
    if (step.def.pool !== undefined) {
      this.poolUsed.set(step.def.pool, (this.poolUsed.get(step.def.pool) ?? 0) + 1);
      step.holdsPool = true;
    }
    const s = step.rec;
    s.status = 'running';
    s.attempts++;
    s.nextAttemptAt = null;
    if (s.startedAt === null) {
      s.startedAt = now;
      run.startOrder.push(step.def.name);
    }
    step.token = this.nextToken++;
    const token = step.token;
    this.writeStep(step);
    this.event(run, step.def.name, 'step_started', s.attempts, null);
    const timeoutSeconds = step.def.timeoutSeconds;
    this.queue.afterCommit(() => {
      if (step.token !== token || step.rec.status !== 'running') return;
      if (this.callbacks.size) {
        this.callbacks.emit('onNodeStart', {
          runId: run.rec.id,
          workflow: run.rec.workflow,
          nodeId: step.def.name,
          attempt: s.attempts,
        });
      }
      if (timeoutSeconds !== undefined && timeoutSeconds > 0) {
        step.timer = this.timers.schedule(Date.now() + timeoutSeconds * 1000, () => {
          step.timer = undefined;
          if (step.token !== token || step.rec.status !== 'running') return;
          const error = new StepTimeoutError(step.def.name, timeoutSeconds);
          step.controller?.abort(error);
          this.attemptFailed(run, step, token, error);
        });
      }
      if (step.children) this.loadChildren(run, step, token);
      else this.invoke(run, step, token);
    });
  }

  /** Before a re-run, reads the children an earlier attempt spawned, so spawns find them. */
  private loadChildren(run: ActiveRun, step: ActiveStep, token: number): void {
    const registry = step.children as ChildRegistry;
    if (registry.loaded) {
      this.invoke(run, step, token);
      return;
    }
    this.store.getChildLinks(run.rec.id, step.def.name).then(
      (links) => {
        for (const link of links) {
          if (registry.byKey.has(link.spawnKey)) continue;
          const live = this.runs.get(link.runId);
          registry.add({
            key: link.spawnKey,
            runId: link.runId,
            workflow: link.workflow,
            status: live ? live.rec.status : link.status,
            output: live ? live.rec.output : link.output,
            error: live ? live.rec.error : link.error,
          });
        }
        registry.loaded = true;
        if (step.token === token && step.rec.status === 'running') this.invoke(run, step, token);
      },
      (error) => this.attemptFailed(run, step, token, error),
    );
  }

  private invoke(run: ActiveRun, step: ActiveStep, token: number): void {
    step.controller = undefined; // created on first use of ctx.signal: most steps never read it
    step.children?.resetOrdinals();
    if (this.config.traceExecution && run.span) {
      step.span = startStepSpan(run.span, {
        workflow: run.rec.workflow,
        runId: run.rec.id,
        step: step.def.name,
        attempt: step.rec.attempts,
        inputBytes: run.rec.input.length,
      });
    }
    const ctx = new StepContextImpl(this, run, step, undefined);
    let out: unknown;
    try {
      out = step.def.run(ctx);
    } catch (error) {
      this.attemptFailed(run, step, token, error);
      return;
    }
    if (out && typeof (out as Promise<unknown>).then === 'function') {
      (out as Promise<unknown>).then(
        (value) => this.attemptSucceeded(run, step, token, value),
        (error) => this.attemptFailed(run, step, token, error),
      );
    } else {
      this.attemptSucceeded(run, step, token, out);
    }
  }

  private attemptSucceeded(run: ActiveRun, step: ActiveStep, token: number, out: unknown): void {
    if (step.token !== token || step.rec.status !== 'running') return;
    let value = out;
    let route: string[] | null = null;
    if (isRouteDecision(out)) {
      // A step that declares `routes` may only choose among them; any step only among its children.
      const children = step.def.routes ?? run.plan.children.get(step.def.name) ?? [];
      const bad = out.targets.find((t) => !children.includes(t));
      if (bad !== undefined) {
        this.attemptFailed(
          run,
          step,
          token,
          new InvalidRouteError(run.rec.workflow, step.def.name, bad, children),
          true,
        );
        return;
      }
      value = out.value;
      route = [...out.targets];
    }
    let json: string;
    try {
      json = toJson(value, `The output of step "${step.def.name}" (workflow "${run.rec.workflow}")`);
    } catch (error) {
      this.attemptFailed(run, step, token, error, true);
      return;
    }
    const key = this.cacheKey(run, step);
    if (key !== undefined) {
      const ttl = cacheTtl(step.def.cache ?? run.plan.workflow.options.cache);
      const now = Date.now();
      // A routing step's entry keeps its route too (in the RouteDecision shape), or a hit would run
      // every child.
      const output = route ? `{"__braidRoute":true,"targets":${JSON.stringify(route)},"value":${json}}` : json;
      this.queue.putCache({ key, output, createdAt: now, expiresAt: ttl ? now + ttl * 1000 : null });
    }
    this.succeedStep(run, step, json === 'null' && value === undefined ? null : value, json, route);
  }

  private succeedStep(run: ActiveRun, step: ActiveStep, value: unknown, json: string, route: string[] | null): void {
    const s = step.rec;
    this.releaseSlot(run, step);
    s.status = 'succeeded';
    s.output = json;
    s.error = null;
    s.route = route ? JSON.stringify(route) : null;
    s.finishedAt = Date.now();
    s.startedAt ??= s.finishedAt;
    step.value = value;
    this.writeStep(step);
    this.event(run, step.def.name, 'step_succeeded', s.attempts || null, s.fallbackUsed ? '{"fallback":true}' : null);
    endSpan(step.span, 'succeeded', { outputBytes: json.length });
    step.span = undefined;
    if (this.callbacks.size) {
      const nodeId = step.def.name;
      this.queue.afterCommit(() => {
        const result = this.resultOf(run).context.nodeResults[nodeId];
        if (result) {
          this.callbacks.emit('onNodeComplete', {
            runId: run.rec.id,
            workflow: run.rec.workflow,
            nodeId,
            output: value,
            result,
          });
        }
      });
    }
    run.completedSinceCheckpoint++;
    if (this.config.enableCheckpoints && run.completedSinceCheckpoint >= this.config.checkpointInterval) {
      this.checkpoint(run);
      this.writeRun(run);
    }
    this.afterStepDone(run, step);
  }

  private attemptFailed(run: ActiveRun, step: ActiveStep, token: number, error: unknown, permanent = false): void {
    if (step.token !== token || step.rec.status !== 'running') return;
    step.token = this.nextToken++; // a late settle of this attempt is ignored from now on
    if (step.timer !== undefined) this.timers.cancel(step.timer);
    step.timer = undefined;
    step.children?.abortJoins(error);
    const serialized = serializeError(error);
    const s = step.rec;
    const retries = this.retriesFor(run, step);
    const used = s.attempts - step.interrupted;
    const retryable = !permanent && !isNonRetryable(error) && used <= retries;
    endSpan(step.span, retryable ? 'retrying' : 'failed', { error: serialized.message });
    step.span = undefined;
    this.queue.afterCommit(() =>
      this.callbacks.emit('onError', {
        runId: run.rec.id,
        workflow: run.rec.workflow,
        nodeId: step.def.name,
        attempt: s.attempts,
        error: serialized,
        willRetry: retryable,
      }),
    );
    if (retryable) {
      this.releaseSlot(run, step);
      const delayMs = retryDelayMs(used, step.def.backoff ?? run.plan.workflow.options.backoff);
      s.status = 'queued';
      s.error = JSON.stringify(serialized);
      s.nextAttemptAt = Date.now() + delayMs;
      run.retries++;
      this.writeStep(step);
      this.event(run, step.def.name, 'step_retrying', s.attempts, JSON.stringify({ delayMs, error: serialized }));
      this.queue.afterCommit(() =>
        this.callbacks.emit('onNodeRetry', {
          runId: run.rec.id,
          workflow: run.rec.workflow,
          nodeId: step.def.name,
          attempt: s.attempts,
          delayMs,
          error: serialized,
        }),
      );
      if (run.rec.status === 'running') this.armRetry(run, step);
      // A paused run waits for its running steps; this one now waits for `resume` instead.
      else this.maybeSettlePaused(run);
      this.pump();
      return;
    }
    if (step.def.fallback) {
      this.runFallback(run, step, serialized);
      return;
    }
    this.failStep(run, step, serialized, true);
  }

  private runFallback(run: ActiveRun, step: ActiveStep, error: SerializedError): void {
    const token = this.nextToken++;
    step.token = token;
    const spec = step.def.fallback as NonNullable<StepDefinition['fallback']>;
    const fallback = typeof spec === 'function' ? spec : spec.run;
    const name = typeof spec === 'function' ? undefined : spec.name;
    const timeoutSeconds = typeof spec === 'function' ? undefined : spec.timeoutSeconds;
    // A signal of its own: the primary's may already have fired (its timeout), and cancelling the
    // run must still reach the fallback.
    step.controller = undefined;
    const ctx = new StepContextImpl(this, run, step, undefined);
    const done = (value: unknown) => {
      if (step.token !== token || step.rec.status !== 'running') return;
      let json: string;
      try {
        json = toJson(value, `The fallback output of step "${step.def.name}" (workflow "${run.rec.workflow}")`);
      } catch (e) {
        return this.failStep(run, step, serializeError(e), true);
      }
      step.rec.fallbackUsed = true;
      this.event(run, step.def.name, 'step_fallback', step.rec.attempts, JSON.stringify({ fallback: name, error }));
      this.succeedStep(run, step, value, json, null);
    };
    const failed = (e: unknown) => {
      if (step.token !== token || step.rec.status !== 'running') return;
      const s = serializeError(e);
      const label = name ? `fallback "${name}"` : 'fallback';
      this.failStep(run, step, { ...s, message: `${label} failed: ${s.message}`, cause: error }, true);
    };
    if (timeoutSeconds !== undefined && timeoutSeconds > 0) {
      step.timer = this.timers.schedule(Date.now() + timeoutSeconds * 1000, () => {
        step.timer = undefined;
        if (step.token !== token || step.rec.status !== 'running') return;
        const timeout = new StepTimeoutError(name ?? step.def.name, timeoutSeconds);
        step.controller?.abort(timeout);
        failed(timeout);
      });
    }
    try {
      const out = fallback(ctx, error);
      if (out && typeof (out as Promise<unknown>).then === 'function') (out as Promise<unknown>).then(done, failed);
      else done(out);
    } catch (e) {
      failed(e);
    }
  }

  private failStep(run: ActiveRun, step: ActiveStep, error: SerializedError, final: boolean): void {
    this.releaseSlot(run, step);
    const s = step.rec;
    s.status = 'failed';
    s.error = JSON.stringify(error);
    s.finishedAt = Date.now();
    this.writeStep(step);
    this.event(run, step.def.name, 'step_failed', s.attempts || null, JSON.stringify({ error, final }));
    this.finalizeRun(run, 'failed', { error: stepFailure(run.rec.id, step.def.name, error) });
  }

  private armRetry(run: ActiveRun, step: ActiveStep): void {
    const due = step.rec.nextAttemptAt ?? Date.now();
    step.timer = this.timers.schedule(due, () => {
      step.timer = undefined;
      if (step.rec.status !== 'queued' || run.rec.status !== 'running') return;
      this.enqueue(run, step);
    });
  }

  private armDeadline(run: ActiveRun): void {
    const deadline = run.rec.deadlineAt;
    if (deadline === null || run.deadlineTimer !== undefined) return;
    run.deadlineTimer = this.timers.schedule(deadline, () => {
      run.deadlineTimer = undefined;
      if (isTerminalRun(run.rec.status)) return;
      const seconds = Math.round((deadline - (run.rec.startedAt ?? run.rec.createdAt)) / 1000);
      this.finalizeRun(run, 'timed_out', { error: serializeError(new RunTimeoutError(run.rec.id, seconds)) });
    });
  }

  /** Called when a step reaches a final state: wake its children, then see if the run is done. */
  private afterStepDone(run: ActiveRun, step: ActiveStep): void {
    if (run.rec.status === 'running') {
      for (const child of run.plan.children.get(step.def.name) ?? []) {
        this.evaluate(run, run.steps.get(child) as ActiveStep);
      }
    }
    this.maybeFinishRun(run);
    this.maybeSettlePaused(run);
    this.pump();
  }

  private maybeFinishRun(run: ActiveRun): void {
    if (run.rec.status !== 'running') return;
    for (const step of run.steps.values()) if (!isTerminalStep(step.rec.status)) return;
    const sinks = run.plan.sinks.map((n) => run.steps.get(n) as ActiveStep).filter((s) => s.rec.status === 'succeeded');
    const output = sinks.length === 1 ? sinks[0]?.value : Object.fromEntries(sinks.map((s) => [s.def.name, s.value]));
    this.finalizeRun(run, 'succeeded', { output });
  }

  private maybeSettlePaused(run: ActiveRun): void {
    if (run.rec.status !== 'paused' || run.running > 0) return;
    this.queue.afterCommit(() => {
      if (run.rec.status !== 'paused' || run.running > 0) return;
      const waiters = run.settleWaiters.splice(0);
      if (waiters.length) {
        const result = this.resultOf(run);
        for (const w of waiters) w(result);
      }
      // In a cluster a paused run is nobody's: `resume`, from any process, makes it claimable again.
      if (this.cluster) this.handBackPaused(run);
    });
  }

  private handBackPaused(run: ActiveRun): void {
    const id = run.rec.id;
    if (this.runs.get(id) !== run) return;
    this.forget(run);
    // Callers of result() wait on: the run ends wherever it is resumed.
    this.waitElsewhereFor(run, id, false);
    this.cluster?.handBack([id]);
  }

  private releaseSlot(run: ActiveRun, step: ActiveStep): void {
    if (step.timer !== undefined) {
      this.timers.cancel(step.timer);
      step.timer = undefined;
    }
    if (step.holdsSlot) {
      step.holdsSlot = false;
      run.running--;
      this.freeSlots++;
    }
    if (step.holdsPool) {
      step.holdsPool = false;
      const pool = step.def.pool as string;
      this.poolUsed.set(pool, (this.poolUsed.get(pool) ?? 1) - 1);
    }
    this.releasePoolHold(run, step);
  }

  /** A step waiting in `join` gives its slot back so its children can run (no starvation). */
  yieldSlot(run: ActiveRun, step: ActiveStep): void {
    if (!step.holdsSlot) return;
    step.holdsSlot = false;
    run.running--;
    this.freeSlots++;
    // The cluster-wide step limit too, or parents waiting in joins could hold every slot while
    // their children wait for one.
    this.releasePoolHold(run, step, GLOBAL_STEPS_SEMAPHORE);
    this.pump();
    // Its children may be waiting for a worker: this one has room for them now.
    this.cluster?.capacityFreed();
  }

  /** Takes a slot back for a step whose join finished; such steps go before new ones. */
  reclaimSlot(run: ActiveRun, step: ActiveStep, token: number, then: (ok: boolean) => void): void {
    if (step.holdsSlot) {
      then(true);
      return;
    }
    const global = this.cluster?.globalMaxParallelNodes;
    if (global !== undefined && this.cluster && !step.clusterHolds.includes(GLOBAL_STEPS_SEMAPHORE)) {
      this.cluster.acquirePool(GLOBAL_STEPS_SEMAPHORE, holderOf(run, step), global).then(
        (granted) => {
          if (granted) step.clusterHolds.push(GLOBAL_STEPS_SEMAPHORE);
          if (!granted || step.token !== token || step.rec.status !== 'running') {
            if (granted) this.releasePoolHold(run, step);
            return then(false);
          }
          this.reclaimSlot(run, step, token, then);
        },
        (error) => this.attemptFailed(run, step, token, error),
      );
      return;
    }
    this.resumers.push(() => {
      if (step.token !== token || step.rec.status !== 'running') {
        this.freeSlots++; // the attempt ended while it waited: hand the slot on
        return then(false);
      }
      step.holdsSlot = true;
      run.running++;
      then(true);
    });
    this.pump();
  }

  /**
   * After a restart, a step's children are known only to the store until the step re-runs and reads
   * its links, so a parent that ends before that (cancelled while paused, say) finds them there.
   * Reading the links rather than scanning the runs in memory also reaches children not loaded yet.
   */
  private cancelStoredChildren(run: ActiveRun, stepName: string, status: RunStatus): void {
    const reason = `its parent run ${run.rec.id} ended ${status}`;
    this.store.getChildLinks(run.rec.id, stepName).then(
      (links) => {
        for (const link of links) {
          if (isTerminalRun(link.status) || this.closed) continue;
          if (this.cluster && !this.runs.has(link.runId)) {
            this.queue.control({ runId: link.runId, action: 'cancel', reason });
          } else this.cancel(link.runId, reason).catch(() => {});
        }
      },
      () => {}, // the store closed meanwhile: nothing more this process can do
    );
  }

  /**
   * Cancels children a join no longer needs. Nothing is dispatched until all are cancelled: each
   * cancel frees a slot, and pumping then would start (and record as started) a step of the very
   * next child to cancel. Measured: cancelling a 5,000-child fan-out recorded 5,000 step starts.
   */
  cancelChildren(runIds: readonly string[], reason: string): void {
    this.cancelRuns(runIds, reason);
    this.pump();
  }

  /** Cancels the runs held in memory, dispatching nothing until all are done (see cancelChildren). */
  private cancelRuns(runIds: Iterable<string>, reason: string): void {
    this.dispatchHeld++;
    try {
      for (const runId of runIds) {
        const child = this.runs.get(runId);
        if (child && !isTerminalRun(child.rec.status)) {
          this.finalizeRun(child, 'cancelled', { error: serializeError(new RunCancelledError(runId, reason)) });
        } else if (!child && this.cluster) {
          // Another worker holds it (or will): ask, in the same commit as the parent's change.
          this.queue.control({ runId, action: 'cancel', reason });
        }
      }
    } finally {
      this.dispatchHeld--;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Ending runs

  finalizeRun(
    run: ActiveRun,
    status: Extract<RunStatus, 'succeeded' | 'failed' | 'cancelled' | 'timed_out'>,
    outcome: { output?: unknown; error?: SerializedError },
  ): void {
    if (isTerminalRun(run.rec.status)) return;
    const now = Date.now();
    const wasWaiting = run.waitingForConcurrency;
    run.waitingForConcurrency = false;
    const reason =
      status === 'succeeded'
        ? undefined
        : status === 'cancelled'
          ? new RunCancelledError(run.rec.id)
          : new RunCancelledError(run.rec.id, `the run ${status === 'timed_out' ? 'timed out' : 'failed'}`);
    for (const step of run.steps.values()) {
      if (isTerminalStep(step.rec.status)) continue;
      if (step.rec.status === 'running') {
        step.token = this.nextToken++;
        step.controller?.abort(reason);
        step.children?.abortJoins(reason);
        endSpan(step.span, 'cancelled');
        step.span = undefined;
      }
      this.releaseSlot(run, step);
      step.inQueue = false;
      step.rec.status = 'cancelled';
      step.rec.finishedAt = now;
      this.writeStep(step);
      this.event(run, step.def.name, 'step_cancelled', null, null);
    }
    // Cancellation cascades to children that are still running; the pump below catches up.
    const unfinishedChildren: string[] = [];
    for (const step of run.steps.values()) {
      for (const child of step.children?.unfinished() ?? []) unfinishedChildren.push(child.runId);
      if (step.children && !step.children.loaded) this.cancelStoredChildren(run, step.def.name, status);
    }
    this.cancelRuns(unfinishedChildren, `its parent run ${run.rec.id} ended ${status}`);
    if (run.deadlineTimer !== undefined) this.timers.cancel(run.deadlineTimer);
    run.deadlineTimer = undefined;
    run.rec.status = status;
    run.rec.finishedAt = now;
    run.rec.startedAt ??= now;
    if (status === 'succeeded') {
      try {
        run.rec.output = toJson(outcome.output, `The output of workflow "${run.rec.workflow}"`);
      } catch (error) {
        run.rec.status = 'failed';
        run.rec.error = JSON.stringify(serializeError(error));
      }
    } else {
      run.rec.error = JSON.stringify(outcome.error ?? serializeError(new RunCancelledError(run.rec.id)));
    }
    run.error = run.rec.error ? fromJson<SerializedError>(run.rec.error) : undefined;
    this.checkpoint(run, true);
    this.writeRun(run);
    this.event(run, null, `run_${run.rec.status}` as EventType, null, run.rec.error);
    this.pump();
    const next = this.concurrency.release(run, wasWaiting);
    if (next) this.startRun(next);
    this.queue.afterCommit(() => this.afterRunCommitted(run));
  }

  private afterRunCommitted(run: ActiveRun): void {
    this.forget(run);
    this.cluster?.capacityFreed();
    endSpan(run.span, run.rec.status, {
      outputBytes: run.rec.output?.length ?? 0,
      ...(run.error ? { error: run.error.message } : {}),
    });
    // Building a full ExecutionResult per child of a 100k fan-out is measurable: only build one
    // when someone will read it (a waiter, a callback handler, or the history of top-level runs).
    const isRoot = run.rec.parentRunId === null;
    const needed = isRoot || run.settleWaiters.length > 0 || run.doneWaiters.length > 0 || this.callbacks.size > 0;
    const result = needed ? this.resultOf(run) : undefined;
    if (result) {
      for (const w of run.settleWaiters.splice(0)) w(result);
      for (const w of run.doneWaiters.splice(0)) w(result);
      this.metrics.recordExecution(result);
      if (isRoot) this.onFinished(result);
    } else {
      this.metrics.recordRun(summaryOf(run));
    }
    if (result && this.callbacks.size) {
      this.callbacks.emit('onWorkflowComplete', {
        runId: run.rec.id,
        workflow: run.rec.workflow,
        output: result.output,
        result,
      });
      if (run.error && run.rec.status !== 'cancelled') {
        this.callbacks.emit('onError', {
          runId: run.rec.id,
          workflow: run.rec.workflow,
          nodeId: undefined,
          attempt: undefined,
          error: run.error,
          willRetry: false,
        });
      }
    }
    this.notifyParent(run.rec);
  }

  /** A child's end reaches its parent only through the parent step's join. */
  private notifyParent(rec: RunRecord): void {
    if (rec.parentRunId === null || rec.parentStep === null) return;
    const parent = this.runs.get(rec.parentRunId);
    const registry = parent?.steps.get(rec.parentStep)?.children;
    registry?.settle(rec.id, rec.status, rec.output, rec.error);
  }

  // ---------------------------------------------------------------------------------------------
  // Small helpers

  private retriesFor(run: ActiveRun, step: ActiveStep): number {
    return (
      step.def.retries ??
      run.plan.workflow.options.retries ??
      (this.config.retryFailedNodes ? this.config.maxRetries : 0)
    );
  }

  /** The cache key of a cached step: workflow, version, step and the step's whole input. */
  private cacheKey(run: ActiveRun, step: ActiveStep): string | undefined {
    const policy = step.def.cache ?? run.plan.workflow.options.cache;
    if (!policy) return undefined;
    const parents: Record<string, unknown> = {};
    for (const p of step.def.parents) parents[p] = run.steps.get(p)?.value;
    const wf = run.plan.workflow;
    return hashText(`${wf.name}\0${wf.version}\0${step.def.name}\0${canonicalJson({ input: run.input, parents })}`);
  }

  /**
   * Stores the run's global variables. Periodic checkpoints are opt-in (enableCheckpoints); a run
   * that pauses or ends always stores them (`final`), so its result, read back later, has them.
   */
  private checkpoint(run: ActiveRun, final = false): void {
    if (!this.config.enableCheckpoints && !final) return;
    run.rec.globals = JSON.stringify(run.globals);
    run.rec.checkpointSeq += run.completedSinceCheckpoint;
    run.completedSinceCheckpoint = 0;
  }

  writeRun(run: ActiveRun): void {
    this.queue.updateRun(run.rec);
  }

  private writeStep(step: ActiveStep): void {
    this.queue.writeStep(step.rec);
  }

  event(run: ActiveRun, step: string | null, type: EventType, attempt: number | null, data: string | null): void {
    this.queue.appendEvent({ runId: run.rec.id, step, type, at: Date.now(), attempt, data });
  }

  private onCommitError(error: unknown, batch: WriteBatch): void {
    // A failed commit means memory is ahead of the store. Drop the runs it touched from memory and
    // fail their waiters: the store still holds their last committed state, which `recover` resumes.
    // In a cluster the runs go back to the queue instead and waiters wait on: a worker (maybe this
    // one, once the database is back) carries on from the committed state.
    console.error('[braid] store commit failed; affected runs will resume from their last committed state:', error);
    const ids = new Set([...batch.newRuns.map((r) => r.id), ...batch.runUpdates.map((r) => r.id)]);
    if (this.cluster) {
      for (const step of batch.steps) ids.add(step.runId);
      for (const event of batch.events) ids.add(event.runId);
    }
    for (const rec of batch.newRuns) {
      const reject = this.creating.get(rec.id);
      this.creating.delete(rec.id);
      reject?.(error);
    }
    const dropped = this.dropRuns(ids, error);
    this.cluster?.handBack(dropped);
  }

  /**
   * What a scale-out store did not write: runs this worker no longer owns (its lease expired and
   * another worker has them: drop them, the other worker's outcome is the one that counts), and
   * new runs whose identity already existed (another process created them first).
   */
  private onCommitResult(result: CommitResult, batch: WriteBatch): void {
    if (result.refusedRunIds?.length) {
      console.warn(
        `[braid] ${result.refusedRunIds.length} run(s) were taken over by another worker (this worker's lease ` +
          'expired); their late results were refused and they were dropped here.',
      );
      this.dropRuns(result.refusedRunIds, new Error('another worker took this run over'));
    }
    if (result.duplicateRunIds.length) {
      const duplicates = new Set(result.duplicateRunIds);
      for (const rec of batch.newRuns) if (duplicates.has(rec.id)) this.adoptExistingIdentity(rec);
    }
  }

  /**
   * A new run lost the race for its identity: another process created a run with the same
   * idempotency key, or the same (parent, step, key), first. Point everything at that run.
   */
  private adoptExistingIdentity(phantom: RunRecord): void {
    const run = this.runs.get(phantom.id);
    if (run) {
      this.forget(run);
      for (const step of run.steps.values()) step.token = this.nextToken++;
    }
    const existing =
      phantom.idempotencyKey !== null
        ? this.store.findRunByIdempotencyKey(phantom.idempotencyKey).then((r) => r?.id)
        : this.store
            .getChildLinks(phantom.parentRunId as string, phantom.parentStep as string)
            .then((links) => links.find((l) => l.spawnKey === phantom.spawnKey)?.runId);
    existing.then(
      (id) => {
        if (!id) return;
        if (phantom.parentRunId !== null) {
          const registry = this.runs.get(phantom.parentRunId)?.steps.get(phantom.parentStep as string)?.children;
          registry?.rename(phantom.id, id);
        }
        if (run) this.waitElsewhereFor(run, id, true);
      },
      () => {},
    );
  }

  /** Forgets runs: their steps are stopped, their waiters fail (or, in a cluster, wait on). */
  private dropRuns(ids: Iterable<string>, error: unknown): string[] {
    const dropped: string[] = [];
    for (const id of ids) {
      const run = this.runs.get(id);
      if (!run) continue;
      this.forget(run);
      dropped.push(id);
      for (const step of run.steps.values()) {
        step.token = this.nextToken++;
        step.controller?.abort(error);
        step.children?.abortJoins(error);
        this.releaseSlot(run, step);
      }
      if (this.cluster) {
        this.waitElsewhereFor(run, id, true);
        continue;
      }
      const result = { ...this.resultOf(run), success: false, error: serializeError(error) };
      for (const w of run.settleWaiters.splice(0)) w(result);
      for (const w of run.doneWaiters.splice(0)) w(result);
    }
    this.pump();
    return dropped;
  }

  /** Takes a run out of memory: its children leave the index, its deadline timer stops. */
  private forget(run: ActiveRun): void {
    this.runs.delete(run.rec.id);
    for (const step of run.steps.values()) step.children?.unindex();
    if (run.deadlineTimer !== undefined) this.timers.cancel(run.deadlineTimer);
    run.deadlineTimer = undefined;
  }

  /**
   * In a cluster, hands a forgotten run's callers over to the run `runId` as it goes on elsewhere:
   * `result()` callers always, `execute()` callers (who also want a pause) when `settleToo`.
   */
  private waitElsewhereFor(run: ActiveRun, runId: string, settleToo: boolean): void {
    if (settleToo) for (const w of run.settleWaiters.splice(0)) this.waitFor(runId, true).then(w, () => {});
    for (const w of run.doneWaiters.splice(0)) this.waitFor(runId, false).then(w, () => {});
  }

  /** A worker that lost its lease drops everything it held: other workers have taken it over. */
  dropAll(reason: unknown): void {
    this.dropRuns([...this.runs.keys()], reason);
  }

  private assertOpen(): void {
    if (this.closed) throw new ExecutorClosedError();
  }

  /** Stops dispatching, aborts running steps (they will resume on the next start), flushes. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.ready = [];
    this.readyHead = 0;
    this.resumers = [];
    for (const run of this.runs.values()) {
      for (const step of run.steps.values()) {
        if (step.rec.status !== 'running') continue;
        step.token = this.nextToken++;
        step.controller?.abort(new ExecutorClosedError());
      }
    }
    this.timers.stop();
    await this.queue.flushed();
    // Callers still waiting get the run as it stands, not a promise that never settles; the run
    // itself stays unfinished in the store and resumes on the next start.
    const error = serializeError(new ExecutorClosedError());
    for (const run of this.runs.values()) {
      if (!run.settleWaiters.length && !run.doneWaiters.length) continue;
      const result = { ...this.resultOf(run), success: false, error };
      for (const w of run.settleWaiters.splice(0)) w(result);
      for (const w of run.doneWaiters.splice(0)) w(result);
    }
    this.runs.clear();
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

function summaryOf(run: ActiveRun): RunSummary {
  const nodeDurations: Record<string, number> = {};
  for (const step of run.steps.values()) {
    const { startedAt, finishedAt } = step.rec;
    if (startedAt !== null && finishedAt !== null) nodeDurations[step.def.name] = finishedAt - startedAt;
  }
  const end = run.rec.finishedAt ?? Date.now();
  return {
    workflow: run.rec.workflow,
    status: run.rec.status,
    executionTime: end - (run.rec.startedAt ?? run.rec.createdAt),
    retries: run.retries,
    cacheHits: run.cacheHits,
    nodeDurations,
  };
}

function blankStep(runId: string, name: string): StepRecord {
  return {
    runId,
    name,
    status: 'pending' satisfies StepStatus,
    attempts: 0,
    output: null,
    error: null,
    startedAt: null,
    finishedAt: null,
    nextAttemptAt: null,
    route: null,
    cacheHit: false,
    fallbackUsed: false,
  };
}

/**
 * Refuses numbers that would make runs misbehave rather than fail: a `maxParallelNodes` or
 * `maxRuns` of 0 leaves every run waiting forever, a negative or fractional retry count is a typo.
 */
function checkNumericOptions(workflow: Workflow<any, any, any>): void {
  const isWholeAtLeast = (value: number | undefined, min: number) =>
    value === undefined || (Number.isInteger(value) && value >= min);
  const isNonNegative = (value: number | undefined) => value === undefined || value >= 0;
  const refuse = (step: string | undefined, option: string, rule: string, value: unknown) => {
    throw new InvalidWorkflowError(workflow.name, step, `\`${option}\` must be ${rule}, got ${value}.`);
  };
  const o = workflow.options;
  if (!isWholeAtLeast(o.maxParallelNodes, 1))
    refuse(undefined, 'maxParallelNodes', 'a whole number >= 1', o.maxParallelNodes);
  if (!isWholeAtLeast(o.maxRuns, 1)) refuse(undefined, 'maxRuns', 'a whole number >= 1', o.maxRuns);
  if (!isWholeAtLeast(o.retries, 0)) refuse(undefined, 'retries', 'a whole number >= 0', o.retries);
  if (!isNonNegative(o.timeoutSeconds)) refuse(undefined, 'timeoutSeconds', '>= 0 (0 = no deadline)', o.timeoutSeconds);
  for (const step of workflow.steps) {
    if (!isWholeAtLeast(step.retries, 0)) refuse(step.name, 'retries', 'a whole number >= 0', step.retries);
    if (!isNonNegative(step.timeoutSeconds))
      refuse(step.name, 'timeoutSeconds', '>= 0 (0 = no limit)', step.timeoutSeconds);
  }
}

function cacheTtl(policy: boolean | { ttlSeconds?: number } | undefined): number | undefined {
  return typeof policy === 'object' ? policy.ttlSeconds : undefined;
}

function isNonRetryable(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof NonRetryableError || e instanceof NotSerializableError) return true;
  }
  return false;
}
