import path from 'node:path';
import type Database from 'better-sqlite3';
import { StoreNotOpenError } from '../../model/errors.js';
import { eventPageSize } from '../runPaging.js';
import { groupRunStates } from '../runStates.js';
import type { CommitResult, Store, WakeCursor } from '../store.js';
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
} from '../types.js';
import { ExecutorLock } from './executorLock.js';
import { migrate } from './migrate.js';
import { openDatabaseFile, toOpenError, withTemporariesOnDisk } from './openDatabaseFile.js';
import { prepareClaimDueSchedules } from './queries/claimDueSchedules.js';
import { prepareCompactEvents } from './queries/compactEvents.js';
import { prepareCountRuns } from './queries/countRuns.js';
import { prepareDebounce } from './queries/debounce.js';
import { prepareDeleteSchedule } from './queries/deleteSchedule.js';
import { prepareFindRunByIdempotencyKey } from './queries/findRunByIdempotencyKey.js';
import { prepareGetCache } from './queries/getCache.js';
import { prepareGetChildLinks, prepareGetChildLinksOfSteps } from './queries/getChildLinks.js';
import { prepareGetFork } from './queries/getFork.js';
import { prepareGetRun } from './queries/getRun.js';
import { prepareGetSteps, prepareGetStepsOfRuns } from './queries/getSteps.js';
import { prepareGetWaits, prepareGetWaitsOfRuns } from './queries/getWaits.js';
import { prepareInsertChunks } from './queries/insertChunks.js';
import { prepareInsertEvents } from './queries/insertEvents.js';
import { prepareInsertForks } from './queries/insertForks.js';
import { prepareInsertInbox } from './queries/insertInbox.js';
import { prepareInsertRuns } from './queries/insertRuns.js';
import { prepareCountKeyedRuns, prepareLimitSettings } from './queries/limitSettings.js';
import { prepareListChunks } from './queries/listChunks.js';
import { prepareListDebounces } from './queries/listDebounces.js';
import { prepareListEvents } from './queries/listEvents.js';
import { prepareListForks } from './queries/listForks.js';
import { prepareListInbox } from './queries/listInbox.js';
import { prepareListRateLimits } from './queries/listRateLimits.js';
import { prepareListRuns } from './queries/listRuns.js';
import { prepareListRunsToWake } from './queries/listRunsToWake.js';
import { prepareListUnfinishedRuns } from './queries/listUnfinishedRuns.js';
import { prepareNextWakeAt } from './queries/nextWakeAt.js';
import { prepareCountPrunable, preparePruneRuns } from './queries/pruneRuns.js';
import {
  prepareGetSchedule,
  prepareListSchedules,
  prepareListScheduleTicks,
  prepareNextScheduleDueAt,
} from './queries/readSchedules.js';
import { prepareSetRateLimit } from './queries/setRateLimit.js';
import { prepareSettleWaits } from './queries/settleWaits.js';
import { prepareTakeRateLimits } from './queries/takeRateLimits.js';
import { prepareUpdateRuns } from './queries/updateRuns.js';
import { prepareUpsertCache } from './queries/upsertCache.js';
import { prepareUpsertSteps } from './queries/upsertSteps.js';
import { prepareUpsertWaits } from './queries/upsertWaits.js';
import { prepareWriteSchedules } from './queries/writeSchedule.js';

export interface SqliteStoreOptions {
  /** Database file; its directory is created if missing. */
  path: string;
  /**
   * 'normal' (default): in WAL mode a commit survives the process crashing, which is what Braid
   * promises; a power loss or OS crash may lose the last commits (never corrupt the file).
   * 'full': also survives power loss, at the cost of an fsync per commit.
   */
  synchronous?: 'normal' | 'full';
}

/**
 * How long a statement waits for another process's write lock before failing with SQLITE_BUSY.
 * better-sqlite3 waits synchronously, so this blocks the event loop: kept short, and a commit that
 * meets a busy database is retried by the engine with backoff instead (isTransientError).
 */
const BUSY_TIMEOUT_MS = 50;

/** SQLite result codes that pass: another process holds the lock, the disk is full, an I/O hiccup. */
const TRANSIENT_CODES = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|PROTOCOL|CANTOPEN)/;
/** 10,000 pages of 4 KiB: about 40 MB of WAL between automatic checkpoints. */
const WAL_AUTOCHECKPOINT_PAGES = 10_000;
const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;
/** PRAGMA auto_vacuum's value for INCREMENTAL. */
const INCREMENTAL = 2;
const RECLAIM_PAGES = 2000;

/**
 * The default Store: one SQLite file through better-sqlite3. Its calls are synchronous, which
 * suits a single engine process: a commit is one transaction of prepared statements with no
 * round trips. Every statement is prepared once, at open().
 */
export class SqliteStore implements Store {
  readonly description: string;
  private readonly path: string;
  private readonly synchronous: 'normal' | 'full';
  private opened: Opened | undefined;
  private readonly lock: ExecutorLock;

  constructor(options: SqliteStoreOptions) {
    this.path = options.path;
    this.lock = new ExecutorLock(path.resolve(options.path), options.path);
    this.synchronous = options.synchronous ?? 'normal';
    this.description = `sqlite:${options.path}`;
  }

  async open(): Promise<void> {
    if (this.opened) return;
    const { db } = openDatabaseFile(this.path, BUSY_TIMEOUT_MS);
    try {
      db.pragma(`synchronous = ${this.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      // Checkpoint every ~40 MB of WAL instead of SQLite's 4 MB: a page the engine rewrites in
      // many commits (index pages, busy runs) is copied back to the database once per checkpoint,
      // not once per commit. Large-batch commits measured 15-20% faster. The WAL file is cut back
      // to 64 MB after each checkpoint so it does not keep its high-water size on disk.
      db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
      db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
      migrate(db, this.description);
      this.opened = prepare(db);
    } catch (error) {
      db.close();
      throw toOpenError(this.path, error);
    }
  }

  async close(): Promise<void> {
    const opened = this.opened;
    this.opened = undefined;
    opened?.db.close();
    this.lock.release();
  }

  /** Called by an executor that will run (and recover) this file's runs; see ExecutorLock. */
  async lockForExecutor(): Promise<void> {
    this.lock.acquire();
  }

  async unlockForExecutor(): Promise<void> {
    this.lock.release();
  }

  async commit(batch: WriteBatch): Promise<CommitResult> {
    const { commit } = this.use();
    const { duplicateRunIds, staleRunIds, seqs, settledWaits, duplicateEvents, unmatchedInputs, chunkSeqs } =
      commit(batch);
    // Only once the transaction has committed: a failed batch leaves the caller's events untouched.
    for (let i = 0; i < seqs.length; i++) {
      const seq = seqs[i];
      if (seq !== undefined) batch.events[i]!.seq = seq;
    }
    if (chunkSeqs) {
      for (let i = 0; i < chunkSeqs.length; i++) {
        const seq = chunkSeqs[i];
        if (seq !== undefined) batch.chunks![i]!.seq = seq;
      }
    }
    const result: CommitResult = { duplicateRunIds };
    if (staleRunIds.length) result.staleRunIds = staleRunIds;
    if (settledWaits.length) result.settledWaits = settledWaits;
    if (duplicateEvents?.length) result.duplicateEvents = duplicateEvents;
    if (unmatchedInputs?.length) result.unmatchedInputs = unmatchedInputs;
    return result;
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    return this.use().getRun(id);
  }

  async findRunByIdempotencyKey(key: string): Promise<RunRecord | undefined> {
    return this.use().findRunByIdempotencyKey(key);
  }

  isTransientError(error: unknown): boolean {
    const code = (error as { code?: unknown } | null)?.code;
    return typeof code === 'string' && TRANSIENT_CODES.test(code);
  }

  async listUnfinishedRuns(workflows?: readonly string[], now?: number): Promise<RunRecord[]> {
    return this.use().listUnfinishedRuns(workflows, now);
  }

  async listRunsToWake(
    now: number,
    limit: number,
    workflows: readonly string[],
    after?: WakeCursor,
  ): Promise<RunRecord[]> {
    return this.use().listRunsToWake(now, limit, workflows, after);
  }

  async nextWakeAt(workflows: readonly string[]): Promise<number | null> {
    return this.use().nextWakeAt(workflows);
  }

  async listRuns(filter: RunFilter): Promise<RunPage> {
    return this.use().listRuns(filter);
  }

  async countRuns(filter: Omit<RunFilter, 'cursor' | 'limit' | 'order' | 'status'>): Promise<StatusCounts> {
    return this.use().countRuns(filter);
  }

  async getSteps(runId: string): Promise<StepRecord[]> {
    return this.use().getSteps(runId);
  }

  async listEvents(options: { runId?: string; afterSeq?: number; limit?: number }): Promise<EventRecord[]> {
    return this.use().listEvents(options.runId, options.afterSeq ?? 0, eventPageSize(options.limit));
  }

  async getChildLinks(parentRunId: string, parentStep: string): Promise<ChildLink[]> {
    return this.use().getChildLinks(parentRunId, parentStep);
  }

  async getWaits(runId: string): Promise<WaitRecord[]> {
    return this.use().getWaits(runId);
  }

  async getRunStates(runIds: readonly string[]): Promise<Map<string, StoredRunState>> {
    const opened = this.use();
    return groupRunStates(opened.getStepsOfRuns(runIds), opened.getWaitsOfRuns(runIds));
  }

  async getChildLinksOfSteps(steps: readonly StepRef[]): Promise<ChildLink[][]> {
    return this.use().getChildLinksOfSteps(steps);
  }

  async listInbox(options: { name?: string; limit?: number }): Promise<InboxEvent[]> {
    return this.use().listInbox(options.name, Math.min(Math.max(options.limit ?? 50, 1), 1000));
  }

  async getCache(key: string, now: number): Promise<CacheEntry | undefined> {
    return this.use().getCache(key, now);
  }

  async writeSchedule(write: ScheduleWrite): Promise<void> {
    this.use().writeSchedule.immediate(write);
  }

  async getSchedule(id: string): Promise<ScheduleRecord | undefined> {
    return this.use().getSchedule(id);
  }

  async listSchedules(): Promise<ScheduleRecord[]> {
    return this.use().listSchedules();
  }

  async deleteSchedule(id: string): Promise<boolean> {
    return this.use().deleteSchedule(id);
  }

  async listScheduleTicks(scheduleId: string, limit = 100): Promise<ScheduleTickRecord[]> {
    return this.use().listScheduleTicks(scheduleId, Math.min(Math.max(limit, 1), 1000));
  }

  async nextScheduleDueAt(workflows: readonly string[]): Promise<number | null> {
    return this.use().nextScheduleDueAt(workflows);
  }

  async claimDueSchedules(
    now: number,
    owner: string,
    leaseMs: number,
    limit: number,
    workflows: readonly string[],
  ): Promise<DueSchedules> {
    return { schedules: this.use().claimDueSchedules(now, owner, leaseMs, limit, workflows), now };
  }

  async takeRateLimits(requests: readonly RateLimitRequest[]): Promise<RateLimitGrant[]> {
    return this.use().takeRateLimits(requests);
  }

  async setRateLimit(setting: RateLimitSetting): Promise<void> {
    this.use().setRateLimit.set(setting);
  }

  async resetRateLimit(name: string): Promise<void> {
    this.use().setRateLimit.reset(name);
  }

  async listRateLimitSettings(): Promise<RateLimitSetting[]> {
    return this.use().listRateLimits.settings();
  }

  async listBusyRateLimits(now: number, limit: number): Promise<RateLimitState[]> {
    return this.use().listRateLimits.busy(now, limit);
  }

  async setLimitSetting(setting: LimitSetting): Promise<void> {
    this.use().limitSettings.set(setting);
  }

  async resetLimitSetting(kind: LimitKind, name: string): Promise<void> {
    this.use().limitSettings.reset(kind, name);
  }

  async listLimitSettings(): Promise<LimitSetting[]> {
    return this.use().limitSettings.list();
  }

  async countKeyedRuns(workflows: readonly string[], now: number, limit: number): Promise<KeyedRunCount[]> {
    return this.use().countKeyedRuns(workflows, now, limit);
  }

  async getFork(runId: string): Promise<ForkRecord | undefined> {
    return this.use().getFork(runId);
  }

  async debounce(trigger: DebounceTrigger): Promise<DebounceResult> {
    return this.use().debounce(trigger);
  }

  async listDebounces(filter: { workflow?: string; limit?: number }): Promise<PendingDebounce[]> {
    return this.use().listDebounces(filter);
  }

  async listForks(runId: string, limit = 100): Promise<ForkRecord[]> {
    return this.use().listForks(runId, Math.min(Math.max(limit, 1), 1000));
  }

  async listChunks(query: ChunkQuery): Promise<StreamChunk[]> {
    return this.use().listChunks(query);
  }

  async pruneRuns(selection: PruneSelection, now: number): Promise<PruneCounts> {
    return this.use().pruneRuns(selection, now);
  }

  async countPrunable(selection: Omit<PruneSelection, 'limit'>, now: number): Promise<PruneCounts> {
    return this.use().countPrunable(selection, now);
  }

  async compactEvents(maxEventsPerRun: number, limit: number): Promise<CompactionCounts> {
    return this.use().compactEvents(maxEventsPerRun, limit);
  }

  /**
   * Gives up to RECLAIM_PAGES free pages back to the file system (8 MB at 4 KiB pages: a few ms of
   * holding the write lock), when the file is in incremental auto-vacuum mode. A file created before
   * Braid set that mode keeps its free pages for new rows (it does not grow) until one VACUUM
   * (`braid prune --vacuum`) converts it.
   */
  async reclaimSpace(): Promise<boolean> {
    const { db } = this.use();
    if (db.pragma('auto_vacuum', { simple: true }) !== INCREMENTAL) return false;
    db.pragma(`incremental_vacuum(${RECLAIM_PAGES})`);
    return (db.pragma('freelist_count', { simple: true }) as number) > 0;
  }

  /**
   * Rewrites the whole file once (VACUUM) in incremental auto-vacuum mode, so that later prunes can
   * give space back with `reclaimSpace`. Holds the write lock for as long as the copy takes (seconds
   * per GB): for maintenance windows, not for the background. The copy is built in a temporary
   * file, not in memory.
   */
  async vacuum(): Promise<void> {
    const { db } = this.use();
    db.pragma('auto_vacuum = INCREMENTAL');
    withTemporariesOnDisk(db, () => db.exec('VACUUM'));
  }

  private use(): Opened {
    if (!this.opened) {
      throw new StoreNotOpenError(this.description);
    }
    return this.opened;
  }
}

type Opened = ReturnType<typeof prepare>;

function prepare(db: Database.Database) {
  const insertRuns = prepareInsertRuns(db);
  const updateRuns = prepareUpdateRuns(db);
  const upsertSteps = prepareUpsertSteps(db);
  const insertEvents = prepareInsertEvents(db);
  const upsertCache = prepareUpsertCache(db);
  const upsertWaits = prepareUpsertWaits(db);
  const insertInbox = prepareInsertInbox(db);
  const settleWaits = prepareSettleWaits(db);
  const insertForks = prepareInsertForks(db);
  const insertChunks = prepareInsertChunks(db);
  const writeSchedules = prepareWriteSchedules(db);
  /** Chunks of runs not stale; the seq of each chunk of the batch, by index (undefined: dropped). */
  const writeChunks = (batch: WriteBatch, stale: ReadonlySet<string>) => {
    const chunks = batch.chunks;
    if (!chunks?.length) return {};
    if (!stale.size) return { chunkSeqs: insertChunks(chunks) as (number | undefined)[] };
    const kept = chunks.filter((c) => !stale.has(c.runId));
    const keptSeqs = insertChunks(kept);
    const seqByChunk = new Map(kept.map((c, i) => [c, keptSeqs[i]]));
    return { chunkSeqs: chunks.map((c) => seqByChunk.get(c)) };
  };
  /**
   * Waits, events and inputs, after the runs and steps: the inbox first, so that a wait registered
   * in this batch sees an event of this batch; each settles waits with a compare-and-set.
   */
  const writeWaits = (batch: WriteBatch, stale: ReadonlySet<string>) => {
    const settledWaits: WaitRecord[] = [];
    if (!batch.waits?.length && !batch.inbox?.length && !batch.inputs?.length) return { settledWaits };
    const at = batch.at ?? Date.now(); // the engine's clock; the system's for a batch without one
    const fresh = batch.inbox?.length ? batch.inbox : [];
    const duplicateEvents = fresh.length ? insertInbox(fresh) : [];
    const waits = stale.size ? (batch.waits ?? []).filter((w) => !stale.has(w.runId)) : (batch.waits ?? []);
    settledWaits.push(...upsertWaits(waits));
    settleWaits.registered(waits, at, settledWaits);
    if (fresh.length)
      settleWaits.delivered(
        duplicateEvents.length ? fresh.filter((e) => !duplicateEvents.includes(e)) : fresh,
        at,
        settledWaits,
      );
    const unmatchedInputs = batch.inputs?.length ? settleWaits.inputs(batch.inputs, settledWaits) : [];
    return { settledWaits, duplicateEvents, unmatchedInputs };
  };
  // New runs before updates, so a batch may create a run and move it on in the same tick.
  // `blocked`: runs found stale by an earlier try of this batch, whose new children stay out.
  const commit = db.transaction((batch: WriteBatch, blocked: ReadonlySet<string>) => {
    // First: a schedule write that no longer applies throws, and the whole batch rolls back.
    if (batch.schedules?.length) writeSchedules(batch.schedules);
    const newRuns = blocked.size ? batch.newRuns.filter((r) => !isIn(blocked, r.parentRunId)) : batch.newRuns;
    const duplicateRunIds = insertRuns(newRuns);
    // A fork's link goes in with its run (its reused steps are in `steps`): whole or not at all.
    if (batch.forks?.length) insertForks(batch.forks, duplicateRunIds);
    const stale = updateRuns(batch.runUpdates);
    if (!stale.size) {
      upsertSteps(batch.steps);
      const seqs: (number | undefined)[] = insertEvents(batch.events);
      upsertCache(batch.cache);
      return { duplicateRunIds, staleRunIds: [], seqs, ...writeWaits(batch, stale), ...writeChunks(batch, stale) };
    }
    // Rare (two executors on one file, or a late write): the children are already in, so roll the
    // batch back and write it again without them, rather than pay for the check on every commit.
    if (newRuns.some((r) => isIn(stale, r.parentRunId))) throw new StaleParents(stale);
    upsertSteps(batch.steps.filter((s) => !stale.has(s.runId)));
    const kept = batch.events.filter((e) => !stale.has(e.runId));
    const keptSeqs = insertEvents(kept);
    const seqByEvent = new Map(kept.map((e, i) => [e, keptSeqs[i]]));
    const seqs = batch.events.map((e) => seqByEvent.get(e));
    upsertCache(batch.cache);
    return {
      duplicateRunIds,
      staleRunIds: [...stale],
      seqs,
      ...writeWaits(batch, stale),
      ...writeChunks(batch, stale),
    };
  });
  return {
    db,
    // IMMEDIATE takes the write lock at BEGIN: a deferred transaction that later needs to upgrade
    // can fail with SQLITE_BUSY at once instead of waiting out the busy timeout.
    commit: (batch: WriteBatch) => {
      try {
        return commit.immediate(batch, NONE);
      } catch (error) {
        if (!(error instanceof StaleParents)) throw error;
        return commit.immediate(batch, error.runIds);
      }
    },
    getRun: prepareGetRun(db),
    findRunByIdempotencyKey: prepareFindRunByIdempotencyKey(db),
    listUnfinishedRuns: prepareListUnfinishedRuns(db),
    listRunsToWake: prepareListRunsToWake(db),
    nextWakeAt: prepareNextWakeAt(db),
    listRuns: prepareListRuns(db),
    countRuns: prepareCountRuns(db),
    getSteps: prepareGetSteps(db),
    listEvents: prepareListEvents(db),
    getChildLinks: prepareGetChildLinks(db),
    getChildLinksOfSteps: prepareGetChildLinksOfSteps(db),
    getStepsOfRuns: prepareGetStepsOfRuns(db),
    getWaitsOfRuns: prepareGetWaitsOfRuns(db),
    getCache: prepareGetCache(db),
    getWaits: prepareGetWaits(db),
    listInbox: prepareListInbox(db),
    getFork: prepareGetFork(db),
    writeSchedule: db.transaction((write: ScheduleWrite) => writeSchedules([write])),
    getSchedule: prepareGetSchedule(db),
    listSchedules: prepareListSchedules(db),
    deleteSchedule: prepareDeleteSchedule(db),
    listScheduleTicks: prepareListScheduleTicks(db),
    nextScheduleDueAt: prepareNextScheduleDueAt(db),
    claimDueSchedules: prepareClaimDueSchedules(db),
    listForks: prepareListForks(db),
    listChunks: prepareListChunks(db),
    pruneRuns: preparePruneRuns(db),
    countPrunable: prepareCountPrunable(db),
    compactEvents: prepareCompactEvents(db),
    debounce: prepareDebounce(db, insertRuns, insertEvents),
    listDebounces: prepareListDebounces(db),
    takeRateLimits: prepareTakeRateLimits(db),
    setRateLimit: prepareSetRateLimit(db),
    listRateLimits: prepareListRateLimits(db),
    limitSettings: prepareLimitSettings(db),
    countKeyedRuns: prepareCountKeyedRuns(db),
  };
}

const NONE: ReadonlySet<string> = new Set();

const isIn = (ids: ReadonlySet<string>, id: string | null) => id !== null && ids.has(id);

/** Rolls a commit back to write it again without the new children of these ended runs. */
class StaleParents extends Error {
  constructor(readonly runIds: ReadonlySet<string>) {
    super('stale parents');
  }
}

/** SQLite's errors about the file itself, as errors that name it and say what to do. */
