import {
  ExecutorClosedError,
  RunEndedElsewhereError,
  RunTakenOverError,
  StoreCommitError,
  serializeError,
} from '../model/errors.js';
import type { CommitResult, Store } from '../store/store.js';
import type { RunRecord, WaitRecord, WriteBatch } from '../store/types.js';
import type { Attempts } from './attempts.js';
import type { Clock } from './clock.js';
import type { Dispatcher } from './dispatcher.js';
import type { RunEnding } from './ending.js';
import type { Journal } from './journal.js';
import type { ClusterPort } from './ports.js';
import type { ActiveRun } from './runState.js';
import type { RunTable } from './runTable.js';
import { resolveAll } from './waiters.js';

/**
 * What the engine does when a commit did not land as written. Memory is then ahead of the store
 * for the runs the batch touched:
 * - a batch the store refused for its data (split by run tree, so only the guilty trees): those
 *   runs stop here, their callers get a StoreCommitError, and each is recorded as failed if it can be;
 * - a batch given up after retrying (the database stayed away, in a cluster; or the executor closed):
 *   the runs go back to the queue (cluster) or wait for the next start, from their last committed state;
 * - runs a scale-out store refused because another worker took them over (this worker's lease
 *   expired): dropped here, the other worker's outcome is the one that counts;
 * - new runs whose identity already existed (another process created them first): everything points
 *   at the existing run.
 */
export class CommitOutcomes {
  /** Top-level runs whose creation is not committed yet: how to fail their `createRun`. */
  private readonly creating = new Map<string, (error: unknown) => void>();

  constructor(
    private readonly store: Store,
    private readonly runs: RunTable,
    private readonly journal: Journal,
    private readonly dispatcher: Dispatcher,
    private readonly attempts: Attempts,
    private readonly ending: RunEnding,
    private readonly cluster: () => ClusterPort | undefined,
    private readonly hooks: {
      isTransient(error: unknown): boolean;
      /** Waits the store settled (an event, an input, a wait it had settled first). */
      waitsSettled(waits: readonly WaitRecord[]): void;
      /** What the commit did with the batch's events and inputs, or that it failed. */
      inboxCommitted(result: CommitResult, batch: WriteBatch): void;
      inboxFailed(error: unknown, batch: WriteBatch): void;
      /** Hands a run's callers over to its end elsewhere, under `runId` (`settleToo`: `execute()` callers too). */
      handOver(run: ActiveRun, runId: string, settleToo: boolean): void;
    },
    private readonly clock: Clock,
  ) {}

  /** A new top-level run is being committed: `reject` fails its creator if the commit fails. */
  expectCreated(runId: string, reject: (error: unknown) => void): void {
    this.creating.set(runId, reject);
  }

  created(runId: string): void {
    this.creating.delete(runId);
  }

  failed(error: unknown, batch: WriteBatch): void {
    this.hooks.inboxFailed(error, batch);
    const newIds = new Set(batch.newRuns.map((r) => r.id));
    for (const id of newIds) {
      const reject = this.creating.get(id);
      this.creating.delete(id);
      reject?.(error);
    }
    const touched = touchedRuns(batch);
    if (this.hooks.isTransient(error)) {
      console.error('[braid] gave up a commit; the runs it touched resume from their last committed state:', error);
      const dropped = this.drop(touched, error);
      this.cluster()?.handBack(dropped.map((r) => r.rec.id));
      return;
    }
    const failure = new StoreCommitError(this.store.description, (error as Error)?.message ?? String(error), {
      cause: error,
    });
    console.error(`[braid] ${failure.message}`);
    const dropped = this.drop(touched, failure);
    // Record the runs that exist in the store as failed, so they do not stay "running" there. Their
    // own records are what the store refused, so a fresh copy with the failure is written instead.
    for (const run of dropped) {
      if (newIds.has(run.rec.id)) continue;
      this.journal.queue.updateRun(failedCopy(run.rec, JSON.stringify(serializeError(failure)), this.clock.now()));
    }
  }

  result(result: CommitResult, batch: WriteBatch): void {
    if (result.refusedRunIds?.length) {
      console.warn(
        `[braid] ${result.refusedRunIds.length} run(s) were taken over by another worker (this worker's lease ` +
          'expired); their late results were refused and they were dropped here.',
      );
      for (const id of result.refusedRunIds) this.drop([id], new RunTakenOverError(id));
    }
    if (result.staleRunIds?.length) {
      // The store says these runs had already ended (another process ended them): memory is stale.
      for (const id of result.staleRunIds) this.drop([id], new RunEndedElsewhereError(id));
    }
    if (result.settledWaits?.length) this.hooks.waitsSettled(result.settledWaits);
    this.hooks.inboxCommitted(result, batch);
    if (result.duplicateRunIds.length) {
      const duplicates = new Set(result.duplicateRunIds);
      for (const rec of batch.newRuns) if (duplicates.has(rec.id)) this.adoptExistingIdentity(rec);
    }
  }

  /** Forgets runs: their steps stop, their callers fail (or, in a cluster, wait on elsewhere). */
  drop(ids: Iterable<string>, reason: unknown): ActiveRun[] {
    const dropped: ActiveRun[] = [];
    const cluster = this.cluster();
    for (const id of ids) {
      const run = this.runs.get(id);
      if (!run) continue;
      this.ending.forget(run);
      dropped.push(run);
      for (const step of run.steps.values()) {
        this.attempts.stop(step, reason);
        this.dispatcher.release(run, step);
      }
      if (cluster) {
        this.hooks.handOver(run, id, true);
        continue;
      }
      const result = { ...this.ending.resultOf(run), success: false, error: serializeError(reason) };
      resolveAll(run.waiters, result);
    }
    this.dispatcher.pump();
    return dropped;
  }

  /** On close: callers still waiting get the run as it stands; it resumes on the next start. */
  releaseCallers(): void {
    const error = serializeError(new ExecutorClosedError());
    for (const run of this.runs.values()) {
      if (!run.waiters.settle.length && !run.waiters.done.length) continue;
      resolveAll(run.waiters, { ...this.ending.resultOf(run), success: false, error });
    }
  }

  /**
   * A new run lost the race for its identity: another process created a run with the same
   * idempotency key, or the same (parent, step, key), first. Point everything at that run.
   */
  private adoptExistingIdentity(phantom: RunRecord): void {
    const run = this.runs.get(phantom.id);
    if (run) {
      this.ending.forget(run);
      for (const step of run.steps.values()) this.attempts.stop(step, new RunTakenOverError(phantom.id));
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
        if (run) this.hooks.handOver(run, id, true);
      },
      () => {},
    );
  }
}

function touchedRuns(batch: WriteBatch): Set<string> {
  const ids = new Set<string>();
  for (const r of batch.newRuns) ids.add(r.id);
  for (const r of batch.runUpdates) ids.add(r.id);
  for (const s of batch.steps) ids.add(s.runId);
  for (const e of batch.events) ids.add(e.runId);
  return ids;
}

function failedCopy(rec: RunRecord, error: string, now: number): RunRecord {
  return {
    ...rec,
    status: 'failed',
    output: null,
    error,
    finishedAt: now,
    startedAt: rec.startedAt ?? now,
    wakeAt: null,
  };
}
