import type pg from 'pg';
import type { EventRecord } from '../../types.js';

const EVENT_COLUMNS = 'seq, run_id AS "runId", step, type, at, attempt, data';

/**
 * Reads events after a seq, in seq order: of one run (index events_run_seq_idx, one range) or of
 * all runs (the events primary key, one range).
 */
export async function listEvents(
  db: pg.Pool,
  runId: string | undefined,
  afterSeq: number,
  limit: number,
): Promise<EventRecord[]> {
  const { rows } = await db.query<EventRecord>(
    runId === undefined
      ? {
          name: 'braid_list_events',
          text: `SELECT ${EVENT_COLUMNS} FROM braid.events WHERE seq > $1 ORDER BY seq LIMIT $2`,
          values: [afterSeq, limit],
        }
      : {
          name: 'braid_list_events_of_run',
          text: `SELECT ${EVENT_COLUMNS} FROM braid.events WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
          values: [runId, afterSeq, limit],
        },
  );
  return rows;
}
