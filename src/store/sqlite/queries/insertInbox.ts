import type Database from 'better-sqlite3';
import type { InboxEvent } from '../../types.js';

/**
 * Records events in the inbox and sets each one's `seq`. An event whose idempotency key is
 * already recorded is not inserted again: it is returned, with the seq of the one recorded.
 * Index: inbox_idempotency_key_idx decides duplicates.
 */
export function prepareInsertInbox(db: Database.Database): (events: readonly InboxEvent[]) => InboxEvent[] {
  const insert = db.prepare(
    `INSERT INTO inbox (name, key, payload, idempotency_key, created_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT DO NOTHING`,
  );
  const byKey = db.prepare<[string], number>('SELECT seq FROM inbox WHERE idempotency_key = ?').pluck();
  return (events) => {
    const duplicates: InboxEvent[] = [];
    for (const e of events) {
      const result = insert.run(e.name, e.key, e.payload, e.idempotencyKey, e.createdAt);
      if (result.changes === 1) e.seq = Number(result.lastInsertRowid);
      else {
        e.seq = byKey.get(e.idempotencyKey as string) as number;
        duplicates.push(e);
      }
    }
    return duplicates;
  };
}
