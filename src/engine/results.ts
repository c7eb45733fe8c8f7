import { RunNotFoundError, WorkflowNotRegisteredError } from '../model/errors.js';
import type { Store } from '../store/store.js';
import { isTerminalRun, type RunRecord } from '../store/types.js';
import { readResult, readResultPatiently } from './buildResult.js';
import type { Clock } from './clock.js';
import type { Dispatcher } from './dispatcher.js';
import type { RunEnding } from './ending.js';
import type { RunLifecycle } from './lifecycle.js';
import type { ClusterPort } from './ports.js';
import type { WorkflowRegistry } from './registry.js';
import type { ExecutionResult } from './result.js';
import type { ActiveRun } from './runState.js';
import type { RunTable } from './runTable.js';

/**
 * A run's result, and callers waiting for a run's end (or pause), wherever the run is: in memory here, asleep in the
 * store (the caller is parked until it is loaded), not loaded yet (it is loaded and carried on), or
 * run by another process in a cluster (its end arrives as a notification).
 */
export class RunResults {
  constructor(
    private readonly store: Store,
    private readonly runs: RunTable,
    private readonly registry: WorkflowRegistry,
    private readonly dispatcher: Dispatcher,
    private readonly lifecycle: RunLifecycle,
    private readonly ending: RunEnding,
    private readonly hooks: {
      cluster(): ClusterPort | undefined;
      activeRun(runId: string): Promise<ActiveRun | undefined>;
      isClosed(): boolean;
    },
    private readonly clock: Clock,
  ) {}

  /** Resolves when the run ends (`untilSettled`: or pauses). */
  async waitFor(runId: string, untilSettled: boolean): Promise<ExecutionResult> {
    const run = this.runs.get(runId);
    if (run) return this.waitInMemory(run, untilSettled);
    if (this.hooks.cluster()) return this.waitElsewhere(runId, untilSettled);
    const rec = await this.store.getRun(runId);
    if (!rec) throw new RunNotFoundError(runId);
    const again = this.runs.get(runId);
    if (again) return this.waitInMemory(again, untilSettled);
    if (isTerminalRun(rec.status) || (untilSettled && rec.status === 'paused')) return this.storedResult(rec);
    if (!this.registry.has(rec.workflow)) throw new WorkflowNotRegisteredError(rec.workflow, this.registry.names());
    if (rec.wakeAt !== null && rec.wakeAt > this.clock.now()) {
      // Asleep: wait for it where it will be loaded, without loading it now.
      const parked = this.runs.parkedWaiters(runId);
      return new Promise((resolve) => (untilSettled ? parked.settle : parked.done).push(resolve));
    }
    // Unfinished but not in memory (a paused run, or one another executor left): load it.
    const loaded = await this.hooks.activeRun(runId);
    if (!loaded) return this.storedResult(rec);
    if (loaded.rec.status !== 'paused') {
      this.lifecycle.continueRun(loaded);
      this.dispatcher.pump();
    }
    return this.waitInMemory(loaded, untilSettled);
  }

  /** The result of a run as the store holds it. */
  storedResult(rec: RunRecord): Promise<ExecutionResult> {
    return readResult(this.store, rec, this.registry.stepOrder(rec.workflow), this.clock.now());
  }

  /** The run's current state, from memory when it is here, else from the store. */
  async inspect(runId: string): Promise<ExecutionResult> {
    const run = this.runs.get(runId);
    if (run) return this.ending.resultOf(run);
    const rec = await this.store.getRun(runId);
    if (!rec) throw new RunNotFoundError(runId);
    return this.storedResult(rec);
  }

  /** The run's record, from memory when it is here, else from the store. */
  async runRecord(runId: string): Promise<RunRecord | undefined> {
    return this.runs.get(runId)?.rec ?? (await this.store.getRun(runId));
  }

  private waitInMemory(run: ActiveRun, untilSettled: boolean): Promise<ExecutionResult> {
    if (untilSettled && run.rec.status === 'paused' && run.running === 0) {
      return Promise.resolve(this.ending.resultOf(run));
    }
    return new Promise((resolve) => (untilSettled ? run.waiters.settle : run.waiters.done).push(resolve));
  }

  /** Waits for a run another process runs (or will claim): its end arrives as a notification. */
  private async waitElsewhere(runId: string, untilSettled: boolean): Promise<ExecutionResult> {
    const rec = await (this.hooks.cluster() as ClusterPort).waitUntilSettled(runId, untilSettled);
    if (!rec) throw new RunNotFoundError(runId);
    return readResultPatiently(
      this.store,
      rec,
      this.registry.stepOrder(rec.workflow),
      () => this.hooks.isClosed(),
      this.clock,
    );
  }
}
