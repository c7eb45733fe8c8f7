import type { EventRecord } from '../store/types.js';

/** The latest progress a step reported (`ctx.progress`), and when. */
export interface StepProgressValue {
  value: unknown;
  at: number;
}

export interface ProgressUpdate extends StepProgressValue {
  runId: string;
  step: string;
}

const RUN_ENDED = new Set(['run_succeeded', 'run_failed', 'run_cancelled', 'run_timed_out']);

/**
 * Ephemeral step progress: the latest value per step of each run, in memory only, dropped when
 * the run ends. Nothing is written to the store: progress is for watching, and a value lost with
 * a crash is replaced by the next one the step reports.
 */
export class StepProgress {
  private readonly byRun = new Map<string, Map<string, StepProgressValue>>();
  private readonly listeners = new Set<(update: ProgressUpdate) => void>();

  set(runId: string, step: string, value: unknown, at: number): void {
    let ofRun = this.byRun.get(runId);
    if (!ofRun) {
      ofRun = new Map();
      this.byRun.set(runId, ofRun);
    }
    ofRun.set(step, { value, at });
    for (const listener of this.listeners) {
      try {
        listener({ runId, step, value, at });
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

  /** Forgets the runs these committed events ended. Free when no run reported progress. */
  committed(events: readonly EventRecord[]): void {
    if (!this.byRun.size) return;
    for (const event of events) if (RUN_ENDED.has(event.type)) this.byRun.delete(event.runId);
  }
}
