import type pg from 'pg';
import type { PendingDebounce } from '../../types.js';

/**
 * Debounced runs not started yet, soonest due first (of one workflow when given). A key whose run
 * has started is left out: its row only waits for the key's next trigger. Index: debounces_due_idx.
 */
export async function listDebounces(
  db: pg.Pool,
  filter: { workflow?: string; limit?: number },
): Promise<PendingDebounce[]> {
  const { rows } = await db.query<PendingDebounce>({
    name: 'braid_list_debounces',
    text: `SELECT d.workflow, d.key, d.run_id AS "runId", r.input, d.first_at AS "firstAt", d.last_at AS "lastAt",
                  d.due_at AS "dueAt", d.triggers
             FROM braid.debounces d JOIN braid.runs r ON r.id = d.run_id
            WHERE ($1::text IS NULL OR d.workflow = $1) AND r.status = 'queued' AND r.started_at IS NULL
              AND r.wake_at IS NOT NULL
            ORDER BY d.due_at, d.workflow, d.key
            LIMIT $2`,
    values: [filter.workflow ?? null, Math.min(Math.max(filter.limit ?? 100, 1), 1000)],
  });
  return rows;
}
