import type pg from 'pg';
import { COMPACTABLE_EVENT_TYPES, type CompactionCounts } from '../../types.js';
import { inTransaction } from '../transaction.js';

/**
 * Bounds the event logs of unfinished runs (see the SQLite query of the same name for the rule):
 * up to `limit` unfinished runs with more than `max` events (runs_status_created_idx, then
 * events_run_seq_idx per run), each compacted in its own short transaction. Two workers compacting
 * the same run delete the same superseded events; the second finds fewer and deletes what is left
 * over the cap, which is never an event the rule keeps.
 */
export async function compactEvents(pool: pg.Pool, max: number, limit: number): Promise<CompactionCounts> {
  const { rows } = await pool.query<{ runId: string; n: string }>({
    name: 'braid_compact_over_cap',
    text: `SELECT r.id AS "runId", n.n FROM braid.runs r
             CROSS JOIN LATERAL (SELECT count(*) AS n FROM braid.events e WHERE e.run_id = r.id) n
            WHERE r.status IN ('queued', 'running', 'waiting', 'paused') AND n.n > $1
            LIMIT $2`,
    values: [max, limit],
  });
  let events = 0;
  for (const { runId, n } of rows) {
    events += await inTransaction(pool, async (client) => {
      const { rowCount } = await client.query({
        name: 'braid_compact_events',
        text: `DELETE FROM braid.events WHERE seq IN (
                 SELECT seq FROM (
                   SELECT seq, type,
                          row_number() OVER (PARTITION BY step ORDER BY seq) AS from_first,
                          row_number() OVER (PARTITION BY step ORDER BY seq DESC) AS from_last
                     FROM braid.events WHERE run_id = $1) e
                  WHERE from_first > 1 AND from_last > 1 AND type = ANY($2::text[])
                  ORDER BY seq LIMIT $3)`,
        values: [runId, COMPACTABLE_EVENT_TYPES, Number(n) - max],
      });
      return rowCount ?? 0;
    });
  }
  return { runs: rows.length, events };
}
