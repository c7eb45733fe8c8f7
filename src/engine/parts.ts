import { ExecutorClosedError, serializeError } from '../model/errors.js';
import { Workflow } from '../model/workflow.js';
import type { MetricsCollector } from '../observe/metrics.js';
import type { Store } from '../store/store.js';
import { Attempts } from './attempts.js';
import type { CallbackManager } from './callbacks.js';
import { ClaimedRuns } from './claimedRuns.js';
import type { Clock } from './clock.js';
import { CommitOutcomes } from './commitOutcomes.js';
import { Concurrency } from './concurrency.js';
import type { ExecutionConfig } from './config.js';
import { RunCreation } from './creation.js';
import { Dispatcher } from './dispatcher.js';
import { RunEnding } from './ending.js';
import { Inbox } from './inbox.js';
import { Journal } from './journal.js';
import { RunLifecycle } from './lifecycle.js';
import { RunLoading } from './loading.js';
import { RunObserver } from './observer.js';
import type { ClusterPort } from './ports.js';
import { RateLimits } from './rateLimits.js';
import { WorkflowRegistry } from './registry.js';
import type { ExecutionResult } from './result.js';
import { RunResults } from './results.js';
import { RunSleep } from './runSleep.js';
import type { ActiveRun } from './runState.js';
import { RunTable } from './runTable.js';
import { Steering } from './steering.js';
import type { StepHost } from './stepHost.js';
import { StepProgress } from './stepProgress.js';
import { Suspensions } from './suspensions.js';
import { TimerQueue } from './timers.js';
import { handOver as handOverCallers } from './waiters.js';
import { Wakeups } from './wakeups.js';
import { WriteQueue } from './writeQueue.js';

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

/** What the parts ask of the Engine that holds them. */
export interface EngineShell {
  /** The cluster this process works in, once a worker joined one. */
  cluster(): ClusterPort | undefined;
  isClosed(): boolean;
}

/** The engine's parts, each with one job (see Engine), connected to one another. */
export interface EngineParts {
  queue: WriteQueue;
  registry: WorkflowRegistry;
  runs: RunTable;
  timers: TimerQueue;
  concurrency: Concurrency;
  progress: StepProgress;
  dispatcher: Dispatcher;
  rateLimits: RateLimits;
  attempts: Attempts;
  ending: RunEnding;
  lifecycle: RunLifecycle;
  wakeups: Wakeups;
  commits: CommitOutcomes;
  suspensions: Suspensions;
  inbox: Inbox;
  creation: RunCreation;
  claims: ClaimedRuns;
  steering: Steering;
  results: RunResults;
  loading: RunLoading;
}

/**
 * Builds the engine's parts and connects them: each gets the others it calls, or a narrow hook
 * where the call goes up or sideways (a part built later is reached through a closure, so the
 * order below is only the order of construction, not of calls).
 */
export function assembleEngine(options: EngineOptions, shell: EngineShell): EngineParts {
  const { store, config, clock } = options;
  const clusterOf = () => shell.cluster();
  const assertOpen = (): void => {
    if (shell.isClosed()) throw new ExecutorClosedError();
  };
  /** A run that is not in memory must be cancelled (a child of a run that ended). */
  const cancelElsewhere = (runId: string, reason: string): void => {
    if (shell.isClosed()) return;
    if (clusterOf()) queue.control({ runId, action: 'cancel', reason });
    else steering.cancel(runId, reason).catch(() => {});
  };
  const runs: RunTable = new RunTable();
  const concurrency: Concurrency = new Concurrency();
  const progress: StepProgress = new StepProgress();
  const timers: TimerQueue = new TimerQueue(clock);
  const registry: WorkflowRegistry = new WorkflowRegistry(options.pools, () => clusterOf()?.runsSteps ?? true);
  const queue: WriteQueue = new WriteQueue(
    store,
    {
      failed: (error, batch) => commits.failed(error, batch),
      result: (result, batch) => commits.result(result, batch),
    },
    {
      isTransient: options.isTransientStoreError,
      // In a cluster, other workers can carry the runs on: give a batch up after a while (its runs
      // go back to the queue). Alone, the runs have nowhere else to go: retry until it lands.
      get giveUpAfterMs() {
        return clusterOf() ? 10_000 : Number.POSITIVE_INFINITY;
      },
      groupOf: (runId) => runs.get(runId)?.rec.rootRunId ?? runId,
    },
    clock,
  );
  queue.onCommitted((events) => progress.committed(events));
  const journal: Journal = new Journal(queue, clock);
  const observer: RunObserver = new RunObserver(
    queue,
    options.callbacks,
    options.metrics,
    config.traceExecution,
    clock,
  );
  const rateLimits: RateLimits = new RateLimits(store, clock, {
    pump: () => dispatcher.pump(),
    postpone: (run, step, at, data) => lifecycle.postpone(run, step, at, data),
    dropRun: (run, error) => ending.finalize(run, 'cancelled', { error: serializeError(error) }),
    dropStep: (run, step, error) => lifecycle.dropStep(run, step, error),
    wake: (waiter, lost) => {
      const run = runs.get(waiter.runId);
      if (run) return lifecycle.wakeForTurn(run, waiter.steps);
      // Handed back to the store (in a cluster): whoever claims it asks when its row is due.
      if (clusterOf()) return 'gone';
      loading.wakeForTurn(waiter.runId, waiter.steps).then((woken) => woken || lost(), lost);
      return 'loading';
    },
    schedule: (at, fn) => timers.schedule(at, fn),
    cancel: (timer) => timers.cancel(timer),
  });
  const dispatcher: Dispatcher = new Dispatcher(
    config.maxParallelNodes,
    options.pools,
    () => clusterOf()?.gates,
    (run, step) => attempts.start(run, step),
    rateLimits,
  );
  const suspensions: Suspensions = new Suspensions(
    journal,
    dispatcher,
    {
      refreshStatus: (run) => sleep.refreshStatus(run),
      waitsChanged: (run) => sleep.waitsChanged(run),
    },
    clock,
  );
  // The port a step's context uses.
  const host: StepHost = {
    clock,
    childIndex: runs.childIndex,
    // A workflow object is registered on first use; a name (or another object with a name) must be registered.
    planOf: (workflow) =>
      workflow instanceof Workflow
        ? registry.register(workflow)
        : registry.planFor(typeof workflow === 'string' ? workflow : workflow.name),
    addRun: (spec) => lifecycle.addRun(spec),
    cancelChildren: (runIds, reason) => ending.cancelRuns(runIds, reason),
    suspend: (run, step) => {
      dispatcher.suspend(run, step);
      // Its children may be waiting for a worker: this one has room for them now.
      clusterOf()?.capacityFreed();
    },
    resume: (run, step, token, then) => dispatcher.resume(run, step, token, then),
    waitForRun: (runId) => results.waitFor(runId, false),
    settledWait: (step, group) => suspensions.settledOf(step, group),
    rememberInputSchema: (run, step, name, schema) =>
      inbox.rememberInputSchema(run.rec.workflow, step.def.name, name, schema),
    streamLimits: { maxChunks: config.streamMaxChunks, maxBytes: config.streamMaxBytes },
    appendChunk: (chunk) => queue.appendChunk(chunk),
    reportProgress: (runId, step, value) => progress.set(runId, step, value, clock.now()),
    suspendOn: (run, step, group, requests, continuation) => {
      attempts.suspendTimeout(step);
      suspensions.suspend(run, step, group, requests, continuation);
    },
  };
  const attempts: Attempts = new Attempts(
    store,
    config,
    runs,
    journal,
    observer,
    dispatcher,
    timers,
    host,
    suspensions,
    () => lifecycle,
    clock,
  );
  const wakeups: Wakeups = new Wakeups(
    timers,
    store,
    () => registry.names(),
    (run) => lifecycle.advance(run),
    (records) => loading.wakeStored(records),
    () => new Promise<void>((resolve) => queue.afterCommit(resolve)),
    (run) => sleep.nextWakeOf(run),
    clock,
  );
  const ending: RunEnding = new RunEnding(
    store,
    runs,
    journal,
    observer,
    dispatcher,
    attempts,
    suspensions,
    wakeups,
    timers,
    concurrency,
    clusterOf,
    {
      startRun: (run) => lifecycle.startRun(run),
      cancelElsewhere: (runId, reason) => cancelElsewhere(runId, reason),
      onFinished: options.onFinished,
      isClosed: () => shell.isClosed(),
    },
    clock,
  );
  const handOver = (run: ActiveRun, runId: string, settleToo: boolean): void =>
    handOverCallers(run.waiters, settleToo, (untilSettled) => results.waitFor(runId, untilSettled));
  const sleep: RunSleep = new RunSleep(
    runs,
    journal,
    observer,
    ending,
    wakeups,
    suspensions,
    clusterOf,
    {
      handOver: (run, settleToo) => handOver(run, run.rec.id, settleToo),
      isRateWaiter: (runId) => rateLimits.isWaiting(runId),
    },
    clock,
  );
  const lifecycle: RunLifecycle = new RunLifecycle(
    store,
    config,
    runs,
    journal,
    observer,
    dispatcher,
    attempts,
    ending,
    wakeups,
    suspensions,
    concurrency,
    host,
    sleep,
    clusterOf,
    { handOver: (run, settleToo) => handOver(run, run.rec.id, settleToo) },
    clock,
  );
  const loading: RunLoading = new RunLoading(
    store,
    registry,
    runs,
    observer,
    dispatcher,
    suspensions,
    concurrency,
    {
      lifecycle: () => lifecycle,
      sleep: () => sleep,
      wakeups: () => wakeups,
      cluster: clusterOf,
      isClosed: () => shell.isClosed(),
    },
    clock,
  );
  const claims: ClaimedRuns = new ClaimedRuns(
    registry,
    runs,
    observer,
    dispatcher,
    ending,
    lifecycle,
    sleep,
    suspensions,
    {
      cluster: clusterOf,
      isClosed: () => shell.isClosed(),
    },
  );
  const creation: RunCreation = new RunCreation(
    store,
    runs,
    queue,
    registry,
    {
      addRun: (spec) => lifecycle.addRun(spec),
      recordOf: (spec) => lifecycle.recordOf(spec),
      expectCreated: (id, reject) => commits.expectCreated(id, reject),
      created: (id) => commits.created(id),
      waitFor: (id) => results.waitFor(id, true),
      // Alone, this process wakes it (one scan timer); in a cluster, the claim does.
      storedAsleep: (dueAt) => {
        if (!clusterOf()) wakeups.expectStored(dueAt);
      },
      runRecord: (runId) => results.runRecord(runId),
      assertOpen: () => assertOpen(),
    },
    clock,
  );
  const commits: CommitOutcomes = new CommitOutcomes(
    store,
    runs,
    journal,
    dispatcher,
    attempts,
    ending,
    clusterOf,
    {
      isTransient: options.isTransientStoreError,
      handOver: (run, runId, settleToo) => handOver(run, runId, settleToo),
      waitsSettled: (waits) => loading.waitsSettled(waits),
      inboxCommitted: (result, batch) => inbox.committed(result, batch),
      inboxFailed: (error, batch) => inbox.failed(error, batch),
    },
    clock,
  );
  const results: RunResults = new RunResults(
    store,
    runs,
    registry,
    dispatcher,
    lifecycle,
    ending,
    {
      cluster: clusterOf,
      activeRun: (runId) => loading.activeRun(runId),
      isClosed: () => shell.isClosed(),
    },
    clock,
  );
  const steering: Steering = new Steering(store, queue, lifecycle, ending, clusterOf, {
    activeRun: (runId) => loading.activeRun(runId),
    waitFor: (runId, untilSettled) => results.waitFor(runId, untilSettled),
    storedResult: (rec) => results.storedResult(rec),
  });
  const inbox: Inbox = new Inbox(
    store,
    queue,
    runs,
    registry,
    {
      addRun: (spec) => lifecycle.addRun(spec),
      assertOpen: () => assertOpen(),
    },
    clock,
  );
  return {
    queue,
    registry,
    runs,
    timers,
    concurrency,
    progress,
    dispatcher,
    rateLimits,
    attempts,
    ending,
    lifecycle,
    wakeups,
    commits,
    suspensions,
    inbox,
    creation,
    claims,
    steering,
    results,
    loading,
  };
}
