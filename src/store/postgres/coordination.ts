import os from 'node:os';
import type pg from 'pg';
import { OLDEST_EVERY } from '../../model/priority.js';
import {
  type ClaimableWorkflow,
  type ClaimedRun,
  type Coordination,
  type NotificationHandlers,
  RUN_SLOT_PREFIX,
  type WorkflowRef,
} from '../coordination.js';
import type { RunControl, RunRecord } from '../types.js';
import {
  ASLEEP_CHANNEL,
  CONTROL_CHANNEL,
  decodeIds,
  EVENTS_CHANNEL,
  FEED_CHANNEL,
  PROGRESS_CHANNEL,
  READY_CHANNEL,
  SETTLED_CHANNEL,
  SLOTS_CHANNEL,
  STREAMS_CHANNEL,
  WAITS_CHANNEL,
} from './channels.js';
import { DATABASE_NOW_MS } from './databaseClock.js';
import { NotificationListener } from './notificationListener.js';
import { CLAIM_COLUMNS, type ClaimRow, claimRuns as claimRunsQuery, UNFINISHED } from './queries/claimRuns.js';
import { getRunStates } from './queries/getRunStates.js';
import { RUN_COLUMNS } from './recordColumns.js';
import { inTransaction } from './transaction.js';

/** The engine's "never" (NO_WAKE_TIME): a run asleep until an event or an input wakes it. */
const NO_WAKE_TIME = Number.MAX_SAFE_INTEGER;

/**
 * Hands back the runs of `braid.runs r` that `where` picks (owner_id = NULL), then announces them:
 * due runs on braid_ready, runs asleep on braid_asleep with how long until the earliest is due, by
 * the database's clock. A run asleep one of whose steps waits with none of its waits pending any
 * more is due now: an event or input settled them after its owner wrote the wake-up time (the
 * owner, which heard of it, had let the run go already; or it died). The UPDATE locks the runs, so
 * a commit settling their waits either came first (and is seen here) or comes after (and finds
 * them unowned: it wakes them itself). $1 is NO_WAKE_TIME. Indexes: runs primary key (or
 * runs_owner_idx), steps and waits primary keys.
 */
const handBackSql = (where: string) => `WITH freed AS (
    UPDATE braid.runs r SET owner_id = NULL,
           wake_at = CASE WHEN r.wake_at IS NOT NULL AND EXISTS (
                            SELECT 1 FROM braid.steps s
                             WHERE s.run_id = r.id AND s.status = 'waiting'
                               AND NOT EXISTS (SELECT 1 FROM braid.waits w WHERE w.run_id = s.run_id
                                                  AND w.step = s.name AND w.status = 'pending'))
                          THEN least(r.wake_at, ${DATABASE_NOW_MS}) ELSE r.wake_at END
     WHERE ${where}
    RETURNING r.wake_at, r.status
  )
  SELECT (SELECT count(*) FROM freed) AS freed,
         (SELECT count(pg_notify('${READY_CHANNEL}', '')) FROM (
            SELECT 1 FROM freed WHERE wake_at IS NULL OR wake_at <= ${DATABASE_NOW_MS} LIMIT 1) AS due) AS ready,
         (SELECT count(pg_notify('${ASLEEP_CHANNEL}', in_ms::text)) FROM (
            SELECT min(wake_at) - ${DATABASE_NOW_MS} AS in_ms FROM freed
             WHERE wake_at > ${DATABASE_NOW_MS} AND wake_at < $1 AND status IN ${UNFINISHED}) AS asleep
           WHERE in_ms IS NOT NULL) AS asleep`;

/**
 * Leases, claims and semaphores on PostgreSQL. A worker's lease is one row in braid.workers: one
 * heartbeat renews its hold on every run it owns, and a run is owned through `runs.owner_id`.
 * Claims take unowned runs with FOR UPDATE SKIP LOCKED, so workers never wait on each other.
 */
export class PostgresCoordination implements Coordination {
  /** Runs this process has claimed so far: whose turn the next claims are (see oldestShare). */
  private claimTurns = 0;

  constructor(
    private readonly pool: pg.Pool,
    private readonly connectionString: string,
    /** Makes this process's commits send braid_events notices until the given time. */
    private readonly noticeEventsUntil: (untilMs: number) => void = () => {},
  ) {}

  async announceEventFeed(): Promise<void> {
    await this.pool.query(`SELECT pg_notify('${FEED_CHANNEL}', '')`);
  }

  async shareProgress(payload: string): Promise<void> {
    await this.pool.query(`SELECT pg_notify('${PROGRESS_CHANNEL}', $1)`, [payload]);
  }

  sendEventNotices(untilMs: number): void {
    this.noticeEventsUntil(untilMs);
  }

  async registerWorker(workflows: readonly WorkflowRef[], leaseMs: number): Promise<string> {
    const id = `${os.hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 10)}`;
    await this.pool.query(
      `INSERT INTO braid.workers (id, host, pid, workflows, lease_until)
       VALUES ($1, $2, $3, $4, now() + $5 * interval '1 millisecond')`,
      [id, os.hostname(), process.pid, JSON.stringify(workflows), leaseMs],
    );
    return id;
  }

  async heartbeat(workerId: string, leaseMs: number): Promise<boolean> {
    const result = await this.pool.query(
      `UPDATE braid.workers SET heartbeat_at = now(), lease_until = now() + $2 * interval '1 millisecond'
       WHERE id = $1`,
      [workerId, leaseMs],
    );
    return result.rowCount === 1;
  }

  async deregisterWorker(workerId: string): Promise<void> {
    await this.transaction(async (client) => {
      await client.query('DELETE FROM braid.workers WHERE id = $1', [workerId]);
      await this.freeOrphans(client);
    });
  }

  async reapExpiredWorkers(): Promise<string[]> {
    return this.transaction(async (client) => {
      const dead = await client.query<{ id: string }>(
        'DELETE FROM braid.workers WHERE lease_until < now() RETURNING id',
      );
      await this.freeOrphans(client);
      return dead.rows.map((r) => r.id);
    });
  }

  /**
   * Hands back the runs and worker-bound semaphore holds of workers that no longer exist (reaped,
   * deregistered, or never finished registering), and tells the others.
   */
  private async freeOrphans(client: pg.PoolClient): Promise<void> {
    await client.query({
      name: 'braid_free_orphan_runs',
      text: handBackSql(
        'r.owner_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM braid.workers w WHERE w.id = r.owner_id)',
      ),
      values: [NO_WAKE_TIME],
    });
    const holds = await client.query<{ name: string }>(
      `DELETE FROM braid.semaphore_holders h
       WHERE h.worker_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM braid.workers w WHERE w.id = h.worker_id)
       RETURNING h.name`,
    );
    // A dead worker's waiters leave the line: one at its head would hold every unit back. The
    // waiters behind it are told, as for a freed unit.
    const waiters = await client.query<{ name: string }>(
      `DELETE FROM braid.semaphore_waiters q
       WHERE NOT EXISTS (SELECT 1 FROM braid.workers w WHERE w.id = q.worker_id)
       RETURNING q.name`,
    );
    holds.rows.push(...waiters.rows);
    for (const name of new Set(holds.rows.map((r) => r.name))) {
      await client.query(`SELECT pg_notify('${SLOTS_CHANNEL}', $1)`, [name]);
    }
  }

  async claimRuns(workerId: string, workflows: readonly ClaimableWorkflow[], limit: number): Promise<ClaimedRun[]> {
    if (limit <= 0 || workflows.length === 0) return [];
    // One statement, its own transaction (see queries/claimRuns.ts): the runs it claims come back
    // with their steps and waits, or it failed and claimed nothing.
    const plain = await claimRunsQuery(this.pool, {
      workerId,
      names: workflows.map((w) => w.name),
      versions: workflows.map((w) => w.version),
      limit,
      oldestShare: this.oldestShare(limit),
    });
    const claimed: ClaimedRun[] = plain.map(({ row, steps, waits, childLinks }) => ({
      ...toClaimed(row, false),
      steps,
      waits,
      childLinks,
    }));
    const keyed = workflows.filter((w) => w.maxRuns !== undefined);
    if (keyed.length && claimed.length < limit) {
      try {
        claimed.push(...(await this.claimKeyedRunsWithStates(workerId, keyed, limit - claimed.length)));
      } catch (error) {
        // The caller never receives the runs claimed above: give them back (if the database is
        // away this fails too, and the worker's ownership check hands them back later).
        await this.releaseRuns(
          workerId,
          claimed.map((c) => c.run.id),
        ).catch(() => {});
        throw error;
      }
    }
    this.claimTurns += claimed.length;
    return claimed;
  }

  /**
   * claimKeyedRuns in a transaction of its own, with the admitted runs' steps and waits read after
   * they are locked: a commit settling their waits waits for this claim to end (lockRunsOfWaits),
   * then tells this worker on braid_waits. If anything fails (the database going away), no run
   * stays owned by a worker that never received it.
   */
  private claimKeyedRunsWithStates(
    workerId: string,
    workflows: readonly ClaimableWorkflow[],
    limit: number,
  ): Promise<ClaimedRun[]> {
    return this.transaction(async (client) => {
      const claimed = await this.claimKeyedRuns(client, workerId, workflows, limit);
      if (!claimed.length) return claimed;
      const states = await getRunStates(
        client,
        claimed.map((c) => c.run.id),
      );
      for (const c of claimed) {
        const state = states.get(c.run.id);
        c.steps = state?.steps ?? [];
        c.waits = state?.waits ?? [];
      }
      return claimed;
    });
  }

  /**
   * How many of a batch of `limit` claims go to the oldest waiting runs whatever their priority:
   * the turns in [claimTurns, claimTurns + limit) that are every OLDEST_EVERY-th, as in
   * PriorityQueue. Counted per process: with several workers each gives its share, so the oldest
   * run is claimed within OLDEST_EVERY claims of some worker, however much higher-priority work
   * keeps arriving.
   */
  private oldestShare(limit: number): number {
    const done = this.claimTurns % OLDEST_EVERY;
    return Math.floor((done + limit) / OLDEST_EVERY);
  }

  async nextWakeIn(workflows: readonly string[]): Promise<number | null> {
    if (!workflows.length) return null;
    // Index: runs_wake_idx, read in wake_at order until the first unowned run of these workflows.
    const { rows } = await this.pool.query<{ inMs: string | null }>({
      name: 'braid_next_wake_in',
      text: `SELECT min(wake_at) - ${DATABASE_NOW_MS} AS "inMs" FROM braid.runs
              WHERE wake_at < $2 AND owner_id IS NULL AND status IN ${UNFINISHED} AND workflow = ANY($1::text[])`,
      values: [workflows, NO_WAKE_TIME],
    });
    const inMs = rows[0]?.inMs;
    return inMs === null || inMs === undefined ? null : Math.max(0, Number(inMs));
  }

  /**
   * Admits queued runs of workflows with `maxRuns`: a run takes a slot of the semaphore named
   * after its workflow and concurrency key, held (by the run, not the worker) until it ends. The
   * semaphore row is locked first, so two workers admitting at once count each other's holds.
   */
  private async claimKeyedRuns(
    client: pg.PoolClient,
    workerId: string,
    workflows: readonly ClaimableWorkflow[],
    limit: number,
  ): Promise<ClaimedRun[]> {
    const candidates = await client.query<ClaimRow>(
      `SELECT ${CLAIM_COLUMNS} FROM braid.runs
       WHERE owner_id IS NULL AND status = 'queued' AND concurrency_key IS NOT NULL AND requested_action IS NULL
         AND (workflow, version) IN (SELECT * FROM unnest($1::text[], $2::text[]))
         AND (wake_at IS NULL OR wake_at <= ${DATABASE_NOW_MS})
       ORDER BY priority DESC, id
       LIMIT $3
       FOR UPDATE SKIP LOCKED`,
      [workflows.map((w) => w.name), workflows.map((w) => w.version), limit],
    );
    const rules = new Map(workflows.map((w) => [w.name, w]));
    // maxRuns changed at run time (setMaxRuns) wins over the claimer's definition, for every worker.
    const settings = await client.query<{ name: string; value: number }>(
      `SELECT name, value FROM braid.limit_settings WHERE kind = 'max_runs' AND name = ANY($1::text[])`,
      [[...rules.keys()]],
    );
    const maxRunsSet = new Map(settings.rows.map((r) => [r.name, r.value]));
    const groups = new Map<string, ClaimRow[]>();
    for (const row of candidates.rows) {
      const name = concurrencySemaphore(row.workflow, row.concurrencyKey as string);
      const group = groups.get(name);
      if (group) group.push(row);
      else groups.set(name, [row]);
    }
    const admitted: Array<{ row: ClaimRow; denied: boolean; capacity?: number }> = [];
    // Sorted, so two workers lock the semaphore rows in the same order and cannot deadlock.
    for (const name of [...groups.keys()].sort()) {
      const rows = groups.get(name) as ClaimRow[];
      const rule = rules.get((rows[0] as ClaimRow).workflow) as ClaimableWorkflow;
      const capacity = maxRunsSet.get(rule.name) ?? (rule.maxRuns as number);
      await client.query(
        `INSERT INTO braid.semaphores (name, capacity) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET capacity = EXCLUDED.capacity`,
        [name, capacity],
      );
      const held = await client.query<{ holder: string }>(
        'SELECT holder FROM braid.semaphore_holders WHERE name = $1 ORDER BY acquired_at, holder',
        [name],
      );
      const holders = held.rows.map((r) => r.holder);
      const holding = new Set(holders);
      for (const row of rows) {
        // A run spawned by a run holding this group's slot goes ahead: waiting would deadlock it.
        const exempt = (row.parentRunId !== null && holding.has(row.parentRunId)) || holding.has(row.rootRunId);
        if (exempt) {
          admitted.push({ row, denied: false });
          continue;
        }
        if (holding.size < capacity) {
          holding.add(row.id);
          holders.push(row.id);
          await this.hold(client, name, row.id);
          admitted.push({ row, denied: false });
          continue;
        }
        const strategy = rule.onConcurrencyLimit ?? 'queue';
        if (strategy === 'cancel-newest') admitted.push({ row, denied: true, capacity });
        else if (strategy === 'cancel-oldest') {
          const oldest = holders.shift() as string;
          holding.delete(oldest);
          await client.query('DELETE FROM braid.semaphore_holders WHERE name = $1 AND holder = $2', [name, oldest]);
          await client.query(
            `UPDATE braid.runs SET requested_action = 'cancel', requested_reason = $2
             WHERE id = $1 AND status NOT IN ('succeeded', 'failed', 'cancelled', 'timed_out')`,
            [oldest, `a newer run (${row.id}) replaced it (cancel-oldest)`],
          );
          await client.query(`SELECT pg_notify('${CONTROL_CHANNEL}', $1), pg_notify('${READY_CHANNEL}', '')`, [oldest]);
          holding.add(row.id);
          holders.push(row.id);
          await this.hold(client, name, row.id);
          admitted.push({ row, denied: false });
        }
        // 'queue': it stays queued, unowned, and is admitted when a slot frees.
      }
    }
    if (!admitted.length) return [];
    const owned = await client.query<{ id: string }>(
      `UPDATE braid.runs SET owner_id = $1 WHERE id = ANY($2)
         AND EXISTS (SELECT 1 FROM braid.workers w WHERE w.id = $1)
       RETURNING id`,
      [workerId, admitted.map((a) => a.row.id)],
    );
    const ok = new Set(owned.rows.map((r) => r.id));
    if (ok.size !== admitted.length) throw new Error('This worker was reaped while claiming; claim again.');
    return admitted.map((a) =>
      a.capacity === undefined ? toClaimed(a.row, a.denied) : { ...toClaimed(a.row, true), maxRuns: a.capacity },
    );
  }

  private async hold(client: pg.PoolClient, name: string, holder: string): Promise<void> {
    await client.query(
      'INSERT INTO braid.semaphore_holders (name, holder, worker_id) VALUES ($1, $2, NULL) ON CONFLICT DO NOTHING',
      [name, holder],
    );
  }

  async cancelUnstarted(runId: string, error: string): Promise<boolean> {
    return this.transaction(async (client) => {
      const now = Date.now();
      const cancelled = await client.query(
        `UPDATE braid.runs r SET status = 'cancelled', error = $2, finished_at = $3,
                requested_action = NULL, requested_reason = NULL
         WHERE r.id = $1 AND r.owner_id IS NULL AND r.status = 'queued'
           AND NOT EXISTS (SELECT 1 FROM braid.steps s WHERE s.run_id = r.id AND s.attempts > 0)`,
        [runId, error, now],
      );
      if (cancelled.rowCount !== 1) return false;
      await client.query(
        `INSERT INTO braid.events (run_id, step, type, at, attempt, data) VALUES ($1, NULL, 'run_cancelled', $2, NULL, $3)`,
        [runId, now, error],
      );
      await client.query(
        `WITH freed AS (DELETE FROM braid.semaphore_holders WHERE holder = $1 AND worker_id IS NULL RETURNING name)
         SELECT pg_notify('${SLOTS_CHANNEL}', name) FROM freed`,
        [runId],
      );
      await client.query(`SELECT pg_notify('${SETTLED_CHANNEL}', $1)`, [runId]);
      return true;
    });
  }

  async ownedRuns(workerId: string): Promise<string[]> {
    const result = await this.pool.query<{ id: string }>('SELECT id FROM braid.runs WHERE owner_id = $1', [workerId]);
    return result.rows.map((r) => r.id);
  }

  /** Hands runs back (see handBackSql: a run asleep keeps its wake_at unless it is due now). */
  async releaseRuns(workerId: string, runIds: readonly string[]): Promise<void> {
    if (!runIds.length) return;
    await this.pool.query({
      name: 'braid_release_runs',
      text: handBackSql('r.id = ANY($3) AND r.owner_id = $2'),
      values: [NO_WAKE_TIME, workerId, runIds],
    });
  }

  async takeControls(workerId: string, runIds: readonly string[]): Promise<RunControl[]> {
    if (!runIds.length) return [];
    const result = await this.pool.query<RunControl>(
      `SELECT id AS "runId", requested_action AS action, requested_reason AS reason FROM braid.runs
       WHERE id = ANY($2) AND owner_id = $1 AND requested_action IS NOT NULL`,
      [workerId, runIds],
    );
    return result.rows;
  }

  async latestEventSeq(): Promise<number> {
    const result = await this.pool.query<{ seq: number | null }>('SELECT max(seq) AS seq FROM braid.events');
    return Number(result.rows[0]?.seq ?? 0);
  }

  async getRuns(runIds: readonly string[]): Promise<RunRecord[]> {
    if (!runIds.length) return [];
    const result = await this.pool.query<RunRecord>(`SELECT ${RUN_COLUMNS} FROM braid.runs WHERE id = ANY($1)`, [
      runIds,
    ]);
    return result.rows;
  }

  async findStrandedRuns(workflows: readonly WorkflowRef[], limit: number): Promise<RunRecord[]> {
    if (!workflows.length) return [];
    const result = await this.pool.query<RunRecord>(
      `SELECT ${RUN_COLUMNS} FROM braid.runs
       WHERE owner_id IS NULL AND status IN ${UNFINISHED}
         AND workflow = ANY($1)
         AND (workflow, version) NOT IN (SELECT * FROM unnest($1::text[], $2::text[]))
       ORDER BY id
       LIMIT $3`,
      [workflows.map((w) => w.name), workflows.map((w) => w.version), limit],
    );
    return result.rows;
  }

  async reportStranded(run: RunRecord, offered: readonly string[], workerId: string): Promise<boolean> {
    const data = JSON.stringify({
      reason: 'version',
      needs: run.version,
      offered,
      worker: workerId,
    });
    const result = await this.pool.query(
      `INSERT INTO braid.events (run_id, step, type, at, attempt, data)
       SELECT $1, NULL, 'run_queued', $2, NULL, $3
       WHERE NOT EXISTS (
         SELECT 1 FROM braid.events WHERE run_id = $1 AND type = 'run_queued' AND data LIKE '{"reason":"version"%'
       )`,
      [run.id, Date.now(), data],
    );
    return result.rowCount === 1;
  }

  /**
   * Grants a unit of a gate (a pool, the cluster-wide step limit) to `holder` when one is free and
   * it is the holder's turn. Waiters line up in braid.semaphore_waiters, so a freed unit goes, across
   * every worker, by priority then arrival, with every OLDEST_EVERY-th grant of the gate to the
   * oldest waiter (PriorityQueue's rule). A refused holder stays in line and asks again when a unit
   * is freed (braid_slots). The size is the stored run-time setting (setPoolSize) if there is one,
   * else the caller's. Locks the gate's row first, so whoever counts sees every hold before it.
   */
  async acquire(name: string, holder: string, capacity: number, workerId: string, priority = 0): Promise<boolean> {
    return this.transaction(async (client) => {
      const gate = await client.query<{ capacity: number; grants: string }>(
        `INSERT INTO braid.semaphores (name, capacity)
         VALUES ($1, COALESCE((SELECT value FROM braid.limit_settings WHERE kind = 'pool' AND name = $1), $2))
         ON CONFLICT (name) DO UPDATE SET capacity = EXCLUDED.capacity
         RETURNING capacity, grants`,
        [name, capacity],
      );
      const { capacity: size, grants } = gate.rows[0] as { capacity: number; grants: string };
      const state = await client.query<{ held: number; mine: boolean; live: boolean }>(
        `SELECT (SELECT count(*) FROM braid.semaphore_holders WHERE name = $1)::int AS held,
                EXISTS (SELECT 1 FROM braid.semaphore_holders WHERE name = $1 AND holder = $2) AS mine,
                EXISTS (SELECT 1 FROM braid.workers WHERE id = $3) AS live`,
        [name, holder, workerId],
      );
      const { held, mine, live } = state.rows[0] as { held: number; mine: boolean; live: boolean };
      if (!live) return false;
      if (mine) {
        await client.query('UPDATE braid.semaphore_holders SET worker_id = $3 WHERE name = $1 AND holder = $2', [
          name,
          holder,
          workerId,
        ]);
        return true;
      }
      // In line (again): the first ask sets its arrival (seq); later asks keep it.
      await client.query(
        `INSERT INTO braid.semaphore_waiters (name, holder, worker_id, priority) VALUES ($1, $2, $3, $4)
         ON CONFLICT (name, holder) DO UPDATE SET worker_id = EXCLUDED.worker_id, priority = EXCLUDED.priority`,
        [name, holder, workerId, priority],
      );
      const free = size - held;
      if (free <= 0 || !(await this.isTurnOf(client, name, holder, free, Number(grants)))) return false;
      await client.query('DELETE FROM braid.semaphore_waiters WHERE name = $1 AND holder = $2', [name, holder]);
      await client.query('INSERT INTO braid.semaphore_holders (name, holder, worker_id) VALUES ($1, $2, $3)', [
        name,
        holder,
        workerId,
      ]);
      await client.query('UPDATE braid.semaphores SET grants = grants + 1 WHERE name = $1', [name]);
      return true;
    });
  }

  /**
   * Whether `holder` is among the next `free` waiters of the gate to be granted a unit: the turns
   * [grants, grants + free) taken in order, each by priority then arrival except every
   * OLDEST_EVERY-th, which goes to the oldest waiter. Reads at most `free` waiters through each
   * index (semaphore_waiters_priority_idx, semaphore_waiters_arrival_idx).
   */
  private async isTurnOf(
    client: pg.PoolClient,
    name: string,
    holder: string,
    free: number,
    grants: number,
  ): Promise<boolean> {
    const line = await client.query<{ holder: string; byPriority: boolean }>(
      `(SELECT holder, true AS "byPriority" FROM braid.semaphore_waiters WHERE name = $1
         ORDER BY priority DESC, seq LIMIT $2)
       UNION ALL
       (SELECT holder, false FROM braid.semaphore_waiters WHERE name = $1 ORDER BY seq LIMIT $2)`,
      [name, free],
    );
    const byPriority = line.rows.filter((r) => r.byPriority).map((r) => r.holder);
    const byArrival = line.rows.filter((r) => !r.byPriority).map((r) => r.holder);
    const taken = new Set<string>();
    const next = (list: string[]) => list.find((h) => !taken.has(h));
    for (let turn = grants; turn < grants + free; turn++) {
      const isOldestTurn = turn % OLDEST_EVERY === OLDEST_EVERY - 1;
      const pick = isOldestTurn ? (next(byArrival) ?? next(byPriority)) : (next(byPriority) ?? next(byArrival));
      if (pick === undefined) break;
      if (pick === holder) return true;
      taken.add(pick);
    }
    return false;
  }

  async gateUsage(names: readonly string[]): Promise<Map<string, { busy: number; waiting: number }>> {
    const { rows } = await this.pool.query<{ name: string; busy: number; waiting: number }>(
      `SELECT n.name,
              (SELECT count(*) FROM braid.semaphore_holders h WHERE h.name = n.name)::int AS busy,
              (SELECT count(*) FROM braid.semaphore_waiters w WHERE w.name = n.name)::int AS waiting
         FROM unnest($1::text[]) AS n(name)`,
      [names],
    );
    return new Map(rows.map((r) => [r.name, { busy: r.busy, waiting: r.waiting }]));
  }

  async release(name: string, holder: string, workerId: string): Promise<void> {
    await this.pool.query(
      `WITH freed AS (DELETE FROM braid.semaphore_holders WHERE name = $1 AND holder = $2 AND worker_id = $3
                      RETURNING name),
            -- A holder that gave up waiting (shutdown) leaves the line too.
            gone AS (DELETE FROM braid.semaphore_waiters WHERE name = $1 AND holder = $2 AND worker_id = $3)
       SELECT pg_notify('${SLOTS_CHANNEL}', name) FROM freed`,
      [name, holder, workerId],
    );
  }

  async listen(handlers: NotificationHandlers): Promise<() => Promise<void>> {
    const listener = new NotificationListener(
      this.connectionString,
      [
        READY_CHANNEL,
        SETTLED_CHANNEL,
        CONTROL_CHANNEL,
        SLOTS_CHANNEL,
        WAITS_CHANNEL,
        ASLEEP_CHANNEL,
        EVENTS_CHANNEL,
        FEED_CHANNEL,
        STREAMS_CHANNEL,
        PROGRESS_CHANNEL,
      ],
      {
        notification: (channel, payload) => {
          if (channel === READY_CHANNEL) handlers.ready();
          else if (channel === SETTLED_CHANNEL) handlers.settled(decodeIds(payload));
          else if (channel === CONTROL_CHANNEL) handlers.control(decodeIds(payload));
          else if (channel === SLOTS_CHANNEL) handlers.slots(decodeIds(payload));
          else if (channel === WAITS_CHANNEL) handlers.waits(decodeIds(payload));
          else if (channel === ASLEEP_CHANNEL) handlers.asleep(Number(payload));
          else if (channel === EVENTS_CHANNEL) handlers.events();
          else if (channel === FEED_CHANNEL) handlers.feedAnnounced();
          else if (channel === STREAMS_CHANNEL) handlers.streams?.(decodeIds(payload));
          else if (channel === PROGRESS_CHANNEL) handlers.progress?.(payload);
        },
        reconnected: () => handlers.reconnected(),
        disconnected: (error) => handlers.disconnected(error),
      },
    );
    await listener.start();
    return () => listener.stop();
  }

  private transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, work);
  }
}

/** The semaphore behind a workflow's maxRuns for one concurrency key. */
export function concurrencySemaphore(workflow: string, key: string): string {
  return `${RUN_SLOT_PREFIX}${workflow}:${key}`;
}

function toClaimed(row: ClaimRow, denied: boolean): ClaimedRun {
  const { requestedAction, requestedReason, ...run } = row;
  return {
    run,
    steps: [],
    waits: [],
    control: requestedAction ? { runId: run.id, action: requestedAction, reason: requestedReason } : null,
    denied,
  };
}
