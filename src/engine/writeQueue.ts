import type { CommitResult, Store } from '../store/store.js';
import type { CacheEntry, EventRecord, RunControl, RunRecord, StepRecord, WriteBatch } from '../store/types.js';

/**
 * Group commit. Transitions produced in the same tick go into one batch, committed in one
 * transaction; what depends on them (starting a step, resolving a caller, firing callbacks) is
 * queued with `afterCommit` and runs only once the batch is durable. Commits are sequential, so
 * the store sees transitions in the order they happened.
 *
 * Runs and steps are written by reference and read by the store when the batch commits, so a run that
 * is created, started and finished within one batch is one insert, and a step that starts and
 * succeeds within one batch is one upsert. That halves the rows of a one-step run (measured with
 * W1: 10 rows per run before, 6 after). Events are appended as they happen: they are the history.
 */
export class WriteQueue {
  private newRuns = new Set<RunRecord>();
  private changedRuns = new Set<RunRecord>();
  private steps = new Set<StepRecord>();
  private events: EventRecord[] = [];
  private cache: CacheEntry[] = [];
  private localRuns = new Set<string>();
  private controls: RunControl[] = [];
  private effects: Array<() => void> = [];
  private scheduled = false;
  private running: Promise<void> | undefined;
  private idleWaiters: Array<() => void> = [];
  private readonly committedListeners = new Set<(events: readonly EventRecord[]) => void>();

  constructor(
    private readonly store: Store,
    private readonly onCommitError: (error: unknown, batch: WriteBatch) => void,
    /** Called with what a scale-out store refused or skipped, before the batch's effects run. */
    private readonly onCommitResult: (result: CommitResult, batch: WriteBatch) => void = () => {},
  ) {}

  /** `local`: this process runs the new run itself (scale-out stores record it as the owner). */
  insertRun(rec: RunRecord, local = true): void {
    this.newRuns.add(rec);
    if (local) this.localRuns.add(rec.id);
    this.schedule();
  }

  /** Asks whichever process owns the run to cancel, pause or resume it (scale-out stores). */
  control(control: RunControl): void {
    this.controls.push(control);
    this.schedule();
  }

  updateRun(rec: RunRecord): void {
    if (!this.newRuns.has(rec)) this.changedRuns.add(rec);
    this.schedule();
  }

  writeStep(rec: StepRecord): void {
    this.steps.add(rec);
    this.schedule();
  }

  appendEvent(event: EventRecord): void {
    this.events.push(event);
    this.schedule();
  }

  putCache(entry: CacheEntry): void {
    this.cache.push(entry);
    this.schedule();
  }

  /** Hears every committed event (with its store-assigned `seq`), right after its commit. */
  onCommitted(listener: (events: readonly EventRecord[]) => void): () => void {
    this.committedListeners.add(listener);
    return () => this.committedListeners.delete(listener);
  }

  /** Runs `fn` once everything written so far is committed. */
  afterCommit(fn: () => void): void {
    this.effects.push(fn);
    this.schedule();
  }

  /** Resolves once everything written so far is committed and its effects have run. */
  flushed(): Promise<void> {
    if (!this.scheduled && !this.running && this.isEmpty() && !this.effects.length) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isEmpty(): boolean {
    return (
      !this.newRuns.size &&
      !this.changedRuns.size &&
      !this.steps.size &&
      !this.events.length &&
      !this.cache.length &&
      !this.controls.length
    );
  }

  /** Hands the pending writes over as a batch (live records: see Store.commit) and starts the next. */
  private take(): WriteBatch {
    const batch: WriteBatch = {
      newRuns: [...this.newRuns],
      runUpdates: [...this.changedRuns],
      steps: [...this.steps],
      events: this.events,
      cache: this.cache,
      localRuns: this.localRuns,
      controls: this.controls,
    };
    this.localRuns = new Set();
    this.controls = [];
    this.newRuns = new Set();
    this.changedRuns = new Set();
    this.steps = new Set();
    this.events = [];
    this.cache = [];
    return batch;
  }

  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.running = this.drain().finally(() => {
        this.running = undefined;
        if (!this.isEmpty() || this.effects.length) this.schedule();
        else for (const resolve of this.idleWaiters.splice(0)) resolve();
      });
    });
  }

  private async drain(): Promise<void> {
    while (!this.isEmpty() || this.effects.length) {
      const empty = this.isEmpty();
      const batch = empty ? undefined : this.take();
      const effects = this.effects;
      this.effects = [];
      if (batch) {
        let result: CommitResult;
        try {
          result = await this.store.commit(batch);
        } catch (error) {
          this.onCommitError(error, batch);
          continue;
        }
        if (result.refusedRunIds?.length || result.duplicateRunIds.length) this.onCommitResult(result, batch);
        if (batch.events.length) {
          for (const listener of this.committedListeners) {
            try {
              listener(batch.events);
            } catch (error) {
              console.error('[braid] an event listener threw:', error);
            }
          }
        }
      }
      for (const effect of effects) {
        try {
          effect();
        } catch (error) {
          // Effects are engine code; one failing must not stop the others from running.
          console.error('[braid] internal error after commit:', error);
        }
      }
    }
  }
}
