import { CallbackManager } from '../engine/callbacks.js';
import { type Clock, systemClock } from '../engine/clock.js';
import { type ExecutionConfig, resolveConfig } from '../engine/config.js';
import { Engine, type StartOptions } from '../engine/engine.js';
import type { ForkOptions } from '../engine/forking.js';
import type { ProvidedInput, SendEventOptions, SentEvent } from '../engine/inbox.js';
import type { Checkpoint, ExecutionResult, WorkflowContext } from '../engine/result.js';
import type { ProgressUpdate, StepProgressValue } from '../engine/stepProgress.js';
import { InvalidConfigError, RunNotFoundError } from '../model/errors.js';
import type { Schedule } from '../model/schedule.js';
import type { Workflow } from '../model/workflow.js';
import { type ExecutorMetrics, MetricsCollector } from '../observe/metrics.js';
import type { Store } from '../store/store.js';
import type {
  EventRecord,
  ForkRecord,
  RunStatus,
  ScheduleRecord,
  ScheduleTickRecord,
  StreamChunk,
  WaitRecord,
} from '../store/types.js';
import { ClusterMember } from '../worker/clusterMember.js';
import { defaultStore } from './defaultStore.js';
import {
  checkLimitValue,
  declaredPool,
  describeLimits,
  type LimitsView,
  limitedWorkflow,
  type MaxRunsView,
  type PoolUsage,
  type PoolView,
} from './limitViews.js';
import type { ExecutorOptions } from './options.js';
import { type PruneOptions, type PruneResult, pruneStore } from './pruning.js';
import { describeRateLimits, type RateLimitChange, type RateLimitView, rateLimitSetting } from './rateLimitViews.js';
import { RetentionTimer, retentionPolicy } from './retention.js';
import { type CreateScheduleOptions, Schedules } from './schedules.js';
import {
  checkStreamTarget,
  chunkView,
  followChunks,
  SharedReads,
  type StreamChunkView,
  type StreamReadOptions,
} from './stepStream.js';
import { StreamWatchers } from './streamWatchers.js';

/** A started run. Holding one costs nothing; `result()` waits for the run to end. */
export interface RunHandle<TOut = unknown> {
  readonly runId: string;
  readonly workflow: string;
  /** Resolves when the run ends (succeeded, failed, cancelled or timed out). */
  result(): Promise<ExecutionResult<TOut>>;
  status(): Promise<RunStatus>;
  /**
   * The run's stream output (`ctx.emit`) of every step, stream `name` (default `'default'`; `'*'`
   * for all): what was written, then live until the run ends. Each chunk says its step and attempt.
   * For one step's stream, pass `{ step }`: it completes when that step ends.
   */
  stream<T = unknown>(name?: string, options?: Omit<StreamReadOptions, 'name'>): AsyncIterable<StreamChunkView<T>>;
}

export type ExecuteOptions = Omit<StartOptions, 'globals'>;

/**
 * Runs workflows durably. By default runs live in a SQLite file (`.braid/braid.db`, or the path
 * in BRAID_DB); pass `store` to choose another. Unfinished runs of the registered workflows are
 * resumed when the executor opens, which happens on first use (or `await executor.open()`).
 *
 * This is Braid's composition root: it picks the default store, builds the engine, and, on a store
 * that coordinates a cluster (PostgreSQL), plugs a worker into the engine's ports.
 */
export class WorkflowExecutor {
  readonly config: ExecutionConfig;
  readonly callbackManager = new CallbackManager();
  readonly metricsCollector = new MetricsCollector();
  /** The most recent results of top-level runs, newest last (at most `historySize`). */
  readonly executionHistory: ExecutionResult[] = [];
  readonly store: Store;
  private readonly engine: Engine;
  private readonly historySize: number;
  private readonly ownsStore: boolean;
  private readonly shouldRecover: boolean;
  private readonly workerOptions: ExecutorOptions['worker'];
  /** Set on a scale-out store: this process's membership in the cluster of workers. */
  private member: ClusterMember | undefined;
  private opening: Promise<void> | undefined;
  private readonly streamWatchers: StreamWatchers;
  private readonly sharedReads: SharedReads;
  /** Runs resumed when the executor opened, not yet returned by `recover()`. */
  private resumedOnOpen: string[] = [];
  /** The one background timer that prunes expired runs and bounds event logs (none with `retention: false`). */
  private readonly retention: RetentionTimer | undefined;
  /** Schedules: their management, and the one timer that fires them. */
  private readonly scheduling: Schedules;
  private readonly codeSchedules: ReadonlyArray<Schedule<any>>;
  /** ExecutorOptions.pools: the sizes in code, which setPoolSize overrides. */
  private readonly pools: Readonly<Record<string, number>>;

  constructor(options: ExecutorOptions = {}) {
    this.config = resolveConfig(options);
    for (const [name, size] of Object.entries(options.pools ?? {})) {
      if (!Number.isInteger(size) || size < 1) {
        throw new InvalidConfigError(`Pool "${name}"`, `must have a size that is a whole number >= 1, got ${size}.`);
      }
    }
    const historySize = options.historySize ?? 100;
    if (!Number.isInteger(historySize) || historySize < 0) {
      throw new InvalidConfigError('historySize', `must be a whole number >= 0, got ${historySize}.`);
    }
    this.historySize = historySize;
    this.pools = { ...options.pools };
    this.ownsStore = !options.store;
    this.store = options.store ?? defaultStore();
    this.workerOptions = options.worker;
    this.shouldRecover = options.recover ?? true;
    const policy = retentionPolicy(options.retention);
    const store = this.store;
    const clock = options.clock ?? systemClock;
    if (clock !== systemClock && store.usesDatabaseClock) throw virtualClockRefused(store);
    this.engine = new Engine({
      store,
      clock,
      config: this.config,
      pools: options.pools ?? {},
      callbacks: this.callbackManager,
      metrics: this.metricsCollector,
      isTransientStoreError: (error) => store.isTransientError?.(error) ?? false,
      onFinished: (r) => this.remember(r),
    });
    for (const wf of options.workflows ?? []) this.engine.register(wf);
    this.streamWatchers = new StreamWatchers(this.engine, () => this.member);
    this.sharedReads = new SharedReads(this.store);
    this.codeSchedules = options.schedules ?? [];
    for (const s of this.codeSchedules) this.engine.register(s.workflow);
    this.scheduling = new Schedules(this.store, this.engine, {
      isCluster: () => this.member !== undefined,
      workerId: () => this.member?.id ?? null,
      cancelRun: (runId, reason) => this.engine.cancel(runId, reason),
    });
    if (policy)
      this.retention = new RetentionTimer(store, policy, () => this.engine.registry.workflows(), this.engine.clock);
  }

  /** Adds workflows this executor can run, spawn and recover. Checks each definition. */
  register(...workflows: Array<Workflow<any, any, any>>): this {
    for (const wf of workflows) this.engine.register(wf);
    if (this.opening && this.shouldRecover)
      this.opening = this.opening.then(() => this.engine.recover().then(() => {}));
    return this;
  }

  /** Opens the store (applying migrations) and resumes unfinished runs. Called on first use. */
  open(): Promise<void> {
    this.opening ??= (async () => {
      await this.store.open();
      const coordination = this.store.coordination;
      if (coordination) {
        // A scale-out store judges leases and deadlines on its own clock, as usesDatabaseClock says.
        if (this.engine.clock !== systemClock) throw virtualClockRefused(this.store);
        // Many processes share this store: runs are claimed by workers, not recovered by each.
        const options = typeof this.workerOptions === 'object' ? this.workerOptions : {};
        const claim = this.workerOptions === false ? false : (options.claim ?? this.shouldRecover);
        this.member = new ClusterMember(this.engine, this.store, coordination, { ...options, claim });
        this.engine.attachCluster(this.member);
        this.shareProgress(this.member);
        await this.member.start();
        this.retention?.start();
        await this.scheduling.define(this.codeSchedules);
        // Only a process that runs work fires schedules (one with `worker: false` only manages them).
        if (claim) await this.scheduling.start();
        return;
      }
      await this.store.lockForExecutor?.();
      // Before recovery, so queued runs line up under the limits in force.
      await this.applyStoredLimits();
      if (this.shouldRecover) this.resumedOnOpen = await this.engine.recover();
      this.retention?.start();
      await this.scheduling.define(this.codeSchedules);
      if (this.shouldRecover) await this.scheduling.start();
    })();
    return this.opening;
  }

  /** Resumes every unfinished run of the registered workflows; returns their handles. */
  async recover(): Promise<RunHandle[]> {
    await this.open();
    // On a fresh executor, open() has just resumed them: report those too.
    const ids = [...this.resumedOnOpen.splice(0), ...(await this.engine.recover())];
    return Promise.all(ids.map((id) => this.getHandle(id)));
  }

  /** Runs a workflow and waits until it ends or pauses. */
  async execute<I, R>(
    workflow: Workflow<I, any, R>,
    input: I,
    context?: Partial<Pick<WorkflowContext, 'globalVariables'>>,
    options: ExecuteOptions = {},
  ): Promise<ExecutionResult<R>> {
    await this.open();
    let settled: Promise<ExecutionResult> | undefined;
    const runId = await this.engine.createRun(
      workflow,
      input,
      { ...options, globals: context?.globalVariables ?? {} },
      (p) => {
        settled = p;
      },
    );
    return (settled ?? this.engine.waitFor(runId, true)) as Promise<ExecutionResult<R>>;
  }

  /** Starts a run and returns once it is durable, without waiting for it to finish. */
  async start<I, R>(workflow: Workflow<I, any, R>, input: I, options: StartOptions = {}): Promise<RunHandle<R>> {
    await this.open();
    const runId = await this.engine.createRun(workflow, input, options);
    return this.handle(runId, workflow.name);
  }

  /** A handle for an existing run (any process may have started it). */
  async getHandle(runId: string): Promise<RunHandle> {
    await this.open();
    const rec = await this.engine.runRecord(runId);
    if (!rec) throw new RunNotFoundError(runId);
    return this.handle(runId, rec.workflow);
  }

  /** The run's current state as an ExecutionResult (without waiting). */
  async inspect(runId: string): Promise<ExecutionResult> {
    await this.open();
    return this.engine.inspect(runId);
  }

  /** Stops dispatching new steps; running ones finish. Resolves with the paused result. */
  async pause(runId: string): Promise<ExecutionResult> {
    await this.open();
    return this.engine.pause(runId);
  }

  /** Continues a paused run (by id or by the `checkpoint` of its paused result), here or after a restart. */
  async resume(runOrCheckpoint: string | Checkpoint): Promise<RunHandle> {
    await this.open();
    const runId = typeof runOrCheckpoint === 'string' ? runOrCheckpoint : runOrCheckpoint.runId;
    await this.engine.resume(runId);
    return this.getHandle(runId);
  }

  /** Starts a new run of the same workflow with the same input, linked to the old one by `replayOf`. */
  async replay(runId: string): Promise<RunHandle> {
    await this.open();
    return this.getHandle(await this.engine.replay(runId));
  }

  /**
   * Starts a new run of an ended run's workflow from one of its steps: `from` and every step
   * downstream of it run again; the other steps reuse the original's outcome (recorded as reused,
   * never executed), with `outputs` in place of theirs where given. `input` replaces the run's input
   * (checked against the schema). The run, its reused steps and the link to the original
   * (`forkOf`, `forksOf`) are written in one commit; nothing is written when a check fails.
   */
  async fork(runId: string, options: ForkOptions): Promise<RunHandle> {
    await this.open();
    return this.getHandle(await this.engine.fork(runId, options));
  }

  /** The fork link of a run `fork` created (the run and step it came from, the steps it reused), if it is one. */
  async forkOf(runId: string): Promise<ForkRecord | undefined> {
    await this.open();
    return this.store.getFork(runId);
  }

  /** The runs forked from this one, oldest first. */
  async forksOf(runId: string, limit?: number): Promise<ForkRecord[]> {
    await this.open();
    return this.store.listForks(runId, limit);
  }

  /** Cancels the run and its running children; resolves with the partial results. */
  async cancel(runId: string, reason?: string): Promise<ExecutionResult> {
    await this.open();
    return this.engine.cancel(runId, reason);
  }

  /**
   * Sends an event: it is recorded in the inbox (so a step that waits for it later still gets it),
   * resolves the steps waiting for it (`ctx.waitForEvent`), each once, and starts the workflows it
   * triggers (`on: { event }`). With an `idempotencyKey`, sending it again does nothing more.
   * Resolves once all of that is durable.
   */
  async sendEvent(name: string, payload?: unknown, options?: SendEventOptions): Promise<SentEvent> {
    await this.open();
    return this.engine.sendEvent(name, payload ?? null, options);
  }

  /**
   * Gives the value a run waits for (`ctx.waitForInput(name)`): checked against the input's schema
   * (InvalidInputValueError, nothing changed), then recorded; the step goes on. The oldest pending
   * input of that name is the one answered.
   */
  async provideInput(runId: string, name: string, value: unknown): Promise<ProvidedInput> {
    await this.open();
    return this.engine.provideInput(runId, name, value);
  }

  /** The run's waits (sleeps, events, inputs), pending and settled, oldest first. */
  async waits(runId: string): Promise<WaitRecord[]> {
    await this.open();
    return this.engine.waitsOf(runId);
  }

  /**
   * Hears every event this executor commits (run and step transitions, with their `seq`), in
   * commit order, right after each commit. Returns a function that stops listening. On Postgres
   * (once open) it hears the events every process of the cluster commits, each once, as they
   * commit: seqs are then not always in order across deliveries.
   */
  onEvents(listener: (events: readonly EventRecord[]) => void): () => void {
    // In a cluster: every worker's events, so a dashboard on one process shows all runs live.
    if (this.member) return this.member.onEvents(listener);
    return this.engine.onCommitted(listener);
  }

  /**
   * A run's stream output (`ctx.emit`): the chunks stored so far, then live ones as they commit,
   * until the step (with `step`) or the run ends; then the iterator completes. Resume with
   * `afterSeq`. In one process nothing polls; on PostgreSQL chunks other workers commit arrive by
   * notification. RunNotFoundError / StepNotFoundError on the first read for a bad target.
   */
  async *stream<T = unknown>(runId: string, options: StreamReadOptions = {}): AsyncGenerator<StreamChunkView<T>> {
    for await (const page of await this.openStream(runId, options)) {
      for (const chunk of page) yield chunkView<T>(chunk);
    }
  }

  /**
   * `stream` as pages of stored chunks (their JSON text unparsed, for relaying it as is), once the
   * run and step are checked: a bad target rejects here, before any chunk.
   */
  async openStream(
    runId: string,
    options: StreamReadOptions = {},
    pageSize?: number,
  ): Promise<AsyncIterable<StreamChunk[]>> {
    await this.open();
    await checkStreamTarget(this.store, this.streamWatchers, runId, options);
    return followChunks(this.store, this.sharedReads, this.streamWatchers, runId, options, pageSize);
  }

  /**
   * One page of a run's stored stream chunks, without following: of one step with `step`, of
   * stream `name` (`'*'` or undefined: every stream), after `afterSeq`, of one `attempt`.
   */
  async chunks<T = unknown>(
    runId: string,
    query: { step?: string; name?: string; afterSeq?: number; attempt?: number; limit?: number } = {},
  ): Promise<Array<StreamChunkView<T>>> {
    await this.open();
    await checkStreamTarget(this.store, this.streamWatchers, runId, { step: query.step, name: query.name });
    const page = await this.store.listChunks({
      runId,
      step: query.step,
      stream: query.name === '*' ? undefined : query.name,
      afterSeq: query.afterSeq,
      attempt: query.attempt,
      limit: query.limit,
    });
    return page.map((c) => chunkView<T>(c));
  }

  /** The latest `ctx.progress` of each step of a run this process runs (ephemeral; {} when none). */
  progress(runId: string): Record<string, StepProgressValue> {
    return this.engine.progress.of(runId);
  }

  /** Hears every `ctx.progress` report of the steps this process runs. Returns a function that stops. */
  onProgress(listener: (update: ProgressUpdate) => void): () => void {
    return this.engine.progress.subscribe(listener);
  }

  /**
   * In a cluster, progress travels as notices: this process's steps' reports go out, other
   * processes' come in (so an API server shows them), and are forgotten when their runs settle.
   */
  private shareProgress(member: ClusterMember): void {
    const progress = this.engine.progress;
    progress.subscribe((u) => {
      if (!u.isRemote) member.shareProgress(u.runId, u.step, u.value, u.at);
    });
    member.onProgressNotices(
      (n) => {
        if (!this.engine.holds(n.runId)) progress.set(n.runId, n.step, n.value, n.at, true);
      },
      (runIds) => progress.forget(runIds.filter((id) => !this.engine.holds(id))),
    );
  }

  /**
   * Deletes finished run trees (a root that ended, with every run it spawned, their steps, events
   * and waits) and expired cache entries, in batches of `batchSize` trees per transaction, pausing
   * between batches so running work goes on. Never a run that is not finished, nor a tree with an
   * unfinished run. With `dryRun`, counts what it would delete and changes nothing.
   */
  async prune(options: PruneOptions = {}): Promise<PruneResult> {
    await this.open();
    return pruneStore(this.store, options, this.engine.clock.now());
  }

  /**
   * Creates a schedule at run time (the workflow must be registered here): checked like
   * `schedule()` (InvalidCronError, InvalidTimezoneError, InvalidScheduleError), its input against
   * the workflow's schema; ScheduleExistsError when the id is taken.
   */
  async createSchedule(options: CreateScheduleOptions): Promise<ScheduleRecord> {
    await this.open();
    return this.scheduling.create(options);
  }

  /** Every schedule in the store, by id, with its next scheduled time and last run. */
  async listSchedules(): Promise<ScheduleRecord[]> {
    await this.open();
    return this.scheduling.list();
  }

  /** One schedule; ScheduleNotFoundError when there is none with this id. */
  async getSchedule(id: string): Promise<ScheduleRecord> {
    await this.open();
    return this.scheduling.get(id);
  }

  /** A schedule's ticks, newest first: the run each started, or why it was skipped or is buffered. */
  async scheduleTicks(id: string, limit?: number): Promise<ScheduleTickRecord[]> {
    await this.open();
    await this.scheduling.get(id);
    return this.scheduling.ticks(id, limit);
  }

  /** Stops a schedule's ticks (a run it started goes on) until `resumeSchedule`. */
  async pauseSchedule(id: string): Promise<ScheduleRecord> {
    await this.open();
    return this.scheduling.pause(id);
  }

  /** Restarts a paused schedule: ticks missed meanwhile are recorded as skipped (`paused`). */
  async resumeSchedule(id: string): Promise<ScheduleRecord> {
    await this.open();
    return this.scheduling.resume(id);
  }

  /** Starts a run of the schedule now (whatever its overlap policy, even paused); resolves with its handle. */
  async triggerSchedule(id: string): Promise<RunHandle> {
    await this.open();
    return this.getHandle(await this.scheduling.trigger(id));
  }

  /** Starts a run for each scheduled time in [from, to] not recorded yet, oldest first. */
  async backfillSchedule(id: string, from: Date | number, to: Date | number): Promise<RunHandle[]> {
    await this.open();
    const ids = await this.scheduling.backfill(id, from, to);
    return Promise.all(ids.map((runId) => this.getHandle(runId)));
  }

  /** Deletes a schedule and its tick records (its runs stay); ScheduleNotFoundError when there is none. */
  async deleteSchedule(id: string): Promise<void> {
    await this.open();
    await this.scheduling.delete(id);
  }

  /** Resolves once the schedule ticks due now have been handled (for tests with a ManualClock). */
  async schedulesIdle(): Promise<void> {
    await this.open();
    await this.scheduling.idle();
  }

  /**
   * Changes a rate limit at run time, for every process sharing the store, until `resetRateLimit`:
   * `name` is the limit's (the workflow's name, "workflow/step", or its `rateLimit.name`). Starts
   * already granted keep their times; the next start is spaced by the new limit, and the starts
   * waiting for their turn here ask again at once.
   */
  async setRateLimit(name: string, change: RateLimitChange): Promise<RateLimitView | undefined> {
    await this.open();
    await this.store.setRateLimit(rateLimitSetting(name, change, this.engine.clock.now()));
    this.engine.rateLimits.settingChanged(name);
    return (await this.rateLimits()).find((view) => view.name === name);
  }

  /** Drops a run-time setting: the limit's definition applies again. */
  async resetRateLimit(name: string): Promise<void> {
    await this.open();
    await this.store.resetRateLimit(name);
    this.engine.rateLimits.settingChanged(name);
  }

  /** Every rate limit defined here or set at run time, with its usage per busy key. */
  async rateLimits(): Promise<RateLimitView[]> {
    await this.open();
    const { rateLimits, clock } = this.engine;
    return describeRateLimits(this.store, this.workflows, rateLimits.counts, clock.now(), rateLimits.waiting());
  }

  /**
   * Changes a workflow's `maxRuns` (per concurrency key) at run time, for every process sharing the
   * store, until `resetMaxRuns`. Raising it starts queued runs that fit at once; lowering it lets
   * running runs finish and starts no queued run until the key is under the new limit.
   */
  async setMaxRuns(workflow: string, maxRuns: number): Promise<MaxRunsView> {
    await this.open();
    limitedWorkflow(this.workflows, workflow);
    const value = checkLimitValue(`Workflow "${workflow}"`, 'maxRuns', maxRuns);
    await this.store.setLimitSetting({ kind: 'max_runs', name: workflow, value, updatedAt: this.engine.clock.now() });
    if (!this.member) this.engine.applyMaxRuns(workflow, value);
    return (await this.limits()).maxRuns.find((v) => v.workflow === workflow) as MaxRunsView;
  }

  /** Drops a workflow's run-time maxRuns: its definition's applies again. */
  async resetMaxRuns(workflow: string): Promise<void> {
    await this.open();
    limitedWorkflow(this.workflows, workflow);
    await this.store.resetLimitSetting('max_runs', workflow);
    if (!this.member) this.engine.applyMaxRuns(workflow, undefined);
  }

  /**
   * Changes a resource pool's size at run time, until `resetPoolSize`. Stored, like setMaxRuns, so
   * it applies to every process sharing the store: on PostgreSQL a pool is one gate shared by every
   * worker, and a size kept per process would let workers disagree about that one gate.
   */
  async setPoolSize(pool: string, size: number): Promise<PoolView> {
    await this.open();
    declaredPool(this.pools, pool);
    const value = checkLimitValue(`Pool "${pool}"`, 'size', size);
    await this.store.setLimitSetting({ kind: 'pool', name: pool, value, updatedAt: this.engine.clock.now() });
    if (!this.member) this.engine.applyPoolSize(pool, value);
    return (await this.limits()).pools.find((v) => v.pool === pool) as PoolView;
  }

  /** Drops a pool's run-time size: ExecutorOptions.pools applies again. */
  async resetPoolSize(pool: string): Promise<void> {
    await this.open();
    declaredPool(this.pools, pool);
    await this.store.resetLimitSetting('pool', pool);
    if (!this.member) this.engine.applyPoolSize(pool, undefined);
  }

  /** Every workflow's maxRuns and every pool: the value in force, the run-time setting, the usage. */
  async limits(): Promise<LimitsView> {
    await this.open();
    return describeLimits(this.store, this.workflows, this.pools, () => this.poolUsage(), this.engine.clock.now());
  }

  /** On PostgreSQL, the gates in the database (every worker); else this process's dispatcher. */
  private async poolUsage(): Promise<PoolUsage> {
    const coordination = this.store.coordination;
    if (this.member && coordination) return coordination.gateUsage(Object.keys(this.pools));
    return this.engine.poolUsage();
  }

  /** Applies the stored run-time limits to this process's engine (alone on its store). */
  private async applyStoredLimits(): Promise<void> {
    for (const s of await this.store.listLimitSettings()) {
      if (s.kind === 'max_runs') this.engine.applyMaxRuns(s.name, s.value);
      else if (Object.hasOwn(this.pools, s.name)) this.engine.applyPoolSize(s.name, s.value);
    }
  }

  /** The registered workflows. */
  get workflows(): ReadonlyArray<Workflow<any, any, any>> {
    return this.engine.registry.workflows();
  }

  get metrics(): ExecutorMetrics {
    return this.metricsCollector.getMetrics();
  }

  /** The clock the engine reads (ExecutorOptions.clock): what "now" is for this executor's runs. */
  get clock(): Clock {
    return this.engine.clock;
  }

  /**
   * Stops the executor: running steps are aborted (they resume on the next start), the store
   * closes. As a Postgres worker, it first stops claiming, lets running steps finish within
   * `worker.shutdownGraceMs`, and hands the runs it holds back to the other workers.
   */
  async cleanup(): Promise<void> {
    await this.opening?.catch(() => {});
    await this.retention?.stop();
    await this.scheduling.stop();
    await this.member?.stop();
    await this.engine.close();
    await this.store.unlockForExecutor?.();
    if (this.ownsStore) await this.store.close();
  }

  /** This process's worker id in a Postgres cluster (null when it does not claim runs, or on SQLite). */
  get workerId(): string | null {
    return this.member?.id ?? null;
  }

  private handle(runId: string, workflow: string): RunHandle<any> {
    const engine = this.engine;
    return {
      stream: (name, options) => this.stream(runId, { ...options, ...(name === undefined ? {} : { name }) }),
      runId,
      workflow,
      result: () => engine.waitFor(runId, false),
      async status() {
        const rec = await engine.runRecord(runId);
        if (!rec) throw new RunNotFoundError(runId);
        return rec.status;
      },
    };
  }

  private remember(result: ExecutionResult): void {
    this.executionHistory.push(result);
    if (this.executionHistory.length > this.historySize) this.executionHistory.shift();
  }
}

/**
 * PostgreSQL compares deadlines with the database's clock (shared by every worker, so hosts whose
 * clocks disagree still agree on what is due): an executor's virtual clock cannot move it.
 */
function virtualClockRefused(store: Store): InvalidConfigError {
  return new InvalidConfigError(
    'clock',
    `cannot be a custom clock (such as ManualClock) on ${store.description}: this store compares deadlines and ` +
      'wake-up times with the database’s clock, shared by every worker, so a virtual clock would disagree with it ' +
      'about which runs are due. A ManualClock works with MemoryStore and SqliteStore; leave `clock` out on PostgreSQL.',
  );
}
