/**
 * When a paused run paused, so that its duration stops there instead of growing while it waits
 * (a run record keeps no pause time: the run_paused event does).
 */
import type { Store } from '../store/store.js';
import type { EventRecord, RunRecord } from '../store/types.js';
import { readRunEvents } from './runSteps.js';

/**
 * The run's current pause, from its events: the last run_paused, unless a run_resumed came after.
 * `pausedAt` is the answer for the events before these, when only the newer ones are given.
 */
export function pausedAtFrom(events: readonly EventRecord[], pausedAt: number | null = null): number | null {
  for (const event of events) {
    if (event.step !== null) continue;
    if (event.type === 'run_paused') pausedAt = event.at;
    else if (event.type === 'run_resumed') pausedAt = null;
  }
  return pausedAt;
}

/** Runs remembered before the memo is dropped (it only saves reads). */
const MAX_REMEMBERED = 10_000;

/**
 * Pause times of the paused runs in pages of runs, for a server that lists them every second or
 * so. A run's events are read once; later asks read only the events since (a paused fan-out
 * parent may have 100,000 child_spawned events, a pause adds one).
 */
export class PauseTimes {
  private readonly known = new Map<string, { afterSeq: number; pausedAt: number | null }>();

  constructor(private readonly store: Store) {}

  /** pausedAt by run id, for each paused run among `runs` whose pause is recorded. */
  async of(runs: readonly RunRecord[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    await Promise.all(
      runs.map(async (run) => {
        if (run.status !== 'paused') {
          this.known.delete(run.id);
          return;
        }
        const pausedAt = await this.pausedAt(run.id);
        if (pausedAt !== null) out.set(run.id, pausedAt);
      }),
    );
    return out;
  }

  private async pausedAt(runId: string): Promise<number | null> {
    const before = this.known.get(runId);
    const events = await readRunEvents(this.store, runId, before?.afterSeq ?? 0);
    const pausedAt = pausedAtFrom(events, before?.pausedAt ?? null);
    if (this.known.size >= MAX_REMEMBERED) this.known.clear();
    this.known.set(runId, { afterSeq: events.at(-1)?.seq ?? before?.afterSeq ?? 0, pausedAt });
    return pausedAt;
  }
}
