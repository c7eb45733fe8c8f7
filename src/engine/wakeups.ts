import type { Store, WakeCursor } from '../store/store.js';
import type { RunRecord } from '../store/types.js';
import type { Clock } from './clock.js';
import type { ActiveRun } from './runState.js';
import type { TimerQueue } from './timers.js';

/** How many sleeping runs one read of the store wakes. */
const WAKE_BATCH = 500;
/**
 * The least time between two scans. A run woken in memory may keep its (past) wake-up time in its
 * row until its next commit, and the scan must not spin on it meanwhile.
 */
const MIN_SCAN_INTERVAL_MS = 50;

/**
 * The one wake-up path of runs that wait for a time (today: a step's retry after its backoff).
 * A run in memory has one entry in the timer heap, for its earliest due time, whatever number of
 * steps wait; a run that left memory to wait (see RunLifecycle's eviction) is only a row with a
 * `wakeAt`, and a single scan timer, armed for the earliest of those, loads the due ones in batches.
 * Either way the run is then advanced, which starts what is due and arms the next wake-up.
 */
export class Wakeups {
  private scanTimer: number | undefined;
  private scanDueAt = Number.POSITIVE_INFINITY;
  private scanning = false;
  private closed = false;

  constructor(
    private readonly timers: TimerQueue,
    private readonly store: Store,
    /** The registered workflows: only their runs are woken here. */
    private readonly workflows: () => string[],
    /** A run in memory whose time has come. */
    private readonly wake: (run: ActiveRun) => void,
    /** Runs asleep in the store whose time has come: load and advance them. */
    private readonly wakeStored: (records: RunRecord[]) => Promise<void>,
    /** Resolves once everything written so far is committed. */
    private readonly committed: () => Promise<void>,
    /** The earliest time the run has something to do by itself (a retry, a wait due), or null. */
    private readonly nextWakeOf: (run: ActiveRun) => number | null,
    private readonly clock: Clock,
  ) {}

  /** Arms (or re-arms, or disarms) the run's wake-up for its earliest due step. */
  arm(run: ActiveRun): void {
    const at = this.nextWakeOf(run);
    if (at === null) {
      this.disarm(run);
      return;
    }
    if (run.wakeTimer !== undefined && run.wakeTimerAt === at) return;
    this.disarm(run);
    run.wakeTimerAt = at;
    run.wakeTimer = this.timers.schedule(at, () => {
      run.wakeTimer = undefined;
      run.wakeTimerAt = null;
      if (run.resident) this.wake(run);
    });
  }

  disarm(run: ActiveRun): void {
    this.timers.cancel(run.wakeTimer);
    run.wakeTimer = undefined;
    run.wakeTimerAt = null;
  }

  /** A run asleep in the store must wake at `at`: make sure a scan happens by then. */
  expectStored(at: number): void {
    if (this.closed || at >= this.scanDueAt) return;
    this.timers.cancel(this.scanTimer);
    this.scanDueAt = at;
    this.scanTimer = this.timers.schedule(at, () => {
      this.scanTimer = undefined;
      this.scanDueAt = Number.POSITIVE_INFINITY;
      this.scan();
    });
  }

  /** Looks for sleeping runs in the store now (on open: runs that slept through a restart). */
  async scanNow(): Promise<void> {
    const next = await this.store.nextWakeAt(this.workflows());
    if (next !== null) this.expectStored(next);
  }

  close(): void {
    this.closed = true;
    this.timers.cancel(this.scanTimer);
    this.scanTimer = undefined;
  }

  /**
   * One pass over the runs due now, batch after batch in (wakeAt, id) order, each read past the
   * last run of the one before (a keyset cursor). The next batch is read and loaded while the one
   * before is still being committed, and the two go to the store in one commit: the cursor, not
   * that commit, keeps a batch from reading the runs woken before it. On W8 (100,000 runs due at
   * once) strictly serial (read, load, run, wait for the commit, read again) cost 80-109 µs of CPU
   * per wake-up in four runs, this 73-82 µs: the process is CPU-bound while it wakes, so overlap
   * gains little (see bench/README.md).
   *
   * The pass reads up to one `now`, so it ends. A run whose wakeAt is set or moved behind the
   * cursor while the pass goes on (an event woke it and its load failed, say) is read by the next
   * pass, which starts from the beginning: the pass ends with nextWakeAt, which sees it due.
   */
  private scan(): void {
    if (this.scanning || this.closed) return;
    this.scanning = true;
    const pass = async () => {
      const now = this.clock.now();
      const workflows = this.workflows();
      let after: WakeCursor | undefined;
      let previous: Promise<void> | undefined;
      try {
        for (;;) {
          const due = await this.store.listRunsToWake(now, WAKE_BATCH, workflows, after);
          if (this.closed || !due.length) break;
          const last = due[due.length - 1] as RunRecord;
          after = { wakeAt: last.wakeAt as number, id: last.id };
          await this.wakeStored(due);
          // At most two batches wait for their commit: memory stays bounded however many are due.
          const written = this.committed();
          await previous;
          previous = written;
          if (due.length < WAKE_BATCH) break;
        }
      } finally {
        // The woken runs' rows say so (wakeAt cleared) before a pass reads from the start again.
        await previous;
      }
      if (this.closed) return;
      const next = await this.store.nextWakeAt(workflows);
      if (next !== null) this.expectStored(Math.max(next, this.clock.now() + MIN_SCAN_INTERVAL_MS));
    };
    pass()
      .catch((error) => {
        // The store is away (or closing): try again shortly rather than lose the wake-ups.
        if (!this.closed) {
          console.error('[braid] could not read the runs due to wake up; retrying in 1 s:', error);
          this.expectStored(this.clock.now() + 1000);
        }
      })
      .finally(() => {
        this.scanning = false;
      });
  }
}

/** The earliest time one of the run's steps waits for a retry (or its `delay`), or null. */
export function nextRetryOf(run: ActiveRun): number | null {
  let at: number | null = null;
  for (const step of run.steps.values()) {
    const s = step.rec;
    if (s.status === 'queued' && !step.inQueue && s.nextAttemptAt !== null && (at === null || s.nextAttemptAt < at)) {
      at = s.nextAttemptAt;
    }
  }
  return at;
}
