import type { Store } from '../store/store.js';
import { emptyBatch, isEmptyBatch, type WriteBatch } from '../store/types.js';

/**
 * Group commit. Transitions produced in the same tick go into one batch, committed in one
 * transaction on the next `setImmediate`; what depends on them (starting a step, resolving a
 * caller, firing callbacks) is queued with `afterCommit` and runs only once the batch is durable.
 * Commits are strictly sequential, so the store sees transitions in the order they happened.
 */
export class WriteQueue {
  private batch: WriteBatch = emptyBatch();
  private effects: Array<() => void> = [];
  private scheduled = false;
  private running: Promise<void> | undefined;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly store: Store,
    private readonly onCommitError: (error: unknown, batch: WriteBatch) => void,
  ) {}

  /** The batch the current tick writes into. */
  get pending(): WriteBatch {
    this.schedule();
    return this.batch;
  }

  /** Runs `fn` once everything written so far is committed. */
  afterCommit(fn: () => void): void {
    this.effects.push(fn);
    this.schedule();
  }

  /** Resolves once everything written so far is committed and its effects have run. */
  flushed(): Promise<void> {
    if (!this.scheduled && !this.running && isEmptyBatch(this.batch) && !this.effects.length) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.running = this.drain().finally(() => {
        this.running = undefined;
        if (!isEmptyBatch(this.batch) || this.effects.length) this.schedule();
        else for (const resolve of this.idleWaiters.splice(0)) resolve();
      });
    });
  }

  private async drain(): Promise<void> {
    while (!isEmptyBatch(this.batch) || this.effects.length) {
      const batch = this.batch;
      const effects = this.effects;
      this.batch = emptyBatch();
      this.effects = [];
      if (!isEmptyBatch(batch)) {
        try {
          await this.store.commit(batch);
        } catch (error) {
          this.onCommitError(error, batch);
          continue;
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
