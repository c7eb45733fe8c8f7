import type Database from 'better-sqlite3';
import type { WaitRecord } from '../../types.js';
import { bindWait, WAIT_COLUMN_COUNT, WAIT_INSERT_COLUMNS, WAIT_SELECT_COLUMNS } from '../waitRow.js';

/**
 * Writes waits by (run_id, step, key). A wait already settled in the store is not changed: its
 * first outcome stands (an event that resolved it beat the engine's timeout, say), and the stored
 * row is returned so the engine takes it. One statement per wait: waits are few per commit, and
 * the conflict test needs each row's answer. Index: the waits primary key.
 */
export function prepareUpsertWaits(db: Database.Database): (waits: readonly WaitRecord[]) => WaitRecord[] {
  const upsert = db.prepare(
    `INSERT INTO waits (${WAIT_INSERT_COLUMNS}) VALUES (${Array(WAIT_COLUMN_COUNT).fill('?').join(', ')})
     ON CONFLICT (run_id, step, key) DO UPDATE SET
       status = excluded.status, due_at = excluded.due_at, value = excluded.value, resolved_at = excluded.resolved_at,
       since = excluded.since, after_seq = excluded.after_seq, request = excluded.request
     WHERE waits.status = 'pending'`,
  );
  const stored = db.prepare<[string, string, string], WaitRecord>(
    `SELECT ${WAIT_SELECT_COLUMNS} FROM waits WHERE run_id = ? AND step = ? AND key = ?`,
  );
  const params = new Array<unknown>(WAIT_COLUMN_COUNT);
  return (waits) => {
    const refused: WaitRecord[] = [];
    for (const w of waits) {
      bindWait(w, params, 0);
      if (upsert.run(...params).changes === 0) refused.push(stored.get(w.runId, w.step, w.key) as WaitRecord);
    }
    return refused;
  };
}
