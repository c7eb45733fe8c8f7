import type Database from 'better-sqlite3';
import type { EventRecord } from '../../types.js';

const EVENT_COLUMNS = 'seq, run_id AS runId, step, type, at, attempt, data';

/**
 * Reads events after a seq, in seq order: of one run (index events_run_seq_idx, one range) or of
 * all runs (the events rowid, one range).
 */
export function prepareListEvents(
  db: Database.Database,
): (runId: string | undefined, afterSeq: number, limit: number) => EventRecord[] {
  const ofRun = db.prepare<[string, number, number], EventRecord>(
    `SELECT ${EVENT_COLUMNS} FROM events WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
  );
  const ofAll = db.prepare<[number, number], EventRecord>(
    `SELECT ${EVENT_COLUMNS} FROM events WHERE seq > ? ORDER BY seq LIMIT ?`,
  );
  return (runId, afterSeq, limit) =>
    runId === undefined ? ofAll.all(afterSeq, limit) : ofRun.all(runId, afterSeq, limit);
}
