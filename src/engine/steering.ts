import { InvalidStateError, RunCancelledError, RunNotFoundError, serializeError } from '../model/errors.js';
import type { Store } from '../store/store.js';
import { isTerminalRun, type RunControl, type RunRecord } from '../store/types.js';
import type { RunEnding } from './ending.js';
import type { RunLifecycle } from './lifecycle.js';
import type { ClusterPort } from './ports.js';
import type { ExecutionResult } from './result.js';
import { type ActiveRun, isActive } from './runState.js';
import type { WriteQueue } from './writeQueue.js';

/**
 * Pause, resume and cancel, asked by the executor (the API, the CLI). A run in memory here is
 * steered at once; in a cluster, a run another worker holds gets a control request its owner
 * carries out (or the next worker to claim it), and a run no worker has started is cancelled in the
 * store directly. Each answers once its change is durable.
 */
export class Steering {
  constructor(
    private readonly store: Store,
    private readonly queue: WriteQueue,
    private readonly lifecycle: RunLifecycle,
    private readonly ending: RunEnding,
    private readonly cluster: () => ClusterPort | undefined,
    private readonly hooks: {
      /** The run in memory, loaded from the store if this process may run it. */
      activeRun(runId: string): Promise<ActiveRun | undefined>;
      waitFor(runId: string, untilSettled: boolean): Promise<ExecutionResult>;
      storedResult(rec: RunRecord): Promise<ExecutionResult>;
    },
  ) {}

  async pause(runId: string): Promise<ExecutionResult> {
    const run = await this.hooks.activeRun(runId);
    if (!run) {
      const rec = await this.store.getRun(runId);
      const steerable = rec && (rec.status === 'running' || rec.status === 'waiting' || rec.status === 'queued');
      if (this.cluster() && rec && (steerable || rec.status === 'paused')) {
        if (rec.status !== 'paused') await this.requestControl(runId, 'pause', null);
        return this.hooks.waitFor(runId, true);
      }
      throw new InvalidStateError(runId, rec?.status ?? 'unknown', 'pause');
    }
    if (run.rec.status === 'paused') return this.hooks.waitFor(runId, true);
    if (!isActive(run) && run.rec.status !== 'queued') throw new InvalidStateError(runId, run.rec.status, 'pause');
    this.lifecycle.applyPause(run);
    // Durable before visible: the caller sees the run paused once the store says so.
    await this.queue.flushed();
    return this.hooks.waitFor(runId, true);
  }

  async resume(runId: string): Promise<void> {
    const run = await this.hooks.activeRun(runId);
    if (run?.rec.status !== 'paused') {
      // activeRun may have loaded a run asleep in the store (and cleared its wake-up time) just to
      // look at it: it goes on as if woken, or its sleep would never end (the simulation's seed 263).
      if (run && isActive(run)) this.lifecycle.continueRun(run);
      const status = run?.rec.status ?? (await this.store.getRun(runId))?.status ?? 'unknown';
      if (this.cluster() && !run && status === 'paused') return this.requestControl(runId, 'resume', null);
      throw new InvalidStateError(runId, status, 'resume');
    }
    this.lifecycle.applyResume(run);
    await this.queue.flushed();
  }

  async cancel(runId: string, reason?: string): Promise<ExecutionResult> {
    const run = await this.hooks.activeRun(runId);
    if (!run) {
      const rec = await this.store.getRun(runId);
      if (!rec) throw new RunNotFoundError(runId);
      const cluster = this.cluster();
      if (cluster && !isTerminalRun(rec.status)) {
        // A run no worker has started yet is cancelled here and now: it may be waiting for a
        // worker with its version, or for a concurrency slot, and then no owner would come.
        const error = JSON.stringify(serializeError(new RunCancelledError(runId, reason)));
        if (!(rec.status === 'queued' && (await cluster.cancelUnstarted(runId, error)))) {
          await this.requestControl(runId, 'cancel', reason ?? null);
        }
        return this.hooks.waitFor(runId, false);
      }
      return this.hooks.storedResult(rec);
    }
    if (!isTerminalRun(run.rec.status)) {
      this.ending.finalize(run, 'cancelled', { error: serializeError(new RunCancelledError(runId, reason)) });
    }
    return this.hooks.waitFor(runId, false);
  }

  /** Asks the process that owns the run (or the next worker to claim it) to act on it. */
  private async requestControl(runId: string, action: RunControl['action'], reason: string | null) {
    this.queue.control({ runId, action, reason });
    await this.queue.flushed();
  }
}
