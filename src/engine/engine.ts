import { ExecutorClosedError, RunNotFoundError, serializeError } from '../model/errors.js';
import type { Workflow } from '../model/workflow.js';
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
import type { Clock } from './clock.js';
import type { ExecutionConfig } from './config.js';
import type { StartOptions } from './creation.js';
import type { ForkOptions } from './forking.js';
import type { ProvidedInput, SendEventOptions, SentEvent } from './inbox.js';
import { assembleEngine, type EngineOptions, type EngineParts } from './parts.js';
import type { ClusterPort, EngineControl } from './ports.js';
import type { RateLimits } from './rateLimits.js';
import type { WorkflowRegistry } from './registry.js';
import type { ExecutionResult } from './result.js';
import type { WorkflowPlan } from './runState.js';
import type { StepProgress } from './stepProgress.js';
import { resolveAll } from './waiters.js';
import type { WriteQueue } from './writeQueue.js';

export type { StartOptions } from './creation.js';
export type { EngineOptions } from './parts.js';

/**
 * The engine: runs in memory, every transition written into a group-commit batch and acted on
 * once that batch is durable. This class answers the executor (create, wait, pause, resume,
 * cancel, recover) and a cluster's worker (EngineControl); assembleEngine (parts.ts) builds and
 * connects the parts that do the work: RunLifecycle (a run's state machine), RunSleep (a run that
 * only waits), RunLoading (runs back from the store), Attempts (one attempt of a step), Dispatcher
 * (slots, pools, gates), RateLimits, RunEnding (how runs end), Wakeups (runs that wait for a
 * time), Suspensions (durable waits), Inbox (events and inputs), CommitOutcomes (commits that did
 * not land as written), RunObserver (callbacks, metrics, traces).
 */
export class Engine implements EngineControl {
  readonly store: Store;
  readonly clock: Clock;
  readonly config: ExecutionConfig;
  readonly queue: WriteQueue;
  readonly registry: WorkflowRegistry;
  /** Rate limits taken at dispatch, and their counts since start. */
  readonly rateLimits: RateLimits;
  /** Ephemeral `ctx.progress` values of the runs held here. */
  readonly progress: StepProgress;
  private readonly parts: EngineParts;
  private cluster: ClusterPort | undefined;
  private closed = false;

  constructor(options: EngineOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.config = options.config;
    this.parts = assembleEngine(options, { cluster: () => this.cluster, isClosed: () => this.closed });
    this.queue = this.parts.queue;
    this.registry = this.parts.registry;
    this.rateLimits = this.parts.rateLimits;
    this.progress = this.parts.progress;
  }

  /**
   * A workflow's maxRuns changed at run time (undefined: reset to its definition's), in this
   * process: queued runs that fit under the new limit start now. (In a cluster, workers admit runs
   * at claim, against the stored setting: see claimKeyedRuns.)
   */
  applyMaxRuns(workflow: string, maxRuns: number | undefined): void {
    for (const run of this.parts.concurrency.setLimit(workflow, maxRuns)) this.parts.lifecycle.startRun(run);
  }

  /** The maxRuns in force here for a workflow (undefined when it defines none). */
  maxRunsOf(workflow: Workflow<any, any, any>): number | undefined {
    return this.parts.concurrency.limitOf(workflow);
  }

  /** A pool's size changed at run time (undefined: reset to ExecutorOptions.pools), in this process. */
  applyPoolSize(pool: string, size: number | undefined): void {
    this.parts.dispatcher.setPoolSize(pool, size);
  }

  /** Steps of this process holding a unit of each pool, and waiting for one. */
  poolUsage(): Map<string, { busy: number; waiting: number }> {
    return this.parts.dispatcher.poolUsage();
  }

  /** Records an event; resolves the waits it matches and starts the workflows it triggers. */
  sendEvent(name: string, payload: unknown, options?: SendEventOptions): Promise<SentEvent> {
    return this.parts.inbox.sendEvent(name, payload, options);
  }

  /** Gives a value for a pending input of a run, checked against its schema. */
  provideInput(runId: string, name: string, value: unknown): Promise<ProvidedInput> {
    return this.parts.inbox.provideInput(runId, name, value);
  }

  /** The waits of a run (its steps' sleeps, events and inputs), pending and settled. */
  async waitsOf(runId: string): Promise<WaitRecord[]> {
    if (!this.parts.runs.has(runId) && !(await this.store.getRun(runId))) throw new RunNotFoundError(runId);
    return this.parts.inbox.waitsOf(runId);
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
    return this.parts.creation.create(this.register(workflow), rawInput, options, onCreated);
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
    return this.parts.creation.create(plan, rawInput, { idempotencyKey, scheduleTick: tick }, undefined);
  }

  /** A fork of an ended run from one of its steps (see RunCreation.fork). */
  fork(runId: string, options: ForkOptions): Promise<string> {
    return this.parts.creation.fork(runId, options);
  }

  /** A new run of the same workflow with the same input and globals, linked by `replayOf`. */
  replay(runId: string): Promise<string> {
    return this.parts.creation.replay(runId);
  }

  // ---------------------------------------------------------------------------------------------
  // Recovery and loading

  /** Loads every unfinished run of the registered workflows that is not in memory and resumes it. */
  recover(): Promise<string[]> {
    this.assertOpen();
    return this.parts.loading.recover();
  }

  // ---------------------------------------------------------------------------------------------
  // Results

  /** Resolves when the run ends (`untilSettled`: or pauses). */
  waitFor(runId: string, untilSettled: boolean): Promise<ExecutionResult> {
    return this.parts.results.waitFor(runId, untilSettled);
  }

  storedResult(rec: RunRecord): Promise<ExecutionResult> {
    return this.parts.results.storedResult(rec);
  }

  /** The run's current state, from memory when it is here, else from the store. */
  inspect(runId: string): Promise<ExecutionResult> {
    return this.parts.results.inspect(runId);
  }

  /** The run's record, from memory when it is here, else from the store. */
  runRecord(runId: string): Promise<RunRecord | undefined> {
    return this.parts.results.runRecord(runId);
  }

  // ---------------------------------------------------------------------------------------------
  // Pause, resume, cancel

  pause(runId: string): Promise<ExecutionResult> {
    return this.parts.steering.pause(runId);
  }

  resume(runId: string): Promise<void> {
    return this.parts.steering.resume(runId);
  }

  cancel(runId: string, reason?: string): Promise<ExecutionResult> {
    return this.parts.steering.cancel(runId, reason);
  }

  // ---------------------------------------------------------------------------------------------
  // EngineControl: what a worker asks

  claimableWorkflows(): ClaimableWorkflow[] {
    return this.registry.claimable();
  }

  adopt(claimed: ClaimedRun): void {
    this.parts.claims.adopt(claimed);
  }

  applyControls(controls: readonly RunControl[]): void {
    this.parts.claims.applyControls(controls);
  }

  waitsSettledElsewhere(runIds: readonly string[]): void {
    this.parts.loading.waitsSettledElsewhere(runIds);
  }

  childrenSettled(records: readonly RunRecord[]): void {
    for (const rec of records) if (isTerminalRun(rec.status)) this.parts.ending.notifyParent(rec);
  }

  awaitsChild(runId: string): boolean {
    return this.parts.runs.awaitsChild(runId);
  }

  awaitedChildren(): string[] {
    return this.parts.runs.awaitedChildren();
  }

  holds(runId: string): boolean {
    return this.parts.runs.has(runId);
  }

  heldRunIds(): string[] {
    return this.parts.runs.ids();
  }

  get spareCapacity(): number {
    return this.parts.dispatcher.spareCapacity;
  }

  get runningSteps(): number {
    return this.parts.dispatcher.runningSteps;
  }

  dispatch(): void {
    this.parts.dispatcher.pump();
  }

  stopDispatching(): void {
    this.parts.dispatcher.stopDispatching();
  }

  dropAll(reason: Error): void {
    this.parts.commits.drop(this.parts.runs.ids(), reason);
  }

  onCommitted(listener: (events: readonly EventRecord[]) => void): () => void {
    return this.queue.onCommitted(listener);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private assertOpen(): void {
    if (this.closed) throw new ExecutorClosedError();
  }

  /** Stops dispatching, aborts running steps (they resume on the next start), flushes. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.parts.dispatcher.close();
    this.parts.wakeups.close();
    const closing = new ExecutorClosedError();
    for (const run of this.parts.runs.values())
      for (const step of run.steps.values()) this.parts.attempts.stop(step, closing);
    this.parts.timers.stop();
    this.queue.abandonRetries();
    await this.queue.flushed();
    // Callers still waiting get the run as it stands, not a promise that never settles; the run
    // itself stays unfinished in the store and resumes on the next start.
    this.parts.commits.releaseCallers();
    const error = serializeError(closing);
    for (const [runId, parked] of this.parts.runs.takeParked()) {
      const rec = await this.store.getRun(runId).catch(() => undefined);
      if (!rec) continue;
      const result = { ...(await this.storedResult(rec)), success: false, error };
      resolveAll(parked, result);
    }
    this.parts.runs.clear();
  }
}
