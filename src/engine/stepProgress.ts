import type { EventRecord } from '../store/types.js';

/** The latest progress a step reported (`ctx.progress`), and when. */
export interface StepProgressValue {
  value: unknown;
  at: number;
}

export interface ProgressUpdate extends StepProgressValue {
  runId: string;
  step: string;
  /** Reported by a step in another process (heard from a cluster notice), not by one run here. */
  isRemote?: boolean;
}

/** Runs whose progress is kept at most: past it the oldest is forgotten (a notice of its end may be lost). */
const MAX_RUNS = 10_000;

const RUN_ENDED = new Set(['run_succeeded', 'run_failed', 'run_cancelled', 'run_timed_out']);

/**
 * Ephemeral step progress: the latest value per step of each run, in memory only, dropped when
 * the run ends. Nothing is written to the store: progress is for watching, and a value lost with
 * a crash is replaced by the next one the step reports.
 */
export class StepProgress {
  private readonly byRun = new Map<string, Map<string, StepProgressValue>>();
  private readonly listeners = new Set<(update: ProgressUpdate) => void>();

  set(runId: string, step: string, value: unknown, at: number, isRemote = false): void {
    let ofRun = this.byRun.get(runId);
    if (!ofRun) {
      ofRun = new Map();
      this.byRun.set(runId, ofRun);
      if (this.byRun.size > MAX_RUNS) this.byRun.delete(this.byRun.keys().next().value as string);
    }
    const known = ofRun.get(step);
    // Notices from other processes can arrive out of order: a value never replaces a newer one.
    if (isRemote && known && known.at > at) return;
    ofRun.set(step, { value, at });
    for (const listener of this.listeners) {
      try {
        listener(isRemote ? { runId, step, value, at, isRemote } : { runId, step, value, at });
      } catch (error) {
        console.error('[braid] a progress listener threw:', error);
      }
    }
  }

  /** The latest value of each step of the run that reported one. */
  of(runId: string): Record<string, StepProgressValue> {
    return Object.fromEntries(this.byRun.get(runId) ?? []);
  }

  /** Hears every progress report of this process. */
  subscribe(listener: (update: ProgressUpdate) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Forgets these runs (they ended in another process). */
  forget(runIds: readonly string[]): void {
    if (!this.byRun.size) return;
    for (const runId of runIds) this.byRun.delete(runId);
  }

  /** Forgets the runs these committed events ended. Free when no run reported progress. */
  committed(events: readonly EventRecord[]): void {
    if (!this.byRun.size) return;
    for (const event of events) if (RUN_ENDED.has(event.type)) this.byRun.delete(event.runId);
  }
}
