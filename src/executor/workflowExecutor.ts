import { CallbackManager } from '../engine/callbacks.js';
import { type ExecutionConfig, resolveConfig } from '../engine/config.js';
import { Engine, type StartOptions } from '../engine/engine.js';
import type { ProvidedInput, SendEventOptions, SentEvent } from '../engine/inbox.js';
import type { Checkpoint, ExecutionResult, WorkflowContext } from '../engine/result.js';
import { InvalidConfigError, RunNotFoundError } from '../model/errors.js';
import type { Workflow } from '../model/workflow.js';
import { type ExecutorMetrics, MetricsCollector } from '../observe/metrics.js';
import type { Store } from '../store/store.js';
import type { EventRecord, RunStatus, WaitRecord } from '../store/types.js';
import { ClusterMember } from '../worker/clusterMember.js';
import { defaultStore } from './defaultStore.js';
import type { ExecutorOptions } from './options.js';
import { type PruneOptions, type PruneResult, pruneStore } from './pruning.js';
import { RetentionTimer, retentionPolicy } from './retention.js';

/** A started run. Holding one costs nothing; `result()` waits for the run to end. */
export interface RunHandle<TOut = unknown> {
  readonly runId: string;
  readonly workflow: string;
  /** Resolves when the run ends (succeeded, failed, cancelled or timed out). */
  result(): Promise<ExecutionResult<TOut>>;
  status(): Promise<RunStatus>;
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
  /** Runs resumed when the executor opened, not yet returned by `recover()`. */
  private resumedOnOpen: string[] = [];
  /** The one background timer that prunes expired runs and bounds event logs (none with `retention: false`). */
  private readonly retention: RetentionTimer | undefined;

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
    this.ownsStore = !options.store;
    this.store = options.store ?? defaultStore();
    this.workerOptions = options.worker;
    this.shouldRecover = options.recover ?? true;
    const policy = retentionPolicy(options.retention);
    const store = this.store;
    this.engine = new Engine({
      store,
      config: this.config,
      pools: options.pools ?? {},
      callbacks: this.callbackManager,
      metrics: this.metricsCollector,
      isTransientStoreError: (error) => store.isTransientError?.(error) ?? false,
      onFinished: (r) => this.remember(r),
    });
    for (const wf of options.workflows ?? []) this.engine.register(wf);
    if (policy) this.retention = new RetentionTimer(store, policy, () => this.engine.registry.workflows());
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
        // Many processes share this store: runs are claimed by workers, not recovered by each.
        const options = typeof this.workerOptions === 'object' ? this.workerOptions : {};
        const claim = this.workerOptions === false ? false : (options.claim ?? this.shouldRecover);
        this.member = new ClusterMember(this.engine, this.store, coordination, { ...options, claim });
        this.engine.attachCluster(this.member);
        await this.member.start();
        this.retention?.start();
        return;
      }
      await this.store.lockForExecutor?.();
      if (this.shouldRecover) this.resumedOnOpen = await this.engine.recover();
      this.retention?.start();
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
    const rec = await this.engine.runRecord(runId);
    if (!rec) throw new RunNotFoundError(runId);
    const plan = this.engine.registry.planFor(rec.workflow);
    return this.start(plan.workflow, JSON.parse(rec.input), {
      replayOf: runId,
      globals: JSON.parse(rec.globals) as Record<string, unknown>,
    });
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
   * Deletes finished run trees (a root that ended, with every run it spawned, their steps, events
   * and waits) and expired cache entries, in batches of `batchSize` trees per transaction, pausing
   * between batches so running work goes on. Never a run that is not finished, nor a tree with an
   * unfinished run. With `dryRun`, counts what it would delete and changes nothing.
   */
  async prune(options: PruneOptions = {}): Promise<PruneResult> {
    await this.open();
    return pruneStore(this.store, options);
  }

  /** The registered workflows. */
  get workflows(): ReadonlyArray<Workflow<any, any, any>> {
    return this.engine.registry.workflows();
  }

  get metrics(): ExecutorMetrics {
    return this.metricsCollector.getMetrics();
  }

  /**
   * Stops the executor: running steps are aborted (they resume on the next start), the store
   * closes. As a Postgres worker, it first stops claiming, lets running steps finish within
   * `worker.shutdownGraceMs`, and hands the runs it holds back to the other workers.
   */
  async cleanup(): Promise<void> {
    await this.opening?.catch(() => {});
    await this.retention?.stop();
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
