import type pg from 'pg';
import { ScheduleChangedError, StoreNotOpenError } from '../../model/errors.js';
import type { Coordination } from '../coordination.js';
import { eventPageSize } from '../runPaging.js';
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
import { redactConnectionString } from './connectionString.js';
import { connectPool } from './connectPool.js';
import { PostgresCoordination } from './coordination.js';
import { checkSchemaVersion, migrate } from './migrate.js';
import { claimDueSchedules } from './queries/claimDueSchedules.js';
import { commitBatch } from './queries/commitBatch.js';
import { compactEvents } from './queries/compactEvents.js';
import { countRuns } from './queries/countRuns.js';
import { debounce } from './queries/debounce.js';
import { findRunByIdempotencyKey } from './queries/findRunByIdempotencyKey.js';
import { getCache } from './queries/getCache.js';
import { getChildLinks, getChildLinksOfSteps } from './queries/getChildLinks.js';
import { getFork } from './queries/getFork.js';
import { getRun } from './queries/getRun.js';
import { getRunStates } from './queries/getRunStates.js';
import { getSteps } from './queries/getSteps.js';
import { getWaits } from './queries/getWaits.js';
import { countKeyedRuns, listLimitSettings, resetLimitSetting, setLimitSetting } from './queries/limitSettings.js';
import { listChunks } from './queries/listChunks.js';
import { listDebounces } from './queries/listDebounces.js';
import { listEvents } from './queries/listEvents.js';
import { listForks } from './queries/listForks.js';
import { listInbox } from './queries/listInbox.js';
import { listBusyRateLimits, listRateLimitSettings } from './queries/listRateLimits.js';
import { listRuns } from './queries/listRuns.js';
import { listRunsToWake } from './queries/listRunsToWake.js';
import { listUnfinishedRuns } from './queries/listUnfinishedRuns.js';
import { nextWakeAt } from './queries/nextWakeAt.js';
import { countPrunable, pruneRuns } from './queries/pruneRuns.js';
import { readDatabaseClock } from './queries/readDatabaseClock.js';
import {
  deleteSchedule,
  getSchedule,
  listSchedules,
  listScheduleTicks,
  nextScheduleDueAt,
} from './queries/readSchedules.js';
import { resetRateLimit, setRateLimit } from './queries/setRateLimit.js';
import { takeRateLimits } from './queries/takeRateLimits.js';
import { writeSchedules } from './queries/writeSchedules.js';
import { inTransaction } from './transaction.js';

export interface PostgresStoreOptions {
  /** postgres://user:password@host:5432/database */
  connectionString: string;
  /** Apply pending migrations on open (default true). When false, open() checks the version only. */
  migrate?: boolean;
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** Shown in pg_stat_activity (default "braid"). */
  applicationName?: string;
}

const DEFAULT_POOL_SIZE = 10;

/**
 * A Store in PostgreSQL (schema `braid`), through a `pg` pool. Unlike SQLite it lets several
 * worker processes share one database: each commit is fenced by the worker id set with
 * `setWorker`, so a worker that lost a run to another cannot overwrite it (see commitBatch.ts).
 */
export class PostgresStore implements Store {
  readonly description: string;
  readonly connectionString: string;
  /** Deadlines are compared with the database's clock (databaseClock.ts), never an executor's. */
  readonly usesDatabaseClock = true;
  /** The worker this process runs as; commits are fenced to the runs it owns. Null: no fencing. */
  workerId: string | null = null;
  private readonly options: PostgresStoreOptions;
  private opened: pg.Pool | undefined;
  private opening: Promise<void> | undefined;
  private coordinator: PostgresCoordination | undefined;
  /** Commits announce their events (braid_events) until then: some process has a live feed open. */
  private eventNoticesUntil = 0;

  constructor(options: PostgresStoreOptions) {
    this.options = options;
    this.connectionString = options.connectionString;
    this.description = redactConnectionString(options.connectionString);
  }

  /** The connection pool, for the coordination code that shares it. Throws before open(). */
  get pool(): pg.Pool {
    return this.use();
  }

  /** Leases, claims, semaphores and notifications for workers sharing this database. */
  get coordination(): Coordination | undefined {
    if (!this.opened) return undefined;
    this.coordinator ??= new PostgresCoordination(this.opened, this.connectionString, (until) => {
      this.eventNoticesUntil = Math.max(this.eventNoticesUntil, until);
    });
    return this.coordinator;
  }

  setWorker(id: string | null): void {
    this.workerId = id;
  }

  async open(): Promise<void> {
    if (this.opened) return;
    // Concurrent open() calls share one attempt instead of each making a pool.
    this.opening ??= this.connect().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private async connect(): Promise<void> {
    const pool = await connectPool({
      connectionString: this.connectionString,
      where: this.description,
      poolSize: this.options.poolSize ?? DEFAULT_POOL_SIZE,
      applicationName: this.options.applicationName ?? 'braid',
    });
    try {
      if (this.options.migrate === false) await checkSchemaVersion(pool, this.description);
      else await migrate(pool, this.description);
    } catch (error) {
      await pool.end().catch(() => {});
      throw error;
    }
    this.opened = pool;
  }

  async close(): Promise<void> {
    await this.opening?.catch(() => {});
    const pool = this.opened;
    this.opened = undefined;
    this.coordinator = undefined;
    await pool?.end();
  }

  async commit(batch: WriteBatch): Promise<CommitResult> {
    // Real time: the notice window is set by the worker's feed on the system clock (see usesDatabaseClock).
    const noticeEvents = Date.now() < this.eventNoticesUntil;
    const { duplicateRunIds, refusedRunIds, staleRunIds, seqs, waits, chunkSeqs } = await commitBatch(
      this.use(),
      batch,
      this.workerId,
      noticeEvents,
    );
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
    // Fencing is on only with a worker id; without one the result is the single-process shape.
    const result: CommitResult = this.workerId === null ? { duplicateRunIds } : { duplicateRunIds, refusedRunIds };
    if (staleRunIds.length) result.staleRunIds = staleRunIds;
    if (waits) {
      for (const [event, seq] of waits.inboxSeqs) event.seq = seq;
      if (waits.settledWaits.length) result.settledWaits = waits.settledWaits;
      if (waits.duplicateEvents.length) result.duplicateEvents = waits.duplicateEvents;
      if (waits.unmatchedInputs.length) result.unmatchedInputs = waits.unmatchedInputs;
    }
    return result;
  }

  async writeSchedule(write: ScheduleWrite): Promise<void> {
    await inTransaction(this.use(), (client) => writeSchedules(client, [write]));
  }

  async getSchedule(id: string): Promise<ScheduleRecord | undefined> {
    return getSchedule(this.use(), id);
  }

  async listSchedules(): Promise<ScheduleRecord[]> {
    return listSchedules(this.use());
  }

  async deleteSchedule(id: string): Promise<boolean> {
    return deleteSchedule(this.use(), id);
  }

  async listScheduleTicks(scheduleId: string, limit = 100): Promise<ScheduleTickRecord[]> {
    return listScheduleTicks(this.use(), scheduleId, Math.min(Math.max(limit, 1), 1000));
  }

  async nextScheduleDueAt(workflows: readonly string[]): Promise<number | null> {
    return nextScheduleDueAt(this.use(), workflows);
  }

  async claimDueSchedules(
    _now: number,
    owner: string,
    leaseMs: number,
    limit: number,
    workflows: readonly string[],
  ): Promise<DueSchedules> {
    // Due times and leases are judged by the database's clock, not this process's `now`.
    return claimDueSchedules(this.use(), owner, leaseMs, limit, workflows);
  }

  async readDatabaseClock(): Promise<number> {
    return readDatabaseClock(this.use());
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    return getRun(this.use(), id);
  }

  async findRunByIdempotencyKey(key: string): Promise<RunRecord | undefined> {
    return findRunByIdempotencyKey(this.use(), key);
  }

  /**
   * Transient: anything that is not the server refusing the statement itself (a lost connection,
   * a timeout, a pool error carry no SQLSTATE), and the SQLSTATE classes that pass: connection
   * exceptions (08), rollbacks from serialization or deadlock (40), insufficient resources such as
   * a full disk (53), operator intervention such as a restart (57), system errors (58).
   */
  isTransientError(error: unknown): boolean {
    // A schedule that changed under a tick's commit: the same batch can never land (another
    // process handled the tick); retrying it would hold the write queue forever.
    if (error instanceof ScheduleChangedError) return false;
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return true;
    return /^(08|40|53|57|58)/.test(code);
  }

  async listRunsToWake(
    now: number,
    limit: number,
    workflows: readonly string[],
    after?: WakeCursor,
  ): Promise<RunRecord[]> {
    return listRunsToWake(this.use(), now, limit, workflows, after);
  }

  async nextWakeAt(workflows: readonly string[]): Promise<number | null> {
    return nextWakeAt(this.use(), workflows);
  }

  async listUnfinishedRuns(workflows?: readonly string[], now?: number): Promise<RunRecord[]> {
    return listUnfinishedRuns(this.use(), workflows, now);
  }

  async listRuns(filter: RunFilter): Promise<RunPage> {
    return listRuns(this.use(), filter);
  }

  async countRuns(filter: Omit<RunFilter, 'cursor' | 'limit' | 'order' | 'status'>): Promise<StatusCounts> {
    return countRuns(this.use(), filter);
  }

  async getSteps(runId: string): Promise<StepRecord[]> {
    return getSteps(this.use(), runId);
  }

  async listEvents(options: { runId?: string; afterSeq?: number; limit?: number }): Promise<EventRecord[]> {
    return listEvents(this.use(), options.runId, options.afterSeq ?? 0, eventPageSize(options.limit));
  }

  async getChildLinks(parentRunId: string, parentStep: string): Promise<ChildLink[]> {
    return getChildLinks(this.use(), parentRunId, parentStep);
  }

  async getWaits(runId: string): Promise<WaitRecord[]> {
    return getWaits(this.use(), runId);
  }

  async getRunStates(runIds: readonly string[]): Promise<Map<string, StoredRunState>> {
    return getRunStates(this.use(), runIds);
  }

  async getChildLinksOfSteps(steps: readonly StepRef[]): Promise<ChildLink[][]> {
    return getChildLinksOfSteps(this.use(), steps);
  }

  async listInbox(options: { name?: string; limit?: number }): Promise<InboxEvent[]> {
    return listInbox(this.use(), options.name, Math.min(Math.max(options.limit ?? 50, 1), 1000));
  }

  async getCache(key: string, now: number): Promise<CacheEntry | undefined> {
    return getCache(this.use(), key, now);
  }

  async takeRateLimits(requests: readonly RateLimitRequest[]): Promise<RateLimitGrant[]> {
    return takeRateLimits(this.use(), requests);
  }

  async setRateLimit(setting: RateLimitSetting): Promise<void> {
    await setRateLimit(this.use(), setting);
  }

  async resetRateLimit(name: string): Promise<void> {
    await resetRateLimit(this.use(), name);
  }

  async listRateLimitSettings(): Promise<RateLimitSetting[]> {
    return listRateLimitSettings(this.use());
  }

  async listBusyRateLimits(now: number, limit: number): Promise<RateLimitState[]> {
    return listBusyRateLimits(this.use(), now, limit);
  }

  async setLimitSetting(setting: LimitSetting): Promise<void> {
    await setLimitSetting(this.use(), setting);
  }

  async resetLimitSetting(kind: LimitKind, name: string): Promise<void> {
    await resetLimitSetting(this.use(), kind, name);
  }

  async listLimitSettings(): Promise<LimitSetting[]> {
    return listLimitSettings(this.use());
  }

  async countKeyedRuns(workflows: readonly string[], now: number, limit: number): Promise<KeyedRunCount[]> {
    return countKeyedRuns(this.use(), workflows, now, limit);
  }

  async getFork(runId: string): Promise<ForkRecord | undefined> {
    return getFork(this.use(), runId);
  }

  async debounce(trigger: DebounceTrigger): Promise<DebounceResult> {
    return debounce(this.use(), trigger);
  }

  async listDebounces(filter: { workflow?: string; limit?: number }): Promise<PendingDebounce[]> {
    return listDebounces(this.use(), filter);
  }

  async listForks(runId: string, limit = 100): Promise<ForkRecord[]> {
    return listForks(this.use(), runId, Math.min(Math.max(limit, 1), 1000));
  }

  async listChunks(query: ChunkQuery): Promise<StreamChunk[]> {
    return listChunks(this.use(), query);
  }

  async pruneRuns(selection: PruneSelection, now: number): Promise<PruneCounts> {
    return pruneRuns(this.use(), selection, now);
  }

  async countPrunable(selection: Omit<PruneSelection, 'limit'>, now: number): Promise<PruneCounts> {
    return countPrunable(this.use(), selection, now);
  }

  async compactEvents(maxEventsPerRun: number, limit: number): Promise<CompactionCounts> {
    return compactEvents(this.use(), maxEventsPerRun, limit);
  }

  private use(): pg.Pool {
    if (!this.opened) {
      throw new StoreNotOpenError(this.description);
    }
    return this.opened;
  }
}
