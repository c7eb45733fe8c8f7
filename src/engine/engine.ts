import { ExecutorClosedError, RunNotFoundError, serializeError } from '../model/errors.js';
import { Workflow } from '../model/workflow.js';
import type { MetricsCollector } from '../observe/metrics.js';
import type { ClaimableWorkflow, ClaimedRun } from '../store/coordination.js';
import type { Store } from '../store/store.js';
import {
  type EventRecord,
  isTerminalRun,
  type RunControl,
  type RunRecord,
  type ScheduleWrite,
  type WaitRecord,
} from '../store/types.js';
import { Attempts } from './attempts.js';
import type { CallbackManager } from './callbacks.js';
import { ClaimedRuns } from './claimedRuns.js';
import type { Clock } from './clock.js';
import { CommitOutcomes } from './commitOutcomes.js';
import { Concurrency } from './concurrency.js';
import type { ExecutionConfig } from './config.js';
import { RunCreation, type StartOptions } from './creation.js';
import { Dispatcher } from './dispatcher.js';
import { RunEnding } from './ending.js';
import type { ForkOptions } from './forking.js';
import { Inbox, type ProvidedInput, type SendEventOptions, type SentEvent } from './inbox.js';
import { Journal } from './journal.js';
import { RunLifecycle } from './lifecycle.js';
import { RunLoading } from './loading.js';
import { RunObserver } from './observer.js';
import type { ClusterPort, EngineControl } from './ports.js';
import { RateLimits } from './rateLimits.js';
import { WorkflowRegistry } from './registry.js';
import type { ExecutionResult } from './result.js';
import { RunResults } from './results.js';
import type { ActiveRun, WorkflowPlan } from './runState.js';
import { RunTable } from './runTable.js';
import { Steering } from './steering.js';
import type { StepHost } from './stepHost.js';
import { StepProgress } from './stepProgress.js';
import { Suspensions } from './suspensions.js';
import { TimerQueue } from './timers.js';
import { handOver, resolveAll } from './waiters.js';
import { Wakeups } from './wakeups.js';
import { WriteQueue } from './writeQueue.js';

export type { StartOptions } from './creation.js';

export interface EngineOptions {
  store: Store;
  /** Where the time comes from and timers are armed (the system clock unless a test injects one). */
  clock: Clock;
  config: ExecutionConfig;
  pools: Readonly<Record<string, number>>;
  callbacks: CallbackManager;
  metrics: MetricsCollector;
  /** Whether a failed commit may land if tried again (the store's judgement). */
  isTransientStoreError(error: unknown): boolean;
  /** A top-level run ended (for the executor's history). */
  onFinished(result: ExecutionResult): void;
}

/**
 * The engine: runs in memory, every transition written into a group-commit batch and acted on
 * once that batch is durable. This class wires its parts and answers the executor (create, wait,
 * pause, resume, cancel, recover) and a cluster's worker (EngineControl); the work is done by:
 * RunLifecycle (a run's state machine), RunLoading (runs back from the store), Attempts (one attempt of a step), Dispatcher (slots, pools,
 * gates), RunEnding (how runs end), Wakeups (runs that wait for a time), CommitOutcomes (commits
 * that did not land as written), RunObserver (callbacks, metrics, traces).
 */
export class Engine implements EngineControl {
  readonly store: Store;
  readonly clock: Clock;
  readonly config: ExecutionConfig;
  readonly queue: WriteQueue;
  readonly registry: WorkflowRegistry;
  private readonly runs = new RunTable();
  private readonly timers: TimerQueue;
  private readonly concurrency = new Concurrency();
  private readonly dispatcher: Dispatcher;
  /** Rate limits taken at dispatch, and their counts since start. */
  readonly rateLimits: RateLimits;
  private readonly attempts: Attempts;
  private readonly ending: RunEnding;
  private readonly lifecycle: RunLifecycle;
  private readonly wakeups: Wakeups;
  private readonly commits: CommitOutcomes;
  private readonly suspensions: Suspensions;
  private readonly inbox: Inbox;
  private readonly creation: RunCreation;
  private readonly claims: ClaimedRuns;
  private readonly steering: Steering;
  private readonly results: RunResults;
  private readonly loading: RunLoading;
  /** Ephemeral `ctx.progress` values of the runs held here. */
  readonly progress = new StepProgress();
  private cluster: ClusterPort | undefined;
  private closed = false;

  constructor(options: EngineOptions) {
    const { store, config } = options;
    this.store = store;
    this.clock = options.clock;
    this.timers = new TimerQueue(this.clock);
    this.config = config;
    this.registry = new WorkflowRegistry(options.pools, () => this.cluster?.runsSteps ?? true);
    const clusterOf = () => this.cluster;
    this.queue = new WriteQueue(
      store,
      {
        failed: (error, batch) => this.commits.failed(error, batch),
        result: (result, batch) => this.commits.result(result, batch),
      },
      {
        isTransient: options.isTransientStoreError,
        // In a cluster, other workers can carry the runs on: give a batch up after a while (its runs
        // go back to the queue). Alone, the runs have nowhere else to go: retry until it lands.
        get giveUpAfterMs() {
          return clusterOf() ? 10_000 : Number.POSITIVE_INFINITY;
        },
        groupOf: (runId) => this.runs.get(runId)?.rec.rootRunId ?? runId,
      },
      this.clock,
    );
    this.queue.onCommitted((events) => this.progress.committed(events));
    const journal = new Journal(this.queue, this.clock);
    const observer = new RunObserver(this.queue, options.callbacks, options.metrics, config.traceExecution, this.clock);
    this.rateLimits = new RateLimits(store, this.clock, {
      pump: () => this.dispatcher.pump(),
      postpone: (run, step, at, data) => this.lifecycle.postpone(run, step, at, data),
      dropRun: (run, error) => this.ending.finalize(run, 'cancelled', { error: serializeError(error) }),
      dropStep: (run, step, error) => this.lifecycle.dropStep(run, step, error),
      wake: (waiter, lost) => {
        const run = this.runs.get(waiter.runId);
        if (run) return this.lifecycle.wakeForTurn(run, waiter.steps);
        // Handed back to the store (in a cluster): whoever claims it asks when its row is due.
        if (this.cluster) return 'gone';
        this.loading.wakeForTurn(waiter.runId, waiter.steps).then((woken) => woken || lost(), lost);
        return 'loading';
      },
      schedule: (at, fn) => this.timers.schedule(at, fn),
      cancel: (timer) => this.timers.cancel(timer),
    });
    this.dispatcher = new Dispatcher(
      config.maxParallelNodes,
      options.pools,
      () => this.cluster?.gates,
      (run, step) => this.attempts.start(run, step),
      this.rateLimits,
    );
    this.suspensions = new Suspensions(
      journal,
      this.dispatcher,
      {
        refreshStatus: (run) => this.lifecycle.refreshStatus(run),
        waitsChanged: (run) => this.lifecycle.waitsChanged(run),
      },
      this.clock,
    );
    const host = this.stepHost();
    this.attempts = new Attempts(
      store,
      config,
      this.runs,
      journal,
      observer,
      this.dispatcher,
      this.timers,
      host,
      this.suspensions,
      () => this.lifecycle,
      this.clock,
    );
    this.wakeups = new Wakeups(
      this.timers,
      store,
      () => this.registry.names(),
      (run) => this.lifecycle.advance(run),
      (records) => this.loading.wakeStored(records),
      (run) => this.lifecycle.nextWakeOf(run),
      this.clock,
    );
    this.ending = new RunEnding(
      store,
      this.runs,
      journal,
      observer,
      this.dispatcher,
      this.attempts,
      this.suspensions,
      this.wakeups,
      this.timers,
      this.concurrency,
      clusterOf,
      {
        startRun: (run) => this.lifecycle.startRun(run),
        cancelElsewhere: (runId, reason) => this.cancelElsewhere(runId, reason),
        onFinished: options.onFinished,
        isClosed: () => this.closed,
      },
      this.clock,
    );
    this.lifecycle = new RunLifecycle(
      store,
      config,
      this.runs,
      journal,
      observer,
      this.dispatcher,
      this.attempts,
      this.ending,
      this.wakeups,
      this.suspensions,
      this.concurrency,
      host,
      clusterOf,
      {
        handOver: (run, settleToo) => this.handOver(run, run.rec.id, settleToo),
        isRateWaiter: (runId) => this.rateLimits.isWaiting(runId),
      },
      this.clock,
    );
    this.loading = new RunLoading(
      store,
      this.registry,
      this.runs,
      this.queue,
      observer,
      this.dispatcher,
      this.suspensions,
      this.concurrency,
      {
        lifecycle: () => this.lifecycle,
        wakeups: () => this.wakeups,
        cluster: clusterOf,
        isClosed: () => this.closed,
      },
      this.clock,
    );
    this.claims = new ClaimedRuns(
      this.registry,
      this.runs,
      observer,
      this.dispatcher,
      this.ending,
      this.lifecycle,
      this.suspensions,
      { cluster: clusterOf, isClosed: () => this.closed },
    );
    this.creation = new RunCreation(
      store,
      this.runs,
      this.queue,
      this.registry,
      {
        addRun: (spec) => this.lifecycle.addRun(spec),
        recordOf: (spec) => this.lifecycle.recordOf(spec),
        expectCreated: (id, reject) => this.commits.expectCreated(id, reject),
        created: (id) => this.commits.created(id),
        waitFor: (id) => this.waitFor(id, true),
        // Alone, this process wakes it (one scan timer); in a cluster, the claim does.
        storedAsleep: (dueAt) => {
          if (!this.cluster) this.wakeups.expectStored(dueAt);
        },
        runRecord: (runId) => this.runRecord(runId),
        assertOpen: () => this.assertOpen(),
      },
      this.clock,
    );
    this.commits = new CommitOutcomes(
      store,
      this.runs,
      journal,
      this.dispatcher,
      this.attempts,
      this.ending,
      clusterOf,
      {
        isTransient: options.isTransientStoreError,
        handOver: (run, runId, settleToo) => this.handOver(run, runId, settleToo),
        waitsSettled: (waits) => this.loading.waitsSettled(waits),
        inboxCommitted: (result, batch) => this.inbox.committed(result, batch),
        inboxFailed: (error, batch) => this.inbox.failed(error, batch),
      },
      this.clock,
    );
    this.results = new RunResults(
      this.store,
      this.runs,
      this.registry,
      this.dispatcher,
      this.lifecycle,
      this.ending,
      {
        cluster: clusterOf,
        activeRun: (runId) => this.loading.activeRun(runId),
        isClosed: () => this.closed,
      },
      this.clock,
    );
    this.steering = new Steering(this.store, this.queue, this.lifecycle, this.ending, clusterOf, {
      activeRun: (runId) => this.loading.activeRun(runId),
      waitFor: (runId, untilSettled) => this.waitFor(runId, untilSettled),
      storedResult: (rec) => this.storedResult(rec),
    });
    this.inbox = new Inbox(
      store,
      this.queue,
      this.runs,
      this.registry,
      {
        addRun: (spec) => this.lifecycle.addRun(spec),
        assertOpen: () => this.assertOpen(),
      },
      this.clock,
    );
  }

  /**
   * A workflow's maxRuns changed at run time (undefined: reset to its definition's), in this
   * process: queued runs that fit under the new limit start now. (In a cluster, workers admit runs
   * at claim, against the stored setting: see claimKeyedRuns.)
   */
  applyMaxRuns(workflow: string, maxRuns: number | undefined): void {
    for (const run of this.concurrency.setLimit(workflow, maxRuns)) this.lifecycle.startRun(run);
  }

  /** The maxRuns in force here for a workflow (undefined when it defines none). */
  maxRunsOf(workflow: Workflow<any, any, any>): number | undefined {
    return this.concurrency.limitOf(workflow);
  }

  /** A pool's size changed at run time (undefined: reset to ExecutorOptions.pools), in this process. */
  applyPoolSize(pool: string, size: number | undefined): void {
    this.dispatcher.setPoolSize(pool, size);
  }

  /** Steps of this process holding a unit of each pool, and waiting for one. */
  poolUsage(): Map<string, { busy: number; waiting: number }> {
    return this.dispatcher.poolUsage();
  }

  /** Records an event; resolves the waits it matches and starts the workflows it triggers. */
  sendEvent(name: string, payload: unknown, options?: SendEventOptions): Promise<SentEvent> {
    return this.inbox.sendEvent(name, payload, options);
  }

  /** Gives a value for a pending input of a run, checked against its schema. */
  provideInput(runId: string, name: string, value: unknown): Promise<ProvidedInput> {
    return this.inbox.provideInput(runId, name, value);
  }

  /** The waits of a run (its steps' sleeps, events and inputs), pending and settled. */
  async waitsOf(runId: string): Promise<WaitRecord[]> {
    if (!this.runs.has(runId) && !(await this.store.getRun(runId))) throw new RunNotFoundError(runId);
    return this.inbox.waitsOf(runId);
  }

  /** Joins a cluster of processes sharing a scale-out store (the executor plugs a worker in). */
  attachCluster(cluster: ClusterPort): void {
    this.cluster = cluster;
  }

  register(workflow: Workflow<any, any, any>): WorkflowPlan {
    return this.registry.register(workflow);
  }

  // ---------------------------------------------------------------------------------------------
  // Creating runs

  /** Validates, creates and commits a top-level run; resolves with its id once it is durable. */
  createRun(
    workflow: Workflow<any, any, any>,
    rawInput: unknown,
    options: StartOptions = {},
    onCreated?: (settled: Promise<ExecutionResult>) => void,
  ): Promise<string> {
    this.assertOpen();
    return this.creation.create(this.register(workflow), rawInput, options, onCreated);
  }

  /**
   * Creates the run of a schedule's tick (the workflow registered under `workflow`): `tick`'s write
   * (the schedule's advance, the tick's record) lands in the commit that creates the run, so the
   * two are durable together or not at all. Resolves with the run's id once it is durable.
   */
  createScheduledRun(
    workflow: string,
    rawInput: unknown,
    idempotencyKey: string,
    tick: (runId: string) => ScheduleWrite,
  ): Promise<string> {
    this.assertOpen();
    const plan = this.registry.planFor(workflow);
    return this.creation.create(plan, rawInput, { idempotencyKey, scheduleTick: tick }, undefined);
  }

  /** A fork of an ended run from one of its steps (see RunCreation.fork). */
  fork(runId: string, options: ForkOptions): Promise<string> {
    return this.creation.fork(runId, options);
  }

  /** A new run of the same workflow with the same input and globals, linked by `replayOf`. */
  replay(runId: string): Promise<string> {
    return this.creation.replay(runId);
  }

  // ---------------------------------------------------------------------------------------------
  // Recovery and loading

  /** Loads every unfinished run of the registered workflows that is not in memory and resumes it. */
  recover(): Promise<string[]> {
    this.assertOpen();
    return this.loading.recover();
  }

  // ---------------------------------------------------------------------------------------------
  // Results

  /** Resolves when the run ends (`untilSettled`: or pauses). */
  waitFor(runId: string, untilSettled: boolean): Promise<ExecutionResult> {
    return this.results.waitFor(runId, untilSettled);
  }

  storedResult(rec: RunRecord): Promise<ExecutionResult> {
    return this.results.storedResult(rec);
  }

  /** The run's current state, from memory when it is here, else from the store. */
  inspect(runId: string): Promise<ExecutionResult> {
    return this.results.inspect(runId);
  }

  /** The run's record, from memory when it is here, else from the store. */
  runRecord(runId: string): Promise<RunRecord | undefined> {
    return this.results.runRecord(runId);
  }

  // ---------------------------------------------------------------------------------------------
  // Pause, resume, cancel

  pause(runId: string): Promise<ExecutionResult> {
    return this.steering.pause(runId);
  }

  resume(runId: string): Promise<void> {
    return this.steering.resume(runId);
  }

  cancel(runId: string, reason?: string): Promise<ExecutionResult> {
    return this.steering.cancel(runId, reason);
  }

  /** A run that is not in memory must be cancelled (a child of a run that ended). */
  private cancelElsewhere(runId: string, reason: string): void {
    if (this.closed) return;
    if (this.cluster) this.queue.control({ runId, action: 'cancel', reason });
    else this.steering.cancel(runId, reason).catch(() => {});
  }

  /** Hands a run's callers over to the run `runId` as it goes on elsewhere (see waiters.handOver). */
  private handOver(run: ActiveRun, runId: string, settleToo: boolean): void {
    handOver(run.waiters, settleToo, (untilSettled) => this.waitFor(runId, untilSettled));
  }

  // ---------------------------------------------------------------------------------------------
  // EngineControl: what a worker asks

  claimableWorkflows(): ClaimableWorkflow[] {
    return this.registry.claimable();
  }

  adopt(claimed: ClaimedRun): void {
    this.claims.adopt(claimed);
  }

  applyControls(controls: readonly RunControl[]): void {
    this.claims.applyControls(controls);
  }

  waitsSettledElsewhere(runIds: readonly string[]): void {
    this.loading.waitsSettledElsewhere(runIds);
  }

  childrenSettled(records: readonly RunRecord[]): void {
    for (const rec of records) if (isTerminalRun(rec.status)) this.ending.notifyParent(rec);
  }

  awaitsChild(runId: string): boolean {
    return this.runs.awaitsChild(runId);
  }

  awaitedChildren(): string[] {
    return this.runs.awaitedChildren();
  }

  holds(runId: string): boolean {
    return this.runs.has(runId);
  }

  heldRunIds(): string[] {
    return this.runs.ids();
  }

  get spareCapacity(): number {
    return this.dispatcher.spareCapacity;
  }

  get runningSteps(): number {
    return this.dispatcher.runningSteps;
  }

  dispatch(): void {
    this.dispatcher.pump();
  }

  stopDispatching(): void {
    this.dispatcher.stopDispatching();
  }

  dropAll(reason: Error): void {
    this.commits.drop(this.runs.ids(), reason);
  }

  onCommitted(listener: (events: readonly EventRecord[]) => void): () => void {
    return this.queue.onCommitted(listener);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  // ---------------------------------------------------------------------------------------------
  // The port a step's context uses

  private stepHost(): StepHost {
    return {
      clock: this.clock,
      childIndex: this.runs.childIndex,
      // A workflow object is registered on first use; a name (or another object with a name) must be registered.
      planOf: (workflow) =>
        workflow instanceof Workflow
          ? this.registry.register(workflow)
          : this.registry.planFor(typeof workflow === 'string' ? workflow : workflow.name),
      addRun: (spec) => this.lifecycle.addRun(spec),
      cancelChildren: (runIds, reason) => this.ending.cancelRuns(runIds, reason),
      suspend: (run, step) => {
        this.dispatcher.suspend(run, step);
        // Its children may be waiting for a worker: this one has room for them now.
        this.cluster?.capacityFreed();
      },
      resume: (run, step, token, then) => this.dispatcher.resume(run, step, token, then),
      waitForRun: (runId) => this.waitFor(runId, false),
      settledWait: (step, group) => this.suspensions.settledOf(step, group),
      rememberInputSchema: (run, step, name, schema) =>
        this.inbox.rememberInputSchema(run.rec.workflow, step.def.name, name, schema),
      streamLimits: { maxChunks: this.config.streamMaxChunks, maxBytes: this.config.streamMaxBytes },
      appendChunk: (chunk) => this.queue.appendChunk(chunk),
      reportProgress: (runId, step, value) => this.progress.set(runId, step, value, this.clock.now()),
      suspendOn: (run, step, group, requests, continuation) => {
        this.attempts.suspendTimeout(step);
        this.suspensions.suspend(run, step, group, requests, continuation);
      },
    };
  }

  private assertOpen(): void {
    if (this.closed) throw new ExecutorClosedError();
  }

  /** Stops dispatching, aborts running steps (they resume on the next start), flushes. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.dispatcher.close();
    this.wakeups.close();
    const closing = new ExecutorClosedError();
    for (const run of this.runs.values()) for (const step of run.steps.values()) this.attempts.stop(step, closing);
    this.timers.stop();
    this.queue.abandonRetries();
    await this.queue.flushed();
    // Callers still waiting get the run as it stands, not a promise that never settles; the run
    // itself stays unfinished in the store and resumes on the next start.
    this.commits.releaseCallers();
    const error = serializeError(closing);
    for (const [runId, parked] of this.runs.takeParked()) {
      const rec = await this.store.getRun(runId).catch(() => undefined);
      if (!rec) continue;
      const result = { ...(await this.storedResult(rec)), success: false, error };
      resolveAll(parked, result);
    }
    this.runs.clear();
  }
}
