import type Database from 'better-sqlite3';
import { COMPACTABLE_EVENT_TYPES, type CompactionCounts } from '../../types.js';

/**
 * Bounds the event logs of unfinished runs. Finds up to `limit` unfinished runs (through
 * runs_status_created_idx) with more than `max` events (events_run_seq_idx), then deletes each
 * one's oldest superseded events, as many as it is over: an event is superseded when its type is one
 * of COMPACTABLE_EVENT_TYPES and it is neither the first nor the last of its step (run-level events
 * form one more group). Each run is its own short transaction. Finished runs are left as they are:
 * retention bounds them.
 */
export function prepareCompactEvents(db: Database.Database): (max: number, limit: number) => CompactionCounts {
  const overCap = db.prepare<[number, number]>(
    `SELECT r.id AS runId, (SELECT count(*) FROM events e WHERE e.run_id = r.id) AS n
       FROM runs r WHERE r.status IN ('queued', 'running', 'waiting', 'paused')
        AND (SELECT count(*) FROM events e WHERE e.run_id = r.id) > ?
      LIMIT ?`,
  );
  const deleteSuperseded = db.prepare<[string, string, number]>(
    `DELETE FROM events WHERE seq IN (
       SELECT seq FROM (
         SELECT seq, type,
                row_number() OVER (PARTITION BY step ORDER BY seq) AS from_first,
                row_number() OVER (PARTITION BY step ORDER BY seq DESC) AS from_last
           FROM events WHERE run_id = ?)
        WHERE from_first > 1 AND from_last > 1 AND type IN (SELECT value FROM json_each(?))
        ORDER BY seq LIMIT ?)`,
  );
  const compactable = JSON.stringify(COMPACTABLE_EVENT_TYPES);
  const compactOne = db.transaction(
    (runId: string, over: number) => deleteSuperseded.run(runId, compactable, over).changes,
  );
  return (max, limit) => {
    const runs = overCap.all(max, limit) as { runId: string; n: number }[];
    let events = 0;
    for (const { runId, n } of runs) events += compactOne.immediate(runId, n - max);
    return { runs: runs.length, events };
  };
}
