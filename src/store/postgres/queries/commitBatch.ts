import type pg from 'pg';
import type { CacheEntry, RunControl, RunRecord, RunUpdate, StepRecord, WriteBatch } from '../../types.js';
import { CONTROL_CHANNEL, READY_CHANNEL, SETTLED_CHANNEL, SLOTS_CHANNEL } from '../channels.js';

/**
 * Writes one WriteBatch as ONE statement: data-modifying CTEs over `unnest`ed array parameters,
 * so a commit is one round trip and one implicit transaction however many records it holds
 * (a 10,000-child fan-out included). BEGIN + one statement per part + COMMIT would take 5-8 round
 * trips, at ~0.28 ms each on the 2-core test VM (embedded PostgreSQL 18, fsync on).
 *
 * Measured there: a batch of 50 one-step runs (50 runs, 50 steps, 150 events) costs ~7.5 ms,
 * the batch that finishes them (50 updates, 50 steps, 100 events) ~7.4 ms, a 1-event commit
 * ~1.6 ms, a 1,000-child fan-out ~70 ms. Of the 7.5 ms, ~2.7 ms is execution (mostly index
 * upkeep: runs has ten indexes) and ~1.7 ms planning: PostgreSQL keeps choosing custom plans
 * because they see the array lengths. `plan_cache_mode = force_generic_plan` cut the fan-out to
 * ~41 ms but the 50-run batch only to ~7.2 ms, and it can only be set per session, so it would
 * also change the plans of every other query on the pool it shares with the worker code.
 *
 * The statement, part by part (each part is a no-op when its arrays are empty):
 * - owned / refused / blocked: fencing. `touched` holds every existing run the batch writes to
 *   (run updates, steps, events, parents of new children); only with a worker id set. The rows
 *   still owned by this worker are locked FOR NO KEY UPDATE (after waiting for a concurrent
 *   takeover, whose new owner_id is then rechecked, so a late write cannot slip past it); the
 *   others are refused, and every write of a refused run, or of a new child of one, is dropped.
 * - inserted_runs: new runs, in batch order; ON CONFLICT DO NOTHING skips a run whose id,
 *   idempotency key or (parent run, parent step, spawn key) exists (the first one wins).
 *   owner_id is bound per row (this worker for `localRuns`, else NULL: claimable).
 * - updated_runs: run updates by id. Reaching a terminal status clears owner_id (nobody holds a
 *   finished run) and requested_action; reaching `paused` clears requested_action only: the
 *   owner's running steps still commit, and the owner hands the run back once they have.
 * - steps and cache: upserts; events: appended in batch order, so seqs rise in batch order.
 * - controlled: cancel / pause / resume requests for runs owned elsewhere, on unfinished runs
 *   (resume only of a paused run).
 * - freed_slots: a run's concurrency slots (holders with no worker) end with the run.
 * - The final SELECT returns what the caller needs and sends the notifications, which
 *   PostgreSQL delivers only when the transaction commits.
 *
 * All CTEs see one snapshot, so a row must not be written by two of them: bindBatch folds an
 * update of a run created in the same batch into its insert, and drops controls for runs the
 * batch itself writes. Locks: FOR NO KEY UPDATE on the touched runs, row locks of the written
 * rows. Indexes: runs primary key and unique indexes, steps and cache primary keys,
 * semaphore_holders_holder_idx.
 */

const TERMINAL = `'succeeded', 'failed', 'cancelled', 'timed_out'`;

/**
 * Each id list is sent as comma-separated chunks: a chunk closes once its ids pass 7,000 bytes,
 * so with ids under 900 bytes every payload stays below the 7,900 of channels.ts.
 */
const chunkedIds = (source: string) => `
  SELECT string_agg(id, ',' ORDER BY pos) AS ids
    FROM (SELECT id, sum(octet_length(id) + 1) OVER (ORDER BY id ROWS UNBOUNDED PRECEDING) AS pos
            FROM ${source}) AS numbered
   GROUP BY (pos - 1) / 7000`;

const COMMIT_BATCH_SQL = `
WITH owned AS (
  SELECT id FROM braid.runs WHERE id = ANY($2::text[]) AND owner_id = $1::text
     FOR NO KEY UPDATE
), refused AS (
  SELECT t.id FROM unnest($2::text[]) AS t(id) WHERE NOT EXISTS (SELECT 1 FROM owned o WHERE o.id = t.id)
), new_run AS (
  SELECT * FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                       $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[],
                       $17::text[], $18::bigint[], $19::bigint[], $20::bigint[], $21::bigint[], $22::integer[],
                       $23::text[])
         WITH ORDINALITY AS n(id, workflow, version, status, input, output, error, globals, idempotency_key,
                              parent_run_id, parent_step, spawn_key, root_run_id, concurrency_key, replay_of,
                              created_at, started_at, finished_at, deadline_at, checkpoint_seq, owner_id, ord)
), blocked AS (
  SELECT id FROM refused
  UNION ALL
  SELECT n.id FROM new_run n JOIN refused r ON r.id = n.parent_run_id
), inserted_runs AS (
  INSERT INTO braid.runs (id, workflow, version, status, input, output, error, globals, idempotency_key,
                          parent_run_id, parent_step, spawn_key, root_run_id, concurrency_key, replay_of,
                          created_at, started_at, finished_at, deadline_at, checkpoint_seq, owner_id)
  SELECT id, workflow, version, status, input, output, error, globals, idempotency_key,
         parent_run_id, parent_step, spawn_key, root_run_id, concurrency_key, replay_of,
         created_at, started_at, finished_at, deadline_at, checkpoint_seq, owner_id
    FROM new_run n
   WHERE NOT EXISTS (SELECT 1 FROM blocked b WHERE b.id = n.id)
   ORDER BY ord
  ON CONFLICT DO NOTHING
  RETURNING id, status, owner_id
), updated_runs AS (
  UPDATE braid.runs r
     SET status = u.status, output = u.output, error = u.error, started_at = u.started_at,
         finished_at = u.finished_at, deadline_at = u.deadline_at, globals = u.globals,
         checkpoint_seq = u.checkpoint_seq,
         owner_id = CASE WHEN u.status IN (${TERMINAL}) THEN NULL ELSE r.owner_id END,
         requested_action = CASE WHEN u.status IN (${TERMINAL}, 'paused') THEN NULL ELSE r.requested_action END,
         requested_reason = CASE WHEN u.status IN (${TERMINAL}, 'paused') THEN NULL ELSE r.requested_reason END
    FROM unnest($24::text[], $25::text[], $26::text[], $27::text[], $28::bigint[], $29::bigint[], $30::bigint[],
                $31::text[], $32::integer[])
         AS u(id, status, output, error, started_at, finished_at, deadline_at, globals, checkpoint_seq)
   WHERE r.id = u.id AND NOT EXISTS (SELECT 1 FROM blocked b WHERE b.id = u.id)
  RETURNING r.id, r.status
), upserted_steps AS (
  INSERT INTO braid.steps (run_id, name, status, attempts, output, error, started_at, finished_at,
                           next_attempt_at, route, cache_hit, fallback_used)
  SELECT s.*
    FROM unnest($33::text[], $34::text[], $35::text[], $36::integer[], $37::text[], $38::text[], $39::bigint[],
                $40::bigint[], $41::bigint[], $42::text[], $43::boolean[], $44::boolean[])
         AS s(run_id, name, status, attempts, output, error, started_at, finished_at, next_attempt_at, route,
              cache_hit, fallback_used)
   WHERE NOT EXISTS (SELECT 1 FROM blocked b WHERE b.id = s.run_id)
  ON CONFLICT (run_id, name) DO UPDATE SET
    status = excluded.status, attempts = excluded.attempts, output = excluded.output, error = excluded.error,
    started_at = excluded.started_at, finished_at = excluded.finished_at,
    next_attempt_at = excluded.next_attempt_at, route = excluded.route, cache_hit = excluded.cache_hit,
    fallback_used = excluded.fallback_used
), inserted_events AS (
  INSERT INTO braid.events (run_id, step, type, at, attempt, data)
  SELECT e.run_id, e.step, e.type, e.at, e.attempt, e.data
    FROM unnest($45::text[], $46::text[], $47::text[], $48::bigint[], $49::integer[], $50::text[])
         WITH ORDINALITY AS e(run_id, step, type, at, attempt, data, ord)
   WHERE NOT EXISTS (SELECT 1 FROM blocked b WHERE b.id = e.run_id)
   ORDER BY e.ord
  RETURNING seq
), upserted_cache AS (
  INSERT INTO braid.cache (key, output, created_at, expires_at)
  SELECT * FROM unnest($51::text[], $52::text[], $53::bigint[], $54::bigint[])
  ON CONFLICT (key) DO UPDATE SET
    output = excluded.output, created_at = excluded.created_at, expires_at = excluded.expires_at
), controlled AS (
  UPDATE braid.runs r SET requested_action = c.action, requested_reason = c.reason
    FROM unnest($55::text[], $56::text[], $57::text[]) AS c(id, action, reason)
   WHERE r.id = c.id AND r.status NOT IN (${TERMINAL}) AND (c.action <> 'resume' OR r.status = 'paused')
  RETURNING r.id, r.owner_id
), settled AS (
  SELECT id, status FROM updated_runs WHERE status IN (${TERMINAL}, 'paused')
  UNION ALL
  SELECT id, status FROM inserted_runs WHERE status IN (${TERMINAL}, 'paused')
), freed_slots AS (
  DELETE FROM braid.semaphore_holders h USING settled s
   WHERE h.holder = s.id AND s.status <> 'paused' AND h.worker_id IS NULL
  RETURNING h.name
)
SELECT
  (SELECT coalesce(array_agg(id), '{}') FROM inserted_runs) AS "insertedIds",
  (SELECT coalesce(array_agg(id), '{}') FROM refused) AS "refusedIds",
  (SELECT coalesce(array_agg(seq ORDER BY seq), '{}') FROM inserted_events) AS seqs,
  (SELECT count(pg_notify('${READY_CHANNEL}', '')) FROM (
     SELECT 1 FROM (SELECT 1 FROM inserted_runs WHERE owner_id IS NULL AND status IN ('queued', 'running')
                    UNION ALL
                    SELECT 1 FROM controlled WHERE owner_id IS NULL) AS claimable
      LIMIT 1) AS ready) AS "readyNotices",
  (SELECT count(pg_notify('${SETTLED_CHANNEL}', ids)) FROM (${chunkedIds('settled')}) AS chunks) AS "settledNotices",
  (SELECT count(pg_notify('${CONTROL_CHANNEL}', ids))
     FROM (${chunkedIds('(SELECT id FROM controlled WHERE owner_id IS NOT NULL) AS owned_controls')}) AS chunks)
     AS "controlNotices",
  (SELECT count(pg_notify('${SLOTS_CHANNEL}', name)) FROM (SELECT DISTINCT name FROM freed_slots) AS names)
     AS "slotNotices"`;

export interface CommitBatchOutcome {
  /** New runs not inserted because their id or idempotency identity already existed. */
  duplicateRunIds: string[];
  /** Runs this worker no longer owns: none of their writes landed. */
  refusedRunIds: string[];
  /** The seq of each event of the batch, by index; undefined for the events of refused runs. */
  seqs: (number | undefined)[];
}

interface CommitRow {
  insertedIds: string[];
  refusedIds: string[];
  seqs: number[];
}

/**
 * Commits the batch. Everything is read from the batch synchronously, before the first await:
 * the engine goes on changing its live records once this yields.
 */
export async function commitBatch(
  db: pg.Pool,
  batch: WriteBatch,
  workerId: string | null,
): Promise<CommitBatchOutcome> {
  const bound = bindBatch(batch, workerId);
  const { rows } = await db.query<CommitRow>({
    name: 'braid_commit_batch',
    text: COMMIT_BATCH_SQL,
    values: bound.values,
  });
  const row = rows[0]!;
  return outcome(bound, row);
}

interface BoundBatch {
  values: unknown[];
  /** New run ids and their parents, in batch order. */
  newRunIds: string[];
  newRunParents: (string | null)[];
  eventRunIds: string[];
}

const TERMINAL_OR_PAUSED = new Set(['succeeded', 'failed', 'cancelled', 'timed_out', 'paused']);

function bindBatch(batch: WriteBatch, workerId: string | null): BoundBatch {
  const newRunIds = new Set<string>();
  for (const run of batch.newRuns) newRunIds.add(run.id);

  // The later update of a run wins; an update of a run new in this batch goes into its insert.
  const updates = new Map<string, RunUpdate>();
  for (const u of batch.runUpdates) updates.set(u.id, u);
  const newRunUpdates = new Map<string, RunUpdate>();
  for (const [id, u] of updates) {
    if (!newRunIds.has(id)) continue;
    newRunUpdates.set(id, u);
    updates.delete(id);
  }

  const runs = columns(21);
  const ids: string[] = [];
  const parents: (string | null)[] = [];
  for (const run of batch.newRuns) {
    const r: RunRecord = { ...run, ...pickUpdate(newRunUpdates.get(run.id)) };
    const isLocal = workerId !== null && batch.localRuns?.has(run.id) === true;
    const owner = isLocal && !TERMINAL_OR_PAUSED.has(r.status) ? workerId : null;
    push(runs, [
      r.id,
      r.workflow,
      r.version,
      r.status,
      r.input,
      r.output,
      r.error,
      r.globals,
      r.idempotencyKey,
      r.parentRunId,
      r.parentStep,
      r.spawnKey,
      r.rootRunId,
      r.concurrencyKey,
      r.replayOf,
      r.createdAt,
      r.startedAt,
      r.finishedAt,
      r.deadlineAt,
      r.checkpointSeq,
      owner,
    ]);
    ids.push(run.id);
    parents.push(run.parentRunId ?? null);
  }

  const runUpdates = columns(9);
  for (const u of updates.values()) {
    push(runUpdates, [
      u.id,
      u.status,
      u.output,
      u.error,
      u.startedAt,
      u.finishedAt,
      u.deadlineAt,
      u.globals,
      u.checkpointSeq,
    ]);
  }

  // The later record of a step wins (one upsert statement cannot touch a row twice).
  const latestSteps = new Map<string, StepRecord>();
  for (const s of batch.steps) latestSteps.set(`${s.runId}\u0000${s.name}`, s);
  const steps = columns(12);
  for (const s of latestSteps.values()) {
    push(steps, [
      s.runId,
      s.name,
      s.status,
      s.attempts,
      s.output,
      s.error,
      s.startedAt,
      s.finishedAt,
      s.nextAttemptAt,
      s.route,
      Boolean(s.cacheHit),
      Boolean(s.fallbackUsed),
    ]);
  }

  const events = columns(6);
  const eventRunIds: string[] = [];
  for (const e of batch.events) {
    push(events, [e.runId, e.step, e.type, e.at, e.attempt, e.data]);
    eventRunIds.push(e.runId);
  }

  const latestCache = new Map<string, CacheEntry>();
  for (const c of batch.cache) latestCache.set(c.key, c);
  const cache = columns(4);
  for (const c of latestCache.values()) push(cache, [c.key, c.output, c.createdAt, c.expiresAt]);

  // A run this batch writes itself is this worker's to change; a control for it would be a
  // second write of the same row in one statement.
  const latestControls = new Map<string, RunControl>();
  for (const c of batch.controls ?? []) {
    if (!newRunIds.has(c.runId) && !updates.has(c.runId) && !newRunUpdates.has(c.runId)) {
      latestControls.set(c.runId, c);
    }
  }
  const controls = columns(3);
  for (const c of latestControls.values()) push(controls, [c.runId, c.action, c.reason]);

  return {
    values: [
      workerId,
      workerId === null ? [] : touchedRuns(batch, newRunIds),
      ...runs,
      ...runUpdates,
      ...steps,
      ...events,
      ...cache,
      ...controls,
    ],
    newRunIds: ids,
    newRunParents: parents,
    eventRunIds,
  };
}

/** The existing runs the batch writes to, which this worker must own. */
function touchedRuns(batch: WriteBatch, newRunIds: ReadonlySet<string>): string[] {
  const touched = new Set<string>();
  for (const u of batch.runUpdates) touched.add(u.id);
  for (const s of batch.steps) touched.add(s.runId);
  for (const e of batch.events) touched.add(e.runId);
  for (const r of batch.newRuns) if (r.parentRunId) touched.add(r.parentRunId);
  for (const id of newRunIds) touched.delete(id);
  return [...touched];
}

function outcome(bound: BoundBatch, row: CommitRow): CommitBatchOutcome {
  const refused = new Set(row.refusedIds);
  const blocked = new Set(refused);
  for (let i = 0; i < bound.newRunIds.length; i++) {
    const parent = bound.newRunParents[i];
    if (parent !== null && parent !== undefined && refused.has(parent)) blocked.add(bound.newRunIds[i]!);
  }

  // An inserted id is claimed by its first copy in the batch; every other copy is a duplicate.
  const unclaimed = new Set(row.insertedIds);
  const duplicateRunIds: string[] = [];
  for (const id of bound.newRunIds) {
    if (blocked.has(id)) continue;
    if (unclaimed.has(id)) unclaimed.delete(id);
    else duplicateRunIds.push(id);
  }

  // Seqs come back ascending; the kept events were inserted in batch order.
  const seqs = new Array<number | undefined>(bound.eventRunIds.length);
  let next = 0;
  for (let i = 0; i < bound.eventRunIds.length; i++) {
    if (!blocked.has(bound.eventRunIds[i]!)) seqs[i] = row.seqs[next++];
  }
  return { duplicateRunIds, refusedRunIds: row.refusedIds, seqs };
}

function pickUpdate(u: RunUpdate | undefined): Partial<RunRecord> {
  if (!u) return {};
  const { status, output, error, startedAt, finishedAt, deadlineAt, globals, checkpointSeq } = u;
  return { status, output, error, startedAt, finishedAt, deadlineAt, globals, checkpointSeq };
}

/** `count` empty column arrays, one per `unnest` argument. */
function columns(count: number): unknown[][] {
  return Array.from({ length: count }, () => []);
}

function push(target: unknown[][], row: readonly unknown[]): void {
  for (let i = 0; i < row.length; i++) target[i]!.push(row[i] ?? null);
}
