import type Database from 'better-sqlite3';
import type { InboxEvent } from '../../types.js';

const COLUMNS = 'seq, name, key, payload, idempotency_key AS idempotencyKey, created_at AS createdAt';

/** Inbox events, newest first, optionally of one name. Index: inbox_name_created_idx for a name. */
export function prepareListInbox(db: Database.Database): (name: string | undefined, limit: number) => InboxEvent[] {
  const all = db.prepare<[number], InboxEvent>(`SELECT ${COLUMNS} FROM inbox ORDER BY seq DESC LIMIT ?`);
  const ofName = db.prepare<[string, number], InboxEvent>(
    `SELECT ${COLUMNS} FROM inbox WHERE name = ? ORDER BY seq DESC LIMIT ?`,
  );
  return (name, limit) => (name === undefined ? all.all(limit) : ofName.all(name, limit));
}
