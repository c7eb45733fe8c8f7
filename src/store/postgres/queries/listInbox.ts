import type pg from 'pg';
import type { InboxEvent } from '../../types.js';

const COLUMNS = 'seq, name, key, payload, idempotency_key AS "idempotencyKey", created_at AS "createdAt"';

/** Inbox events, newest first, optionally of one name. Index: inbox_name_created_idx for a name. */
export async function listInbox(db: pg.Pool, name: string | undefined, limit: number): Promise<InboxEvent[]> {
  const { rows } = await db.query<InboxEvent>(
    name === undefined
      ? {
          name: 'braid_list_inbox',
          text: `SELECT ${COLUMNS} FROM braid.inbox ORDER BY seq DESC LIMIT $1`,
          values: [limit],
        }
      : {
          name: 'braid_list_inbox_of_name',
          text: `SELECT ${COLUMNS} FROM braid.inbox WHERE name = $1 ORDER BY seq DESC LIMIT $2`,
          values: [name, limit],
        },
  );
  return rows;
}
