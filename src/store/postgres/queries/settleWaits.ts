import type pg from 'pg';
import type { WaitRecord } from '../../types.js';
import { chunkedIds, READY_CHANNEL, WAITS_CHANNEL } from '../channels.js';
import { WAIT_COLUMNS } from './getWaits.js';

/** A wait to resolve: what resolves it (the event as the step receives it, or the input's value) and when. */
export interface Resolution {
  runId: string;
  step: string;
  key: string;
  value: string;
  at: number;
}

export interface SettledWaits {
  /** The resolutions that landed (the wait was still pending), as stored. */
  resolved: WaitRecord[];
  /** The other waits of their groups, cancelled with them. */
  cancelled: WaitRecord[];
}

/**
 * Resolves waits with a compare-and-set (`status = 'pending'`: a wait is settled once, whichever
 * of its event, its time, its input or a cancel comes first), cancels the rest of each resolved
 * wait's group, and makes the runs act on it: a run asleep out of memory gets `wake_at = now` (by
 * the database's clock), so the next claim takes it; the owner of a run held in memory hears it on
 * braid_waits (and reads the run's settled waits); an unowned run due now is announced on
 * braid_ready. Notifications go out at COMMIT. The runs are locked already (lockRunsOfWaits), so
 * the owners read here are final. Indexes: the waits primary key, runs primary key.
 */
export async function settleWaits(
  client: pg.PoolClient,
  resolutions: readonly Resolution[],
  now: number,
): Promise<SettledWaits> {
  if (!resolutions.length) return { resolved: [], cancelled: [] };
  const { rows } = await client.query<SettledWaits>({
    name: 'braid_settle_waits',
    text: `WITH s AS (
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[])
                      AS s(run_id, step, key, value, resolved_at)
           ), resolved AS (
             UPDATE braid.waits w SET status = 'resolved', value = s.value, resolved_at = s.resolved_at
               FROM s
              WHERE w.run_id = s.run_id AND w.step = s.step AND w.key = s.key AND w.status = 'pending'
             RETURNING w.*
           ), cancelled AS (
             UPDATE braid.waits o SET status = 'cancelled', value = NULL, resolved_at = r.resolved_at
               FROM resolved r
              WHERE o.run_id = r.run_id AND o.step = r.step AND o.grp = r.grp AND o.key <> r.key
                AND o.status = 'pending'
             RETURNING o.*
           ), woken AS (
             UPDATE braid.runs r SET wake_at = $6
              WHERE r.id IN (SELECT run_id FROM resolved) AND r.wake_at > $6
             RETURNING r.id
           ), runs_of AS (
             SELECT r.id, r.owner_id, r.status FROM braid.runs r WHERE r.id IN (SELECT run_id FROM resolved)
           )
           SELECT (SELECT coalesce(json_agg(x), '[]') FROM (SELECT ${WAIT_COLUMNS} FROM resolved) x) AS resolved,
                  (SELECT coalesce(json_agg(x), '[]') FROM (SELECT ${WAIT_COLUMNS} FROM cancelled) x) AS cancelled,
                  (SELECT count(*) FROM woken) AS woken,
                  (SELECT count(pg_notify('${WAITS_CHANNEL}', ids))
                     FROM (${chunkedIds('(SELECT id FROM runs_of WHERE owner_id IS NOT NULL) AS owned')}) AS chunks)
                    AS "waitNotices",
                  (SELECT count(pg_notify('${READY_CHANNEL}', '')) FROM (
                     SELECT 1 FROM runs_of WHERE owner_id IS NULL AND status IN ('queued', 'running', 'waiting')
                      LIMIT 1) AS due) AS "readyNotices"`,
    values: [
      resolutions.map((r) => r.runId),
      resolutions.map((r) => r.step),
      resolutions.map((r) => r.key),
      resolutions.map((r) => r.value),
      resolutions.map((r) => r.at),
      now,
    ],
  });
  return rows[0] as SettledWaits;
}
