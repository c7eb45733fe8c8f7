import { StepEndedError } from '../model/errors.js';
import type { CommitResult, Store } from '../store/store.js';
import type {
  CacheEntry,
  EventRecord,
  ForkRecord,
  InboxEvent,
  InputResolution,
  RunControl,
  RunRecord,
  ScheduleWrite,
  StepRecord,
  StreamChunk,
  WaitRecord,
  WriteBatch,
} from '../store/types.js';
import type { Clock } from './clock.js';
import { mergeBatch } from './mergeBatch.js';
import { splitBatch } from './splitBatch.js';

/** What the queue does when a commit fails. */
export interface CommitPolicy {
  /** Whether a failed commit may land if tried again: the store was busy, the disk full, the link down. */
  isTransient(error: unknown): boolean;
  /** How long to retry a transient failure before giving the batch up (Infinity: until it lands). */
  giveUpAfterMs: number;
  /**
   * The group a run's writes belong to (its tree of runs). A batch the store refuses for its data
   * is split into groups committed one by one, so only the runs whose data is at fault fail.
   */
  groupOf(runId: string): string;
}

export interface CommitHandlers {
  /** A (part of a) batch that could not be written: memory is ahead of the store for its runs. */
  failed(error: unknown, batch: WriteBatch): void;
  /** What a scale-out store refused or skipped (called before the batch's effects run). */
  result(result: CommitResult, batch: WriteBatch): void;
}

const NO_RUNS: ReadonlySet<string> = new Set();

/**
 * The set's records as a list for the batch, and the set emptied for the next one: kept, not made
 * anew (a W4 run is two commits, and a new Set per list per commit was ~1 KB of its ~20 KB).
 */
function listOf<T>(set: Set<T>): T[] {
  if (!set.size) return [];
  const list = [...set];
  set.clear();
  return list;
}

const RETRY_FIRST_MS = 10;
const RETRY_MAX_MS = 2_000;

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
  private readonly newRuns = new Set<RunRecord>();
  private readonly changedRuns = new Set<RunRecord>();
  private readonly steps = new Set<StepRecord>();
  private events: EventRecord[] = [];
  private cache: CacheEntry[] = [];
  private localRuns = new Set<string>();
  private controls: RunControl[] = [];
  private readonly waits = new Set<WaitRecord>();
  private inbox: InboxEvent[] = [];
  private inputs: InputResolution[] = [];
  private forks: ForkRecord[] = [];
  private chunks: StreamChunk[] = [];
  private schedules: ScheduleWrite[] = [];
  /** What each emitted chunk's `emit` promise waits on: its commit. */
  private readonly chunkWaiters = new Map<StreamChunk, { resolve: () => void; reject: (error: unknown) => void }>();
  private readonly chunkListeners = new Set<(chunks: readonly StreamChunk[]) => void>();
  private effects: Array<() => void> = [];
  /** Effects of writes a retried commit took in (see commitWithRetries): they run after it. */
  private absorbedEffects: Array<() => void> = [];
  private scheduled = false;
  private running: Promise<void> | undefined;
  private idleWaiters: Array<() => void> = [];
  private readonly committedListeners = new Set<(events: readonly EventRecord[]) => void>();

  private abandoned = false;

  constructor(
    private readonly store: Store,
    private readonly handlers: CommitHandlers,
    private readonly policy: CommitPolicy,
    private readonly clock: Clock,
  ) {}

  /** On close: a batch being retried is given up after its current try (its runs resume on the next start). */
  abandonRetries(): void {
    this.abandoned = true;
  }

  /** A wait registered or settled (by reference: several changes in one tick are one write). */
  writeWait(rec: WaitRecord): void {
    this.waits.add(rec);
    this.schedule();
  }

  /** An event for the inbox, matched against pending waits in the commit. */
  sendEvent(event: InboxEvent): void {
    this.inbox.push(event);
    this.schedule();
  }

  /** A value for a pending input, resolved with a compare-and-set in the commit. */
  provideInput(input: InputResolution): void {
    this.inputs.push(input);
    this.schedule();
  }

  /** `local`: this process runs the new run itself (scale-out stores record it as the owner). */
  insertRun(rec: RunRecord, local = true): void {
    this.newRuns.add(rec);
    if (local) this.localRuns.add(rec.id);
    this.schedule();
  }

  /** A schedule's tick, committed with the run it starts (that run is in this batch: see RunCreation). */
  writeSchedule(write: ScheduleWrite): void {
    this.schedules.push(write);
    this.schedule();
  }

  /** A forked run's link, committed with the run it names (see writeForkSeed). */
  insertFork(rec: ForkRecord): void {
    this.forks.push(rec);
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

  /**
   * A stream chunk, appended in the next batch. Resolves once it is committed; rejects if its
   * batch could not be written, or its run's writes were refused (the attempt is over).
   */
  appendChunk(chunk: StreamChunk): Promise<void> {
    this.chunks.push(chunk);
    this.schedule();
    const done = new Promise<void>((resolve, reject) => this.chunkWaiters.set(chunk, { resolve, reject }));
    // A step may emit without awaiting (a stream of tokens): its failure must not be an unhandled rejection.
    done.catch(() => {});
    return done;
  }

  /** Hears the stream chunks of every commit that wrote some (with their `seq`), right after it. */
  onChunksCommitted(listener: (chunks: readonly StreamChunk[]) => void): () => void {
    this.chunkListeners.add(listener);
    return () => this.chunkListeners.delete(listener);
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
      !this.controls.length &&
      !this.waits.size &&
      !this.inbox.length &&
      !this.inputs.length &&
      !this.forks.length &&
      !this.chunks.length &&
      !this.schedules.length
    );
  }

  /** Hands the pending writes over as a batch (live records: see Store.commit) and starts the next. */
  private take(): WriteBatch {
    const batch: WriteBatch = {
      newRuns: listOf(this.newRuns),
      runUpdates: listOf(this.changedRuns),
      steps: listOf(this.steps),
      events: this.events,
      cache: this.cache,
      // Handed over (the store may read it after this tick), so a new set takes its place; none is shared.
      localRuns: this.localRuns.size ? this.localRuns : NO_RUNS,
      controls: this.controls,
      at: this.clock.now(),
    };
    if (this.waits.size) batch.waits = listOf(this.waits);
    if (this.inbox.length) batch.inbox = this.inbox;
    if (this.inputs.length) batch.inputs = this.inputs;
    if (this.forks.length) {
      batch.forks = this.forks;
      this.forks = [];
    }
    if (this.chunks.length) {
      batch.chunks = this.chunks;
      this.chunks = [];
    }
    if (this.schedules.length) {
      batch.schedules = this.schedules;
      this.schedules = [];
    }
    if (this.localRuns.size) this.localRuns = new Set();
    this.controls = [];
    this.events = [];
    this.cache = [];
    this.inbox = [];
    this.inputs = [];
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
        // The common case is one await, the store's: a failed commit takes the slow path.
        try {
          this.committed(batch, await this.store.commit(batch));
        } catch (error) {
          await this.commitAfterFailure(batch, error);
        }
      }
      effects.push(...this.absorbedEffects.splice(0));
      // Effects run whatever happened to the batch: those of runs whose writes failed are fenced
      // (their runs were dropped), and every other run of the batch goes on.
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

  /**
   * A batch whose commit failed with `error`: tried again while the failure is transient; on a
   * data error, group by group, so one bad run does not fail the others.
   */
  private async commitAfterFailure(batch: WriteBatch, firstError: unknown): Promise<void> {
    let error = firstError;
    if (this.policy.isTransient(error)) {
      try {
        this.committed(batch, await this.commitWithRetries(batch, true, { error }));
        return;
      } catch (e) {
        error = e;
      }
    }
    if (this.policy.isTransient(error)) {
      this.failed(error, batch);
      return;
    }
    const groups = splitBatch(batch, (id) => this.policy.groupOf(id));
    if (groups.length < 2) {
      this.failed(error, batch);
      return;
    }
    for (const group of groups) {
      try {
        this.committed(group, await this.commitWithRetries(group));
      } catch (groupError) {
        this.failed(groupError, group);
      }
    }
  }

  /**
   * Tries a commit again, with backoff, while it fails for a reason that passes (SQLITE_BUSY from
   * another process, a full disk, a lost connection). The event loop is free meanwhile, and later
   * writes wait (the whole batch's retries take them in): the store sees transitions in order.
   * `firstTry`: the error of a try the caller already made, if it made one.
   */
  private async commitWithRetries(
    batch: WriteBatch,
    absorbPending = false,
    firstTry?: { error: unknown },
  ): Promise<CommitResult> {
    const started = this.clock.now();
    let delayMs = RETRY_FIRST_MS;
    let reported = false;
    let failure = firstTry;
    for (;;) {
      if (failure) {
        const { error } = failure;
        const elapsed = this.clock.now() - started;
        if (!this.policy.isTransient(error) || this.abandoned || elapsed >= this.policy.giveUpAfterMs) throw error;
        if (!reported && elapsed >= 1_000) {
          reported = true;
          console.error(`[braid] writing to ${this.store.description} keeps failing; retrying until it lands:`, error);
        }
        // On the engine's clock, so a virtual clock decides when a failing commit is tried again.
        await new Promise<void>((resolve) => this.clock.setTimer(resolve, delayMs));
        delayMs = Math.min(delayMs * 2, RETRY_MAX_MS);
        if (absorbPending) this.absorbPending(batch);
      }
      try {
        return await this.store.commit(batch);
      } catch (error) {
        failure = { error };
      }
    }
  }

  /**
   * A batch holds live records, and they went on changing while its commit waited to be tried
   * again: a step it wrote as running may have succeeded since, with its `step_succeeded` event in
   * the writes pending behind it. Retried alone, the batch would store that success without its
   * event (found by the simulation, seed 7), and a crash right after would leave it so. The retry
   * takes the pending writes (and their effects) in, so records and events land together, in order.
   */
  private absorbPending(batch: WriteBatch): void {
    this.absorbedEffects.push(...this.effects.splice(0));
    if (this.isEmpty()) return;
    mergeBatch(batch, this.take());
  }

  private failed(error: unknown, batch: WriteBatch): void {
    for (const chunk of batch.chunks ?? []) {
      this.chunkWaiters.get(chunk)?.reject(error);
      this.chunkWaiters.delete(chunk);
    }
    this.handlers.failed(error, batch);
  }

  /** Resolves the emits of the batch's chunks; those the store dropped (a refused run's) reject. */
  private chunksCommitted(chunks: readonly StreamChunk[]): void {
    const landed: StreamChunk[] = [];
    for (const chunk of chunks) {
      const waiter = this.chunkWaiters.get(chunk);
      this.chunkWaiters.delete(chunk);
      if (chunk.seq !== undefined) {
        landed.push(chunk);
        waiter?.resolve();
      } else {
        waiter?.reject(new StepEndedError(chunk.runId, chunk.step, chunk.attempt, 'emit'));
      }
    }
    if (!landed.length) return;
    for (const listener of this.chunkListeners) {
      try {
        listener(landed);
      } catch (error) {
        console.error('[braid] a stream listener threw:', error);
      }
    }
  }

  private committed(batch: WriteBatch, result: CommitResult): void {
    if (
      result.refusedRunIds?.length ||
      result.duplicateRunIds.length ||
      result.staleRunIds?.length ||
      result.settledWaits?.length ||
      result.unmatchedInputs?.length ||
      result.duplicateEvents?.length
    ) {
      this.handlers.result(result, batch);
    }
    if (batch.chunks?.length) this.chunksCommitted(batch.chunks);
    if (!batch.events.length) return;
    for (const listener of this.committedListeners) {
      try {
        listener(batch.events);
      } catch (error) {
        console.error('[braid] an event listener threw:', error);
      }
    }
  }
}
