import { RunCancelledError, RunTimeoutError, type SerializedError, serializeError } from '../model/errors.js';
import { fromJson, toJson } from '../model/json.js';
import { traceIdOf } from '../observe/tracing.js';
import type { Store } from '../store/store.js';
import { type EventType, isTerminalRun, isTerminalStep, type RunRecord, type RunStatus } from '../store/types.js';
import type { Attempts } from './attempts.js';
import { buildResult } from './buildResult.js';
import type { Clock } from './clock.js';
import type { Concurrency } from './concurrency.js';
import type { Dispatcher } from './dispatcher.js';
import type { Journal } from './journal.js';
import type { RunObserver } from './observer.js';
import type { ClusterPort } from './ports.js';
import type { ExecutionResult } from './result.js';
import type { ActiveRun } from './runState.js';
import type { RunTable } from './runTable.js';
import type { Suspensions } from './suspensions.js';
import type { TimerQueue } from './timers.js';
import { resolveAll } from './waiters.js';
import type { Wakeups } from './wakeups.js';

export type FinalStatus = Extract<RunStatus, 'succeeded' | 'failed' | 'cancelled' | 'timed_out'>;

/**
 * How runs end: the final record and event, the run's unfinished steps cancelled, the cascade to
 * its children, its concurrency slot handed on, its deadline; and, once that is durable, its
 * callers, callbacks and parent told. Also the one way a run leaves memory (`forget`).
 */
export class RunEnding {
  constructor(
    private readonly store: Store,
    private readonly runs: RunTable,
    private readonly journal: Journal,
    private readonly observer: RunObserver,
    private readonly dispatcher: Dispatcher,
    private readonly attempts: Attempts,
    private readonly suspensions: Suspensions,
    private readonly wakeups: Wakeups,
    private readonly timers: TimerQueue,
    private readonly concurrency: Concurrency,
    private readonly cluster: () => ClusterPort | undefined,
    private readonly hooks: {
      /** A run admitted now that another freed its concurrency slot. */
      startRun(run: ActiveRun): void;
      /** Cancels a run that is not in memory (loading it if this process owns it). */
      cancelElsewhere(runId: string, reason: string): void;
      /** A top-level run ended: for the executor's history. */
      onFinished(result: ExecutionResult): void;
      isClosed(): boolean;
    },
    private readonly clock: Clock,
  ) {}

  /** The run's state as an ExecutionResult, from memory. */
  resultOf(run: ActiveRun): ExecutionResult {
    return buildResult(run.rec, run.steps.values(), {
      order: run.startOrder,
      globals: run.globals,
      traceId: traceIdOf(run.span),
      retries: run.retries,
      now: this.clock.now(),
    });
  }

  /** `outcome.outputJson`: the output as stored already (a sink step's), so it is not serialised again. */
  finalize(
    run: ActiveRun,
    status: FinalStatus,
    outcome: { output?: unknown; outputJson?: string; error?: SerializedError },
  ): void {
    if (isTerminalRun(run.rec.status)) return;
    const now = this.clock.now();
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
      this.attempts.stop(step, reason);
      this.suspensions.abandon(step, () => reason);
      this.dispatcher.release(run, step);
      step.inQueue = false;
      step.rec.status = 'cancelled';
      step.rec.finishedAt = now;
      this.journal.writeStep(step);
      this.journal.event(run, step.def.name, 'step_cancelled', null, null, now);
    }
    this.cancelChildrenOf(run, status);
    this.disarmDeadline(run);
    this.wakeups.disarm(run);
    const rec = run.rec;
    rec.status = status;
    rec.finishedAt = now;
    rec.startedAt ??= now;
    rec.wakeAt = null;
    rec.pausedAt = null;
    if (status === 'succeeded') {
      try {
        rec.output = outcome.outputJson ?? toJson(outcome.output, `The output of workflow "${rec.workflow}"`);
      } catch (error) {
        rec.status = 'failed';
        rec.error = JSON.stringify(serializeError(error));
      }
    } else {
      rec.error = JSON.stringify(outcome.error ?? serializeError(new RunCancelledError(rec.id)));
    }
    run.error = rec.error ? fromJson<SerializedError>(rec.error) : undefined;
    // The final globals are stored whether or not periodic checkpoints are on: a result read back
    // later must show what the steps set.
    rec.globals = JSON.stringify(run.globals);
    rec.checkpointSeq += run.completedSinceCheckpoint;
    run.completedSinceCheckpoint = 0;
    this.journal.writeRun(run);
    this.journal.event(run, null, `run_${rec.status}` as EventType, null, rec.error, now);
    this.dispatcher.pump();
    const next = this.concurrency.release(run, wasWaiting);
    if (next) this.hooks.startRun(next);
    this.journal.afterCommit(() => this.afterEnd(run));
  }

  /** Ends the run `timed_out` at its deadline (stored, so it holds across restarts and pauses). */
  armDeadline(run: ActiveRun): void {
    const deadline = run.rec.deadlineAt;
    // A stopped deadline (paused, or waiting when waits do not count) is armed again when it restarts.
    if (deadline === null || run.deadlineTimer !== undefined || run.rec.pausedAt !== null) return;
    run.deadlineTimer = this.timers.schedule(deadline, () => {
      run.deadlineTimer = undefined;
      if (isTerminalRun(run.rec.status) || run.rec.pausedAt !== null || !run.resident) return;
      const timeoutSeconds = run.plan.workflow.options.timeoutSeconds;
      const seconds = timeoutSeconds ?? Math.round((deadline - (run.rec.startedAt ?? run.rec.createdAt)) / 1000);
      this.finalize(run, 'timed_out', { error: serializeError(new RunTimeoutError(run.rec.id, seconds)) });
    });
  }

  disarmDeadline(run: ActiveRun): void {
    this.timers.cancel(run.deadlineTimer);
    run.deadlineTimer = undefined;
  }

  /** Cancels runs: those in memory here, the others through their owner (or loaded, alone). */
  cancelRuns(runIds: Iterable<string>, reason: string): void {
    this.dispatcher.holdWhile(() => {
      for (const runId of runIds) {
        const child = this.runs.get(runId);
        if (child && !isTerminalRun(child.rec.status)) {
          this.finalize(child, 'cancelled', { error: serializeError(new RunCancelledError(runId, reason)) });
        } else if (!child) this.hooks.cancelElsewhere(runId, reason);
      }
    });
  }

  /** Takes a run out of memory: its timers stop, its children leave the index. */
  forget(run: ActiveRun): void {
    this.disarmDeadline(run);
    this.wakeups.disarm(run);
    this.runs.remove(run);
  }

  /** Cancellation cascades to the children that are still running; nothing is started meanwhile. */
  private cancelChildrenOf(run: ActiveRun, status: RunStatus): void {
    const reason = `its parent run ${run.rec.id} ended ${status}`;
    const unfinished: string[] = [];
    for (const step of run.steps.values()) {
      for (const child of step.children?.unfinished() ?? []) unfinished.push(child.runId);
      if (step.children && !step.children.loaded) this.cancelStoredChildren(run, step.def.name, reason);
    }
    if (unfinished.length) this.cancelRuns(unfinished, reason);
  }

  /**
   * After a restart, a step's children are known only to the store until the step re-runs and reads
   * its links, so a parent that ends before that (cancelled while paused, say) finds them there.
   */
  private cancelStoredChildren(run: ActiveRun, stepName: string, reason: string): void {
    this.store.getChildLinks(run.rec.id, stepName).then(
      (links) => {
        if (this.hooks.isClosed()) return;
        const open = links.filter((l) => !isTerminalRun(l.status)).map((l) => l.runId);
        if (open.length) this.cancelRuns(open, reason);
      },
      () => {}, // the store closed meanwhile: nothing more this process can do
    );
  }

  private afterEnd(run: ActiveRun): void {
    this.forget(run);
    this.cluster()?.capacityFreed();
    // Building a full ExecutionResult per child of a 100k fan-out is measurable: only build one
    // when someone will read it (a waiter, a callback handler, or the history of top-level runs).
    const isRoot = run.rec.parentRunId === null;
    const waiters = run.waiters;
    const needed = isRoot || waiters.settle.length > 0 || waiters.done.length > 0 || this.observer.hasHandlers;
    const result = needed ? this.resultOf(run) : undefined;
    if (result) {
      resolveAll(waiters, result);
      if (isRoot) this.hooks.onFinished(result);
    }
    this.observer.runEnded(run, result);
    this.notifyParent(run.rec);
  }

  /** A child's end reaches its parent only through the parent step's join. */
  notifyParent(rec: RunRecord): void {
    if (rec.parentRunId === null || rec.parentStep === null) return;
    const registry = this.runs.get(rec.parentRunId)?.steps.get(rec.parentStep)?.children;
    registry?.settle(rec.id, rec.status, rec.output, rec.error);
  }
}
