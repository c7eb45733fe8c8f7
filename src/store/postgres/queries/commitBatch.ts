import type pg from 'pg';
import type {
  CacheEntry,
  InboxEvent,
  InputResolution,
  RunControl,
  RunRecord,
  RunUpdate,
  StepRecord,
  StreamChunk,
  WaitRecord,
  WriteBatch,
} from '../../types.js';
import {
  CONTROL_CHANNEL,
  chunkedIds,
  EVENTS_CHANNEL,
  READY_CHANNEL,
  SETTLED_CHANNEL,
  SLOTS_CHANNEL,
  STREAMS_CHANNEL,
} from '../channels.js';
import { type DeliveredWaits, deliverWaits, readEarly, type WaitWrites, waitId } from '../deliverWaits.js';
import { RecordArrayLiteral } from '../recordLiteral.js';
import { inTransaction } from '../transaction.js';
import { insertForks } from './insertForks.js';
import { lockWaitKeys, type WaitLock, waitLocks } from './lockWaitKeys.js';
import { writeSchedules } from './writeSchedules.js';

/**
 * Writes one WriteBatch as ONE statement: data-modifying CTEs over `unnest`ed array parameters,
 * so a commit is one round trip and one implicit transaction however many records it holds
 * (a 10,000-child fan-out included). BEGIN + one statement per part + COMMIT would take 5-8 round
 * trips, at ~0.28 ms each on the 2-core test VM (embedded PostgreSQL 18, fsync on).
 *
 * Each part's records arrive as ONE array of a row type (`$n::braid.commit_step[]`, types in
 * 0011_commit_rows.sql, literals from recordLiteral.ts), not one array per column: PostgreSQL
 * materialises each `unnest` argument in a tuplestore of its own, with 16 kB of tuple pointers
 * however few rows it holds, so W3's statements built ~45 of them, and the memory a commit
 * allocated and freed grew past the point where the backend's allocator returns it to the kernel
 * and faults it back in on every commit (12-19 minor faults per W3 commit at 21 run columns, 52-82
 * at 24 and with the stale check). Replaying the same W3 batches (the same 250-row commits, one
 * connection) against the per-column statement, the backend's CPU per commit went from 1.11-1.53x
 * that of the code before the stale check and the waits columns to 0.91-1.02x of it; a server
 * started with glibc's trim and mmap thresholds raised showed the same gap closing (1.16 -> 1.02),
 * which is how the faults were found. Rejected: `json_to_recordset` (2-3x the CPU of `unnest` for
 * 250 steps: a hash table per row object) and `jsonb_to_recordset` (the same, jsonb parsing).
 *
 * The statement has only the parts the batch needs (statementFor): one variant per combination
 * of non-empty parts, each a named prepared statement, so each connection plans a variant a few
 * times and then keeps its generic plan (pg_prepared_statements showed 5 custom plans, then only
 * generic ones, for the W1 and W4 variants). Measured on the test VM: the one statement with
 * every part present, empty or not, cost ~2.8 ms for a 1-event commit, its variant ~0.8 ms.
 * Interleaved runs against the single statement (machine shared, so the CPU time is the steadier
 * figure): W4 p50 6.8-8.1 -> 3.4-5.2 ms, PostgreSQL CPU per W4 run 3.8-6.3 -> 2.5-3.3 ms, per
 * W1 run 0.24-0.26 -> 0.18-0.22 ms. Rejected:
 * `plan_cache_mode = force_generic_plan` (no measurable gain once the variants get generic
 * plans by themselves, and it can only be set per session, for every query on the pool).
 *
 * The statement, part by part:
 * - owned / refused / blocked: fencing, only with a worker id set. A run update is fenced by its
 *   own UPDATE (`owner_id` must still be this worker); the other existing runs the batch writes to
 *   (steps, events, parents of new children) are locked FOR NO KEY UPDATE when still owned by this
 *   worker. Either way PostgreSQL waits for a concurrent takeover and rechecks the new owner_id,
 *   so a late write cannot slip past it. The rest are refused, and every write of a refused run,
 *   or of a new child of one, is dropped. Fencing updates in the UPDATE itself saves a row lock
 *   (and its WAL record) per finished run: 761 -> 661 WAL records for a 50-run finishing batch
 *   together with the index and fillfactor changes of 0001_init.sql.
 *   The owner test stays a plain `=`: hiding it from the planner (`IS NOT DISTINCT FROM`, to force
 *   primary-key lookups) got generic plans with a sequential scan of runs, and 20-40 % more
 *   PostgreSQL CPU per W4 run.
 * - inserted_runs: new runs, in batch order; ON CONFLICT DO NOTHING skips a run whose id,
 *   idempotency key or (parent run, parent step, spawn key) exists (the first one wins).
 *   owner_id is bound per row (this worker for `localRuns`, else NULL: claimable).
 * - updated_runs: run updates by id. Reaching a terminal status clears owner_id (nobody holds a
 *   finished run) and requested_action; reaching `paused` clears requested_action only: the
 *   owner's running steps still commit, and the owner hands the run back once they have.
 *   A run that has ended is final: the UPDATE skips it, and `stale` reports it; like a refused run,
 *   its steps, events and new children are dropped (blocked).
 * - steps and cache: upserts; events: appended in batch order, so seqs rise in batch order.
 * - controlled: cancel / pause / resume requests for runs owned elsewhere, on unfinished runs
 *   (resume only of a paused run).
 * - freed_slots: a run's concurrency slots (holders with no worker) end with the run.
 * - The final SELECT returns what the caller needs and sends the notifications (ready, settled,
 *   control, slots, and one `braid_events` when events were appended), which PostgreSQL delivers
 *   only when the transaction commits.
 *
 * - upserted_waits: waits by (run, step, key), fenced and dropped for blocked runs like steps; a
 *   wait already settled is not written again (`WHERE status = 'pending'`: its first outcome
 *   stands), and the ones written come back so the others can be read as stored.
 * - inserted_inbox: events, in batch order; an idempotency key already recorded is skipped.
 *
 * A batch with waits, events or inputs is the one exception to "one statement": it also settles
 * what they settle (deliverWaits.ts), which takes reads and a compare-and-set after the writes, so
 * it runs in a transaction: lock the event names (lockWaitKeys.ts), this statement, then the
 * settling. Steps that only run, and their runs, never pay for it: W1/W4 batches have no waits.
 *
 * All CTEs see one snapshot, so a row must not be written by two of them: bindBatch folds an
 * update of a run created in the same batch into its insert, and drops controls for runs the
 * batch itself writes. Locks: FOR NO KEY UPDATE on the runs fenced without an update, row locks
 * of the written rows. Indexes: runs primary key and unique indexes, steps and cache primary
 * keys, semaphore_holders_holder_idx.
 */

const TERMINAL = `'succeeded', 'failed', 'cancelled', 'timed_out'`;

/** Which parts a batch needs; each part present adds its CTEs and its parameters. */
interface Parts {
  /** Fencing: a worker id is set and the batch writes to existing runs. */
  fence: boolean;
  /** Fencing of existing runs the batch writes to without updating them (steps, events, children). */
  lockOthers: boolean;
  newRuns: boolean;
  runUpdates: boolean;
  steps: boolean;
  events: boolean;
  cache: boolean;
  controls: boolean;
  waits: boolean;
  inbox: boolean;
  /** A `braid_events` notice for live event feeds; sent only while some process has one open. */
  eventNotice: boolean;
  /** Stream chunks (ctx.emit), appended like events, and dropped for blocked runs like them. */
  chunks: boolean;
  /** A `braid_streams` notice with the chunks' run ids, under the same rule as `eventNotice`. */
  chunkNotice: boolean;
}

const PART_ORDER = [
  'fence',
  'lockOthers',
  'newRuns',
  'runUpdates',
  'steps',
  'events',
  'cache',
  'controls',
  'waits',
  'inbox',
  'eventNotice',
  'chunks',
  'chunkNotice',
] as const;

interface Statement {
  name: string;
  text: string;
}

const statements = new Map<number, Statement>();

/** The statement for these parts, built once per process and prepared once per connection. */
function statementFor(parts: Parts): Statement {
  let key = 0;
  for (let i = 0; i < PART_ORDER.length; i++) if (parts[PART_ORDER[i]!]) key |= 1 << i;
  let statement = statements.get(key);
  if (!statement) {
    statement = { name: `braid_commit_batch_${key}`, text: commitBatchSql(parts) };
    statements.set(key, statement);
  }
  return statement;
}

/**
 * The text of one variant. Parameters are numbered in PART_ORDER (worker id, other touched runs,
 * new runs, updates, steps, events, cache, controls, waits, inbox), each present part taking its fixed number
 * of them, so a variant's text depends on its parts only and bindBatch pushes values in the same
 * order.
 */
function commitBatchSql(parts: Parts): string {
  let next = 1;
  /** The next parameter's placeholder: every part of the batch is one parameter. */
  const param = () => `$${next++}`;
  const ctes: string[] = [];
  const outputs: string[] = [];
  // Writes of a refused or stale run (or of a new child of one) are dropped. Only fencing refuses
  // and only run updates find stale runs: without either, nothing is dropped.
  const isBlocking = parts.fence || parts.runUpdates;
  const unlessBlocked = (column: string) =>
    isBlocking ? `NOT EXISTS (SELECT 1 FROM blocked b WHERE b.id = ${column})` : 'true';

  const workerId = parts.fence ? param() : '';
  const others = parts.lockOthers ? param() : '';
  if (parts.lockOthers) {
    ctes.push(`owned AS (
  SELECT id FROM braid.runs WHERE id = ANY(${others}::text[]) AND owner_id = ${workerId}::text
     FOR NO KEY UPDATE
)`);
  }
  if (parts.fence) outputs.push(`(SELECT coalesce(array_agg(id), '{}') FROM refused) AS "refusedIds"`);
  const newRuns = parts.newRuns ? param() : '';
  const updates = parts.runUpdates ? param() : '';
  if (parts.newRuns) {
    ctes.push(`new_run AS (
  SELECT * FROM unnest(${newRuns}::braid.commit_new_run[]) WITH ORDINALITY AS n
)`);
  }
  if (parts.runUpdates) {
    // Read twice (the UPDATE, skipped): materialised once, parsed once.
    ctes.push(`run_update AS (
  SELECT * FROM unnest(${updates}::braid.commit_run_update[])
)`);
    ctes.push(`updated_runs AS (
  UPDATE braid.runs r
     SET status = u.status, output = u.output, error = u.error, started_at = u.started_at,
         finished_at = u.finished_at, deadline_at = u.deadline_at, globals = u.globals,
         checkpoint_seq = u.checkpoint_seq, wake_at = u.wake_at, paused_at = u.paused_at,
         owner_id = CASE WHEN u.status IN (${TERMINAL}) THEN NULL ELSE r.owner_id END,
         requested_action = CASE WHEN u.status IN (${TERMINAL}, 'paused') THEN NULL ELSE r.requested_action END,
         requested_reason = CASE WHEN u.status IN (${TERMINAL}, 'paused') THEN NULL ELSE r.requested_reason END
    FROM run_update u
   WHERE r.id = u.id AND r.status NOT IN (${TERMINAL})${parts.fence ? ` AND r.owner_id = ${workerId}::text` : ''}
  RETURNING r.id, r.status
)`);
    // Skipped: the updates the UPDATE did not apply (almost always none). MATERIALIZED, so the
    // planner cannot push stale's lookup below the anti-join: inlined, it looked up every id of
    // the batch, not just the skipped ones (245 buffer hits for a 50-run finishing batch).
    // Stale: skipped runs that had already ended. Read from the statement's snapshot; a run another
    // transaction ends meanwhile fails the UPDATE's recheck, so without fencing every existing run
    // the UPDATE skipped is stale (with fencing such a run shows up as refused instead).
    // Each skipped id is looked up by its primary key in a scalar subquery, which the planner
    // cannot turn into a join: `runs.id = ANY($ids)` (and a join on the batch's ids) were planned
    // as scans of braid.runs once the prepared statement went generic, which halved one-step
    // runs/s and grew with the table.
    ctes.push(`skipped AS MATERIALIZED (
  SELECT t.id FROM run_update t WHERE NOT EXISTS (SELECT 1 FROM updated_runs x WHERE x.id = t.id)
)`);
    ctes.push(`stale AS (
  SELECT s.id FROM skipped s
   WHERE (SELECT r.status FROM braid.runs r WHERE r.id = s.id) ${parts.fence ? `IN (${TERMINAL})` : 'IS NOT NULL'}
)`);
    outputs.push(`(SELECT coalesce(array_agg(id), '{}') FROM stale) AS "staleIds"`);
  }
  if (parts.fence) {
    const refusedFrom = [
      ...(parts.lockOthers
        ? [
            `SELECT t.id FROM unnest(${others}::text[]) AS t(id) WHERE NOT EXISTS (SELECT 1 FROM owned o WHERE o.id = t.id)`,
          ]
        : []),
      ...(parts.runUpdates
        ? [`SELECT s.id FROM skipped s WHERE NOT EXISTS (SELECT 1 FROM stale x WHERE x.id = s.id)`]
        : []),
    ];
    ctes.push(`refused AS (
  ${refusedFrom.join('\n  UNION ALL\n  ')}
)`);
  }
  if (isBlocking) {
    const ended = [
      ...(parts.fence ? ['SELECT id FROM refused'] : []),
      ...(parts.runUpdates ? ['SELECT id FROM stale'] : []),
    ];
    ctes.push(`ended_or_refused AS (
  ${ended.join('\n  UNION ALL\n  ')}
)`);
    ctes.push(`blocked AS (
  SELECT id FROM ended_or_refused${
    parts.newRuns
      ? `
  UNION ALL
  SELECT n.id FROM new_run n JOIN ended_or_refused r ON r.id = n.parent_run_id`
      : ''
  }
)`);
  }
  if (parts.newRuns) {
    ctes.push(`inserted_runs AS (
  INSERT INTO braid.runs (id, workflow, version, status, input, output, error, globals, idempotency_key,
                          parent_run_id, parent_step, spawn_key, root_run_id, concurrency_key, replay_of,
                          created_at, started_at, finished_at, deadline_at, checkpoint_seq, owner_id,
                          wake_at, paused_at, priority)
  SELECT id, workflow, version, status, input, output, error, globals, idempotency_key,
         parent_run_id, parent_step, spawn_key, root_run_id, concurrency_key, replay_of,
         created_at, started_at, finished_at, deadline_at, checkpoint_seq, owner_id, wake_at, paused_at, priority
    FROM new_run n
   WHERE ${unlessBlocked('n.id')}
   ORDER BY n.ordinality
  ON CONFLICT DO NOTHING
  RETURNING id, status, owner_id
)`);
    outputs.push(`(SELECT coalesce(array_agg(id), '{}') FROM inserted_runs) AS "insertedIds"`);
  }
  if (parts.steps) {
    const p = param();
    ctes.push(`upserted_steps AS (
  INSERT INTO braid.steps (run_id, name, status, attempts, output, error, started_at, finished_at,
                           next_attempt_at, route, cache_hit, fallback_used)
  SELECT s.* FROM unnest(${p}::braid.commit_step[]) AS s
   WHERE ${unlessBlocked('s.run_id')}
  ON CONFLICT (run_id, name) DO UPDATE SET
    status = excluded.status, attempts = excluded.attempts, output = excluded.output, error = excluded.error,
    started_at = excluded.started_at, finished_at = excluded.finished_at,
    next_attempt_at = excluded.next_attempt_at, route = excluded.route, cache_hit = excluded.cache_hit,
    fallback_used = excluded.fallback_used
)`);
  }
  if (parts.events) {
    const p = param();
    ctes.push(`inserted_events AS (
  INSERT INTO braid.events (run_id, step, type, at, attempt, data)
  SELECT e.run_id, e.step, e.type, e.at, e.attempt, e.data
    FROM unnest(${p}::braid.commit_event[]) WITH ORDINALITY AS e
   WHERE ${unlessBlocked('e.run_id')}
   ORDER BY e.ordinality
  RETURNING seq
)`);
    outputs.push(`(SELECT coalesce(array_agg(seq ORDER BY seq), '{}') FROM inserted_events) AS seqs`);
    // One notice per commit: other processes' event feeds read the new events from the store.
    // Only while a feed is open somewhere: every notice wakes every listening connection.
    if (parts.eventNotice) {
      outputs.push(
        `(SELECT count(pg_notify('${EVENTS_CHANNEL}', '')) FROM (SELECT 1 FROM inserted_events LIMIT 1) AS appended)
     AS "eventNotices"`,
      );
    }
  }
  if (parts.cache) {
    const p = param();
    ctes.push(`upserted_cache AS (
  INSERT INTO braid.cache (key, output, created_at, expires_at)
  SELECT * FROM unnest(${p}::braid.commit_cache_entry[])
  ON CONFLICT (key) DO UPDATE SET
    output = excluded.output, created_at = excluded.created_at, expires_at = excluded.expires_at
)`);
  }
  if (parts.controls) {
    const p = param();
    ctes.push(`controlled AS (
  UPDATE braid.runs r SET requested_action = c.action, requested_reason = c.reason
    FROM unnest(${p}::braid.commit_control[]) AS c
   WHERE r.id = c.id AND r.status NOT IN (${TERMINAL}) AND (c.action <> 'resume' OR r.status = 'paused')
  RETURNING r.id, r.owner_id
)`);
    outputs.push(`(SELECT count(pg_notify('${CONTROL_CHANNEL}', ids))
     FROM (${chunkedIds('(SELECT id FROM controlled WHERE owner_id IS NOT NULL) AS owned_controls')}) AS chunks)
     AS "controlNotices"`);
  }
  if (parts.waits) {
    const p = param();
    ctes.push(`upserted_waits AS (
  INSERT INTO braid.waits (run_id, step, key, grp, kind, status, due_at, name, event_key, match, since, after_seq, request,
                           value, created_at, resolved_at)
  SELECT w.* FROM unnest(${p}::braid.commit_wait[]) AS w
   WHERE ${unlessBlocked('w.run_id')}
  ON CONFLICT (run_id, step, key) DO UPDATE SET
    status = excluded.status, due_at = excluded.due_at, value = excluded.value, resolved_at = excluded.resolved_at,
    since = excluded.since, after_seq = excluded.after_seq, request = excluded.request
   WHERE braid.waits.status = 'pending'
  RETURNING run_id, step, key
)`);
    outputs.push(
      `(SELECT coalesce(json_agg(json_build_array(run_id, step, key)), '[]') FROM upserted_waits) AS "writtenWaits"`,
    );
  }
  if (parts.inbox) {
    const p = param();
    ctes.push(`inserted_inbox AS (
  INSERT INTO braid.inbox (name, key, payload, idempotency_key, created_at)
  SELECT i.name, i.key, i.payload, i.idempotency_key, i.created_at
    FROM unnest(${p}::braid.commit_inbox_event[]) WITH ORDINALITY AS i
   ORDER BY i.ordinality
  ON CONFLICT DO NOTHING
  RETURNING seq, idempotency_key
)`);
    outputs.push(
      `(SELECT coalesce(json_agg(json_build_array(seq, idempotency_key) ORDER BY seq), '[]') FROM inserted_inbox)
     AS "insertedInbox"`,
    );
  }
  if (parts.chunks) {
    const p = param();
    ctes.push(`inserted_chunks AS (
  INSERT INTO braid.stream_chunks (run_id, step, stream, attempt, data, at)
  SELECT c.run_id, c.step, c.stream, c.attempt, c.data, c.at
    FROM unnest(${p}::braid.commit_stream_chunk[]) WITH ORDINALITY AS c
   WHERE ${unlessBlocked('c.run_id')}
   ORDER BY c.ordinality
  RETURNING seq, run_id
)`);
    outputs.push(`(SELECT coalesce(array_agg(seq ORDER BY seq), '{}') FROM inserted_chunks) AS "chunkSeqs"`);
    if (parts.chunkNotice) {
      outputs.push(`(SELECT count(pg_notify('${STREAMS_CHANNEL}', ids))
     FROM (${chunkedIds('(SELECT DISTINCT run_id AS id FROM inserted_chunks) AS chunk_runs')}) AS chunks)
     AS "chunkNotices"`);
    }
  }
  const claimable = [
    ...(parts.newRuns
      ? [`SELECT 1 FROM inserted_runs WHERE owner_id IS NULL AND status IN ('queued', 'running', 'waiting')`]
      : []),
    ...(parts.controls ? ['SELECT 1 FROM controlled WHERE owner_id IS NULL'] : []),
  ];
  if (claimable.length) {
    outputs.push(`(SELECT count(pg_notify('${READY_CHANNEL}', '')) FROM (
     SELECT 1 FROM (${claimable.join(' UNION ALL ')}) AS claimable LIMIT 1) AS ready) AS "readyNotices"`);
  }
  const settledFrom = [
    ...(parts.runUpdates ? [`SELECT id, status FROM updated_runs WHERE status IN (${TERMINAL}, 'paused')`] : []),
    ...(parts.newRuns ? [`SELECT id, status FROM inserted_runs WHERE status IN (${TERMINAL}, 'paused')`] : []),
  ];
  if (settledFrom.length) {
    ctes.push(
      `settled AS (
  ${settledFrom.join('\n  UNION ALL\n  ')}
)`,
      `freed_slots AS (
  DELETE FROM braid.semaphore_holders h USING settled s
   WHERE h.holder = s.id AND s.status <> 'paused' AND h.worker_id IS NULL
  RETURNING h.name
)`,
    );
    outputs.push(
      `(SELECT count(pg_notify('${SETTLED_CHANNEL}', ids)) FROM (${chunkedIds('settled')}) AS chunks) AS "settledNotices"`,
      `(SELECT count(pg_notify('${SLOTS_CHANNEL}', name)) FROM (SELECT DISTINCT name FROM freed_slots) AS names)
     AS "slotNotices"`,
    );
  }
  if (!outputs.length) outputs.push('true AS "done"');
  return `WITH ${ctes.join(', ')}
SELECT ${outputs.join(',\n  ')}`;
}

export interface CommitBatchOutcome {
  /** New runs not inserted because their id or idempotency identity already existed. */
  duplicateRunIds: string[];
  /** Runs this worker no longer owns: none of their writes landed. */
  refusedRunIds: string[];
  /** Updated runs that had already ended: none of their writes landed. */
  staleRunIds: string[];
  /** The seq of each event of the batch, by index; undefined for the events of refused runs. */
  seqs: (number | undefined)[];
  /** What the batch's waits, events and inputs settled (a batch with none has none). */
  waits?: DeliveredWaits;
  /** The seq of each stream chunk of the batch, by index; undefined for those of refused runs. */
  chunkSeqs?: (number | undefined)[];
}

interface CommitRow {
  insertedIds: string[];
  refusedIds: string[];
  staleIds: string[];
  seqs: number[];
  /** [run id, step, key] of each wait the upsert wrote. */
  writtenWaits: Array<[string, string, string]>;
  /** [seq, idempotency key] of each event the inbox took, in seq order. */
  insertedInbox: Array<[number, string | null]>;
  chunkSeqs: number[];
}

/**
 * Commits the batch. Everything is read from the batch synchronously, before the first await:
 * the engine goes on changing its live records once this yields.
 */
export async function commitBatch(
  db: pg.Pool,
  batch: WriteBatch,
  workerId: string | null,
  noticeEvents = true,
): Promise<CommitBatchOutcome> {
  const bound = bindBatch(batch, workerId, noticeEvents);
  const waits = bound.waits;
  const forks = batch.forks?.length ? batch.forks : undefined;
  const schedules = batch.schedules?.length ? batch.schedules : undefined;
  if (!waits && !forks && !schedules) {
    if (!bound.values.length) return { duplicateRunIds: [], refusedRunIds: [], staleRunIds: [], seqs: [] };
    const { rows } = await db.query<Partial<CommitRow>>({ ...bound.statement, values: bound.values });
    return outcome(bound, rows[0]!).result;
  }
  return inTransaction(db, async (client, commit) => {
    // First: a tick's schedule write that no longer applies throws, and nothing of the batch lands.
    if (schedules) await writeSchedules(client, schedules);
    // The wait keys are locked before the batch is written, and an event's read follows it (see
    // readEarly): sent together (pipelined), run in this order.
    const [, written, early] = await Promise.all([
      waits ? lockWaitKeys(client, waits.locks) : undefined,
      bound.values.length ? client.query<Partial<CommitRow>>({ ...bound.statement, values: bound.values }) : undefined,
      waits ? readEarly(client, waits.writes) : undefined,
    ]);
    const row: Partial<CommitRow> = written?.rows[0] ?? {};
    const { result, blocked } = outcome(bound, row);
    // A fork's link lands with its run and its reused steps, in this transaction (rare: a batch
    // without a fork keeps its one statement).
    if (forks) await insertForks(client, forks, row.insertedIds ?? []);
    if (!waits) return result;
    result.waits = await deliverWaits(
      client,
      waits.writes,
      {
        waits: new Set((row.writtenWaits ?? []).map(([runId, step, key]) => waitId({ runId, step, key }))),
        blocked,
        inserted: row.insertedInbox ?? [],
      },
      early,
      // The last statements of the transaction: COMMIT goes out with them.
      commit,
    );
    return result;
  });
}

/** A batch's waits, events and inputs, and the locks they need (see lockWaitKeys.ts). */
interface BoundWaits {
  writes: WaitWrites;
  locks: WaitLock[];
}

interface BoundBatch {
  statement: Statement;
  values: unknown[];
  /** New run ids and their parents, in batch order. */
  newRunIds: string[];
  newRunParents: (string | null)[];
  eventRunIds: string[];
  /** The run of each stream chunk, in batch order. */
  chunkRunIds: string[];
  /** Set when the batch has waits, events or inputs: it commits in a transaction. */
  waits: BoundWaits | undefined;
}

const TERMINAL_OR_PAUSED = new Set(['succeeded', 'failed', 'cancelled', 'timed_out', 'paused']);

function bindBatch(batch: WriteBatch, workerId: string | null, noticeEvents: boolean): BoundBatch {
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

  const runs = new RecordArrayLiteral();
  const ids: string[] = [];
  const parents: (string | null)[] = [];
  for (const run of batch.newRuns) {
    const r: RunRecord = { ...run, ...pickUpdate(newRunUpdates.get(run.id)) };
    const isLocal = workerId !== null && batch.localRuns?.has(run.id) === true;
    const owner = isLocal && !TERMINAL_OR_PAUSED.has(r.status) ? workerId : null;
    runs.add([
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
      r.wakeAt,
      r.pausedAt,
      r.priority ?? 0,
    ]);
    ids.push(run.id);
    parents.push(run.parentRunId ?? null);
  }

  const runUpdates = new RecordArrayLiteral();
  for (const u of updates.values()) {
    runUpdates.add([
      u.id,
      u.status,
      u.output,
      u.error,
      u.startedAt,
      u.finishedAt,
      u.deadlineAt,
      u.globals,
      u.checkpointSeq,
      u.wakeAt,
      u.pausedAt,
    ]);
  }

  // The later record of a step wins (one upsert statement cannot touch a row twice).
  const latestSteps = new Map<string, StepRecord>();
  for (const s of batch.steps) latestSteps.set(`${s.runId}\u0000${s.name}`, s);
  const steps = new RecordArrayLiteral();
  for (const s of latestSteps.values()) {
    steps.add([
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

  const events = new RecordArrayLiteral();
  const eventRunIds: string[] = [];
  for (const e of batch.events) {
    events.add([e.runId, e.step, e.type, e.at, e.attempt, e.data]);
    eventRunIds.push(e.runId);
  }

  const latestCache = new Map<string, CacheEntry>();
  for (const c of batch.cache) latestCache.set(c.key, c);
  const cache = new RecordArrayLiteral();
  for (const c of latestCache.values()) cache.add([c.key, c.output, c.createdAt, c.expiresAt]);

  // A run this batch writes itself is this worker's to change; a control for it would be a
  // second write of the same row in one statement.
  const latestControls = new Map<string, RunControl>();
  for (const c of batch.controls ?? []) {
    if (!newRunIds.has(c.runId) && !updates.has(c.runId) && !newRunUpdates.has(c.runId)) {
      latestControls.set(c.runId, c);
    }
  }
  const controls = new RecordArrayLiteral();
  for (const c of latestControls.values()) controls.add([c.runId, c.action, c.reason]);

  const bound = bindWaits(batch);
  const waits = new RecordArrayLiteral();
  const inbox = new RecordArrayLiteral();
  if (bound) {
    for (const w of bound.writes.waits) {
      waits.add([
        w.runId,
        w.step,
        w.key,
        w.group,
        w.kind,
        w.status,
        w.dueAt,
        w.name,
        w.eventKey,
        w.match,
        w.since,
        w.afterSeq,
        w.request,
        w.value,
        w.createdAt,
        w.resolvedAt,
      ]);
    }
    for (const { copy: e, firstIndex } of bound.writes.inbox) {
      if (firstIndex === null) inbox.add([e.name, e.key, e.payload, e.idempotencyKey, e.createdAt]);
    }
  }

  const chunks = new RecordArrayLiteral();
  const chunkRunIds: string[] = [];
  for (const c of batch.chunks ?? ([] as StreamChunk[])) {
    chunks.add([c.runId, c.step, c.stream, c.attempt, c.data, c.at]);
    chunkRunIds.push(c.runId);
  }

  // Updated runs are fenced by their UPDATE (WHERE owner_id = this worker); only the other existing
  // runs the batch writes to need a lock of their own.
  const others = workerId === null ? [] : otherTouchedRuns(batch, newRunIds, updates);
  const parts: Parts = {
    fence: workerId !== null && (others.length > 0 || updates.size > 0),
    lockOthers: others.length > 0,
    newRuns: ids.length > 0,
    runUpdates: updates.size > 0,
    steps: latestSteps.size > 0,
    events: eventRunIds.length > 0,
    cache: latestCache.size > 0,
    controls: latestControls.size > 0,
    waits: (bound?.writes.waits.length ?? 0) > 0,
    inbox: inbox.size > 0,
    eventNotice: noticeEvents && eventRunIds.length > 0,
    chunks: chunkRunIds.length > 0,
    chunkNotice: noticeEvents && chunkRunIds.length > 0,
  };
  // In PART_ORDER, as commitBatchSql numbers them.
  const values: unknown[] = [];
  if (parts.fence) values.push(workerId);
  if (parts.lockOthers) values.push(others);
  if (parts.newRuns) values.push(runs.toString());
  if (parts.runUpdates) values.push(runUpdates.toString());
  if (parts.steps) values.push(steps.toString());
  if (parts.events) values.push(events.toString());
  if (parts.cache) values.push(cache.toString());
  if (parts.controls) values.push(controls.toString());
  if (parts.waits) values.push(waits.toString());
  if (parts.inbox) values.push(inbox.toString());
  if (parts.chunks) values.push(chunks.toString());
  return {
    statement: statementFor(parts),
    values,
    newRunIds: ids,
    newRunParents: parents,
    eventRunIds,
    chunkRunIds,
    waits: bound,
  };
}

/** Copies of the batch's waits (the later record of one wait wins), events and inputs, or undefined. */
function bindWaits(batch: WriteBatch): BoundWaits | undefined {
  if (!batch.waits?.length && !batch.inbox?.length && !batch.inputs?.length) return undefined;
  const latest = new Map<string, WaitRecord>();
  for (const w of batch.waits ?? []) latest.set(waitId(w), { ...w });
  // A repeat of an idempotency key within the batch is a duplicate of its first.
  const firstOfKey = new Map<string, number>();
  const inbox = (batch.inbox ?? []).map((event: InboxEvent, i) => {
    const key = event.idempotencyKey;
    const firstIndex = key === null ? null : (firstOfKey.get(key) ?? null);
    if (key !== null && firstIndex === null) firstOfKey.set(key, i);
    return { event, copy: { ...event }, firstIndex };
  });
  const inputs = (batch.inputs ?? []).map((input: InputResolution) => ({ input, copy: { ...input } }));
  const waits = [...latest.values()];
  const registering = waits.filter((w) => w.kind === 'event' && w.status === 'pending' && w.name !== null);
  return {
    writes: { waits, inbox, inputs },
    locks: waitLocks(
      inbox.map((i) => i.copy),
      registering.map((w) => ({ name: w.name as string, eventKey: w.eventKey })),
      [...new Set(inputs.map((i) => i.copy.runId))],
    ),
  };
}

/** The existing runs the batch writes to without updating them, which this worker must own. */
function otherTouchedRuns(
  batch: WriteBatch,
  newRunIds: ReadonlySet<string>,
  updates: ReadonlyMap<string, RunUpdate>,
): string[] {
  const touched = new Set<string>();
  for (const s of batch.steps) touched.add(s.runId);
  for (const e of batch.events) touched.add(e.runId);
  for (const r of batch.newRuns) if (r.parentRunId) touched.add(r.parentRunId);
  for (const w of batch.waits ?? []) touched.add(w.runId);
  for (const c of batch.chunks ?? []) touched.add(c.runId);
  for (const id of newRunIds) touched.delete(id);
  for (const id of updates.keys()) touched.delete(id);
  return [...touched];
}

function outcome(bound: BoundBatch, row: Partial<CommitRow>): { result: CommitBatchOutcome; blocked: Set<string> } {
  const refusedIds = row.refusedIds ?? [];
  const staleIds = row.staleIds ?? [];
  const insertedIds = row.insertedIds ?? [];
  const rowSeqs = row.seqs ?? [];
  const refused = new Set([...refusedIds, ...staleIds]);
  const blocked = new Set(refused);
  for (let i = 0; i < bound.newRunIds.length; i++) {
    const parent = bound.newRunParents[i];
    if (parent !== null && parent !== undefined && refused.has(parent)) blocked.add(bound.newRunIds[i]!);
  }

  // An inserted id is claimed by its first copy in the batch; every other copy is a duplicate.
  const unclaimed = new Set(insertedIds);
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
    if (!blocked.has(bound.eventRunIds[i]!)) seqs[i] = rowSeqs[next++];
  }
  const result: CommitBatchOutcome = { duplicateRunIds, refusedRunIds: refusedIds, staleRunIds: staleIds, seqs };
  if (bound.chunkRunIds.length) {
    // Like events: the kept chunks were inserted in batch order and their seqs come back ascending.
    const rowChunkSeqs = row.chunkSeqs ?? [];
    const chunkSeqs = new Array<number | undefined>(bound.chunkRunIds.length);
    let nextChunk = 0;
    for (let i = 0; i < bound.chunkRunIds.length; i++) {
      if (!blocked.has(bound.chunkRunIds[i]!)) chunkSeqs[i] = rowChunkSeqs[nextChunk++];
    }
    result.chunkSeqs = chunkSeqs;
  }
  return { result, blocked };
}

function pickUpdate(u: RunUpdate | undefined): Partial<RunRecord> {
  if (!u) return {};
  const { status, output, error, startedAt, finishedAt, deadlineAt, globals, checkpointSeq, wakeAt, pausedAt } = u;
  return { status, output, error, startedAt, finishedAt, deadlineAt, globals, checkpointSeq, wakeAt, pausedAt };
}
