import type { Coordination } from './coordination.js';
import type {
  CacheEntry,
  ChildLink,
  ChunkQuery,
  CompactionCounts,
  DebounceResult,
  DebounceTrigger,
  DueSchedules,
  EventRecord,
  ForkRecord,
  InboxEvent,
  InputResolution,
  KeyedRunCount,
  LimitKind,
  LimitSetting,
  PendingDebounce,
  PruneCounts,
  PruneSelection,
  RateLimitGrant,
  RateLimitRequest,
  RateLimitSetting,
  RateLimitState,
  RunFilter,
  RunPage,
  RunRecord,
  ScheduleRecord,
  ScheduleTickRecord,
  ScheduleWrite,
  StatusCounts,
  StepRecord,
  StepRef,
  StoredRunState,
  StreamChunk,
  WaitRecord,
  WriteBatch,
} from './types.js';

/**
 * The one interface the engine uses for persistence. Writes are batch-shaped: the engine hands
 * `commit` everything that happened in one tick and it lands in one transaction. Reads serve
 * start-up, recovery and the API; scheduling decisions are made from memory.
 */
export interface Store {
  /** Human-readable location, for messages ("sqlite:.braid/braid.db"). */
  readonly description: string;
  /** Connects and applies migrations. Idempotent. */
  open(): Promise<void>;
  /**
   * Optional: called by an executor before it runs and recovers runs, for stores that allow only
   * one executor at a time (SQLite). Throws StoreLockedError when another live executor has it.
   */
  lockForExecutor?(): Promise<void>;
  /** Releases what `lockForExecutor` took (the executor's `cleanup()` calls it). */
  unlockForExecutor?(): Promise<void>;
  close(): Promise<void>;
  /**
   * Scale-out stores (Postgres): leases, claims, semaphores and notifications shared by many
   * processes. Present only once the store is open. Single-process stores leave it undefined.
   */
  readonly coordination?: Coordination;
  /**
   * True for stores that compare deadlines and wake-up times with their own clock (PostgreSQL: the
   * database's, shared by every worker). An executor runs on such a store with the system clock
   * only: a virtual clock (ManualClock) would disagree with the database about which runs are due.
   */
  readonly usesDatabaseClock?: boolean;
  /**
   * Scale-out stores: from now on, this process commits as worker `id`, so writes to runs the
   * worker no longer owns are refused (`refusedRunIds`). `null` = not a worker.
   */
  setWorker?(id: string | null): void;
  /**
   * Writes the whole batch in one transaction, or nothing. Assigns `seq` to each event.
   * A new run whose idempotency key or (parent run, parent step, spawn key) already exists is
   * not inserted (the first one wins); `commit` returns the ids of runs it did not insert.
   * A run that had ended before the batch is never changed again (`staleRunIds`).
   *
   * The batch holds the engine's live records, not copies: a store must read (bind, copy or
   * serialise) them before its first `await`, because the engine goes on changing them once
   * `commit` yields. Copying 100k records per fan-out only to hand them over cost ~15% of W2.
   */
  commit(batch: WriteBatch): Promise<CommitResult>;

  /**
   * Whether a failed `commit` may land if tried again: the database was busy (another process
   * held its write lock), the disk was full, the connection dropped. The engine retries those
   * with backoff; any other failure is taken to be about the batch's data.
   */
  isTransientError?(error: unknown): boolean;

  getRun(id: string): Promise<RunRecord | undefined>;
  findRunByIdempotencyKey(key: string): Promise<RunRecord | undefined>;
  /**
   * Runs in `queued` or `running` state (not paused, not finished), oldest first. With `now`,
   * runs asleep until a later time (`wakeAt > now`) are left out: the wake-up path loads them.
   */
  listUnfinishedRuns(workflows?: readonly string[], now?: number): Promise<RunRecord[]>;
  /**
   * Unfinished runs of these workflows whose `wakeAt` has come (`<= now`), in (wakeAt, id) order;
   * with `after`, only those past it in that order (a keyset cursor: the engine passes the last
   * run of the batch before, so it reads the next batch while the previous one is still written).
   */
  listRunsToWake(now: number, limit: number, workflows: readonly string[], after?: WakeCursor): Promise<RunRecord[]>;
  /** The earliest `wakeAt` of the unfinished runs of these workflows, or null if none sleeps. */
  nextWakeAt(workflows: readonly string[]): Promise<number | null>;
  listRuns(filter: RunFilter): Promise<RunPage>;
  countRuns(filter: Omit<RunFilter, 'cursor' | 'limit' | 'order' | 'status'>): Promise<StatusCounts>;

  getSteps(runId: string): Promise<StepRecord[]>;
  /** Events of a run (or all runs when runId is undefined) with seq > afterSeq, in order. */
  listEvents(options: { runId?: string; afterSeq?: number; limit?: number }): Promise<EventRecord[]>;

  /** The waits of a run (every step), in creation order. */
  getWaits(runId: string): Promise<WaitRecord[]>;

  /** Inbox events, newest first, optionally of one name (for the API and the dashboard). */
  listInbox(options: { name?: string; limit?: number }): Promise<InboxEvent[]>;

  /** The children one step has spawned, for idempotent re-spawn on retry or recovery. */
  getChildLinks(parentRunId: string, parentStep: string): Promise<ChildLink[]>;

  /**
   * The steps and waits of many runs at once, by run id (a run with neither is absent): what
   * loading runs back into memory reads, in a few statements however many runs. Waking 20,000
   * sleepers one `getSteps` and `getWaits` each spent a quarter of the wake-up in those calls.
   */
  getRunStates(runIds: readonly string[]): Promise<Map<string, StoredRunState>>;
  /** `getChildLinks` of many steps at once: element i holds the children of `steps[i]`. */
  getChildLinksOfSteps(steps: readonly StepRef[]): Promise<ChildLink[][]>;

  /** A cache entry that has not expired at `now`. */
  getCache(key: string, now: number): Promise<CacheEntry | undefined>;

  /** The fork link of a run that `executor.fork` created (what it was forked from), if it is one. */
  getFork(runId: string): Promise<ForkRecord | undefined>;
  /** The runs forked from this one, oldest first (at most `limit`, default 100). */
  listForks(runId: string, limit?: number): Promise<ForkRecord[]>;
  /** Stream chunks of one step (see ChunkQuery), in seq order. */
  listChunks(query: ChunkQuery): Promise<StreamChunk[]>;
  /**
   * Deletes up to `selection.limit` finished run trees, each whole (its runs, and their steps,
   * events and waits), and up to as many cache entries expired at `now`, in one short transaction:
   * every tree is either wholly there or wholly gone. Never touches a run that is not finished,
   * nor a tree one of whose runs is unfinished. Scale-out stores let one process prune at a time.
   */
  pruneRuns(selection: PruneSelection, now: number): Promise<PruneCounts>;
  /** What pruning every tree that `selection` matches (no limit) would delete; changes nothing. */
  countPrunable(selection: Omit<PruneSelection, 'limit'>, now: number): Promise<PruneCounts>;
  /**
   * Bounds the event logs of unfinished runs: for up to `limit` runs with more than
   * `maxEventsPerRun` events, deletes their oldest superseded events (see COMPACTABLE_EVENT_TYPES)
   * until the log is back at the cap or nothing superseded is left.
   */
  compactEvents(maxEventsPerRun: number, limit: number): Promise<CompactionCounts>;
  /**
   * Optional: gives space freed by deletes back to the file system, a little at a time (SQLite's
   * incremental vacuum). Returns true when there is more to give back.
   */
  reclaimSpace?(): Promise<boolean>;

  /**
   * Writes a schedule's new state and its ticks in one transaction, with a compare-and-set on its
   * version (`expectedVersion`; null creates it). ScheduleChangedError when the version moved on
   * (another process wrote first), ScheduleExistsError when creating an id that exists; nothing is
   * written then. A tick that starts a run goes through `commit` instead (WriteBatch.schedules).
   */
  writeSchedule(write: ScheduleWrite): Promise<void>;
  getSchedule(id: string): Promise<ScheduleRecord | undefined>;
  /** Every schedule, by id. */
  listSchedules(): Promise<ScheduleRecord[]>;
  /** Deletes a schedule and its ticks (the runs it started stay). False when there was none. */
  deleteSchedule(id: string): Promise<boolean>;
  /** A schedule's ticks, newest scheduled time first (at most `limit`, default 100). */
  listScheduleTicks(scheduleId: string, limit?: number): Promise<ScheduleTickRecord[]>;
  /** The earliest `dueAt` of the schedules of these workflows (null: none): the one timer is armed for it. */
  nextScheduleDueAt(workflows: readonly string[]): Promise<number | null>;
  /**
   * Claims up to `limit` schedules of `workflows` (those this process can run) due at `now`
   * (`dueAt <= now`) that no other process holds (its
   * claim expired or is `owner`'s): each is leased to `owner` until `now + leaseMs`. Scale-out
   * stores skip rows another process is claiming (FOR UPDATE SKIP LOCKED). A claim bumps no version:
   * the writes that follow still compare-and-set, so a claim that expired under its holder is safe.
   * A store that `usesDatabaseClock` judges due times and leases by the database's clock instead
   * of `now`, and answers with the time it used (DueSchedules.now).
   */
  claimDueSchedules(
    now: number,
    owner: string,
    leaseMs: number,
    limit: number,
    workflows: readonly string[],
  ): Promise<DueSchedules>;
  /**
   * Stores that `usesDatabaseClock`: the database's clock now, in epoch ms (what its deadlines and
   * due times are compared with).
   */
  readDatabaseClock?(): Promise<number>;
  /**
   * Records a trigger of a debounced workflow in one transaction (see DebounceTrigger): joins the
   * key's pending run (its input replaced, its due time moved) or inserts a new one. Triggers of one
   * key are serialised, so two processes never create two pending runs for it.
   */
  debounce(trigger: DebounceTrigger): Promise<DebounceResult>;
  /** Debounced runs still pending (not started), soonest due first; of one workflow when given. */
  listDebounces(filter: { workflow?: string; limit?: number }): Promise<PendingDebounce[]>;

  /**
   * Rate limits (GCRA, see src/store/rateLimits.ts). Takes one start of a limit for a key per
   * request, in the order given (so waiters of one key are granted in arrival order), each with
   * one atomic compare-and-set of its (name, key) row, so the limit holds across every process
   * sharing the store. A stored setting for the name overrides the request's limit and period.
   * One call for all the starts a dispatch asks for: the engine's cost per limited start is then a
   * share of one round trip, not one each.
   */
  takeRateLimits(requests: readonly RateLimitRequest[]): Promise<RateLimitGrant[]>;
  /** Changes a limit at run time, for every process (until `resetRateLimit`). */
  setRateLimit(setting: RateLimitSetting): Promise<void>;
  /** Drops a stored setting: the definition's limit and period apply again. */
  resetRateLimit(name: string): Promise<void>;
  listRateLimitSettings(): Promise<RateLimitSetting[]>;
  /** Up to `limit` (name, key) states busy at `now` (their TAT is later), by name then key. */
  listBusyRateLimits(now: number, limit: number): Promise<RateLimitState[]>;

  /**
   * Concurrency limits changed at run time (a workflow's maxRuns, a pool's size): stored, so every
   * process sharing the store applies them. On PostgreSQL, setting one tells every worker at once.
   */
  setLimitSetting(setting: LimitSetting): Promise<void>;
  /** Drops a stored setting: the value in code applies again. */
  resetLimitSetting(kind: LimitKind, name: string): Promise<void>;
  listLimitSettings(): Promise<LimitSetting[]>;
  /**
   * Unfinished runs of these workflows per concurrency key, active and queued (due by `now`), by
   * workflow then key; at most `limit` keys.
   */
  countKeyedRuns(workflows: readonly string[], now: number, limit: number): Promise<KeyedRunCount[]>;
}

/** Where a read of the runs to wake goes on from: past this run in (wakeAt, id) order. */
export interface WakeCursor {
  wakeAt: number;
  id: string;
}

export interface CommitResult {
  /** Ids of new runs that were not inserted because their idempotency identity already existed. */
  duplicateRunIds: string[];
  /**
   * Scale-out stores: runs whose writes were refused because this process no longer owns them
   * (its lease expired and another worker took them over). Nothing of theirs in the batch landed.
   */
  refusedRunIds?: string[];
  /**
   * Waits the commit settled that the engine did not write as settled: pending event waits that
   * the inbox (or an event of this batch) resolved, waits resolved by an input of this batch, and
   * waits whose outcome was already stored (the engine's later write lost). Their stored state.
   */
  settledWaits?: WaitRecord[];
  /** Inputs of the batch that found no pending input of that name on their run (nothing changed). */
  unmatchedInputs?: InputResolution[];
  /** Events of the batch whose idempotency key was already recorded: not delivered again. */
  duplicateEvents?: InboxEvent[];
  /**
   * Runs the batch updated that had already ended in the store (succeeded, failed, cancelled or
   * timed out) before this batch: an ended run is final, so nothing of theirs in the batch landed
   * (not the update, nor their steps, events or new children). The caller's state for them is
   * stale (another executor ended them, say): it should drop it. Present only when not empty.
   */
  staleRunIds?: string[];
}
