import type pg from 'pg';
import type { InboxEvent, WaitRecord } from '../../types.js';
import { DATABASE_NOW_MS } from '../databaseClock.js';
import { WAIT_COLUMNS } from './getWaits.js';

/** How many events one look-back reads at a time (the first that matches wins; most waits take the first). */
export const LOOK_BACK_PAGE = 50;

export interface WaitKey {
  runId: string;
  step: string;
  key: string;
}

/**
 * A new pending event wait looking back in the inbox: events of its name (and key) after
 * (`afterCreatedAt`, `afterSeq`) in (created_at, seq) order. The first page starts at the wait's
 * `since` (afterSeq 0 takes every event created at `since` itself); the next, after the last read.
 */
export interface LookBack {
  /** The caller's index for this wait. */
  index: number;
  name: string;
  afterCreatedAt: number;
  eventKey: string | null;
  afterSeq: number;
  /** Only events after this seq (a later wait of the same step skips what an earlier one took). */
  minSeq: number;
}

export interface WaitCandidatesQuery {
  /** Waits of the batch the upsert refused (already settled): read back as stored. */
  refused: readonly WaitKey[];
  /** Idempotency keys of events the inbox already had: the seq each was recorded with. */
  duplicateKeys: readonly string[];
  lookBacks: readonly LookBack[];
  /** New events (name and key): the pending event waits that may match them. */
  events: ReadonlyArray<{ name: string; key: string | null }>;
  /** (run, input name) pairs given values: the pending inputs they may resolve. */
  inputs: ReadonlyArray<{ runId: string; name: string }>;
}

export interface WaitCandidates {
  /** The database's clock (epoch ms): when the commit settles what it settles. */
  now: number;
  stored: WaitRecord[];
  duplicateSeqs: Array<{ key: string; seq: number }>;
  /** Up to LOOK_BACK_PAGE events per look-back, oldest first. */
  lookedBack: Array<{ index: number; event: Required<InboxEvent> }>;
  /** Pending event waits for the new events' names (and keys); matched in JS (waitMatching.ts). */
  pending: WaitRecord[];
  /** Pending inputs of the given runs and names. */
  asked: WaitRecord[];
}

/**
 * Everything a commit with waits, events or inputs must read to settle them, in one round trip,
 * after the batch's own waits and events are written and (lockWaitKeys) the event names locked:
 * stored waits the batch lost to, seqs of duplicate events, the look-back of new event waits, the
 * pending waits new events may resolve, and the pending inputs values were given for. Candidates
 * are narrowed here by name and key; the full rule (fields, look-back) is applied in JS.
 * Indexes: the waits primary key; waits_pending_event_idx (name, event_key) as two short ranges,
 * one for waits of the event's key and one for waits of any key; waits_pending_input_idx;
 * inbox_name_key_created_idx / inbox_name_created_idx for a look-back with / without a key, read
 * in index order and cut at a page. So a look-back takes the earliest event sent (by `created_at`,
 * then seq), where SQLite takes the lowest seq: the same event unless senders' clocks disagree. In
 * seq order the planner had to sort every event of the name since the look-back, or (its pick for
 * a name most events have) scan the whole inbox in seq order, as EXPLAIN showed on 100,000 events;
 * inbox_idempotency_key_idx.
 */
export async function readWaitCandidates(client: pg.PoolClient, q: WaitCandidatesQuery): Promise<WaitCandidates> {
  if (readsPendingEventWaitsOnly(q)) return readPendingEventWaits(client, q.events);
  const { rows } = await client.query<WaitCandidates>({
    name: 'braid_read_wait_candidates',
    text: `WITH stored AS (
             SELECT ${WAIT_COLUMNS} FROM braid.waits
              WHERE (run_id, step, key) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))
           ), duplicates AS (
             SELECT idempotency_key AS key, seq FROM braid.inbox WHERE idempotency_key = ANY($4::text[])
           ), looked_back AS (
             SELECT l.idx AS index,
                    json_build_object('seq', e.seq, 'name', e.name, 'key', e.key, 'payload', e.payload,
                                      'idempotencyKey', e.idempotency_key, 'createdAt', e.created_at) AS event
               FROM unnest($5::integer[], $6::text[], $7::bigint[], $8::text[], $9::bigint[], $14::bigint[])
                    AS l(idx, name, after_created_at, event_key, after_seq, min_seq)
              CROSS JOIN LATERAL (
                (SELECT * FROM braid.inbox i
                  WHERE l.event_key IS NOT NULL AND i.name = l.name AND i.key = l.event_key
                    AND (i.created_at, i.seq) > (l.after_created_at, l.after_seq) AND i.seq > l.min_seq
                  ORDER BY i.created_at, i.seq LIMIT ${LOOK_BACK_PAGE})
                UNION ALL
                (SELECT * FROM braid.inbox i
                  WHERE l.event_key IS NULL AND i.name = l.name
                    AND (i.created_at, i.seq) > (l.after_created_at, l.after_seq) AND i.seq > l.min_seq
                  ORDER BY i.created_at, i.seq LIMIT ${LOOK_BACK_PAGE})
              ) AS e
           ), pending AS (
             SELECT ${WAIT_COLUMNS} FROM braid.waits
              WHERE status = 'pending' AND kind = 'event'
                AND (name, event_key) IN (SELECT * FROM unnest($10::text[], $11::text[]) AS e(name, key) WHERE key IS NOT NULL)
             UNION ALL
             SELECT ${WAIT_COLUMNS} FROM braid.waits
              WHERE status = 'pending' AND kind = 'event' AND event_key IS NULL AND name = ANY($10::text[])
           ), asked AS (
             SELECT ${WAIT_COLUMNS} FROM braid.waits
              WHERE status = 'pending' AND kind = 'input'
                AND (run_id, name) IN (SELECT * FROM unnest($12::text[], $13::text[]))
           )
           SELECT ${DATABASE_NOW_MS} AS now,
                  (SELECT coalesce(json_agg(x), '[]') FROM stored x) AS stored,
                  (SELECT coalesce(json_agg(x), '[]') FROM duplicates x) AS "duplicateSeqs",
                  (SELECT coalesce(json_agg(x), '[]') FROM looked_back x) AS "lookedBack",
                  (SELECT coalesce(json_agg(x), '[]') FROM pending x) AS pending,
                  (SELECT coalesce(json_agg(x), '[]') FROM asked x) AS asked`,
    values: [
      q.refused.map((w) => w.runId),
      q.refused.map((w) => w.step),
      q.refused.map((w) => w.key),
      q.duplicateKeys,
      q.lookBacks.map((l) => l.index),
      q.lookBacks.map((l) => l.name),
      q.lookBacks.map((l) => l.afterCreatedAt),
      q.lookBacks.map((l) => l.eventKey),
      q.lookBacks.map((l) => l.afterSeq),
      q.events.map((e) => e.name),
      q.events.map((e) => e.key),
      q.inputs.map((i) => i.runId),
      q.inputs.map((i) => i.name),
      q.lookBacks.map((l) => l.minSeq),
    ],
  });
  return rows[0] as WaitCandidates;
}

const PENDING_EVENT_WAITS = `
             SELECT ${WAIT_COLUMNS} FROM braid.waits
              WHERE status = 'pending' AND kind = 'event'
                AND (name, event_key) IN (SELECT * FROM unnest($1::text[], $2::text[]) AS e(name, key) WHERE key IS NOT NULL)
             UNION ALL
             SELECT ${WAIT_COLUMNS} FROM braid.waits
              WHERE status = 'pending' AND kind = 'event' AND event_key IS NULL AND name = ANY($1::text[])`;

/** Whether `q` needs only the pending event waits of its events (readPendingEventWaits). */
export function readsPendingEventWaitsOnly(q: WaitCandidatesQuery): boolean {
  return !q.refused.length && !q.duplicateKeys.length && !q.lookBacks.length && !q.inputs.length;
}

/**
 * The commonest case alone, sendEvent: a batch of new events and nothing else to read. The same
 * `pending` part as above in a statement of its own: the full one costs ~1.4 ms a commit even
 * with its other parts empty (its generic plan still runs them), this one ~0.4 ms, on the 2-core
 * test VM: a third of what an event's commit costs besides its COMMIT. commitBatch sends it with
 * the batch's statement when it is likely to be all the commit reads (see deliverWaits).
 */
export async function readPendingEventWaits(
  client: pg.PoolClient,
  events: ReadonlyArray<{ name: string; key: string | null }>,
): Promise<WaitCandidates> {
  const { rows } = await client.query<{ now: number; pending: WaitRecord[] }>({
    name: 'braid_read_pending_event_waits',
    text: `SELECT ${DATABASE_NOW_MS} AS now,
                  (SELECT coalesce(json_agg(x), '[]') FROM (${PENDING_EVENT_WAITS}) x) AS pending`,
    values: [events.map((e) => e.name), events.map((e) => e.key)],
  });
  const row = rows[0] as { now: number; pending: WaitRecord[] };
  return { now: row.now, pending: row.pending, stored: [], duplicateSeqs: [], lookedBack: [], asked: [] };
}
