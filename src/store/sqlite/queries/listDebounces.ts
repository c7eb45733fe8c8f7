import type Database from 'better-sqlite3';
import type { PendingDebounce } from '../../types.js';

/**
 * Debounced runs not started yet, soonest due first (of one workflow when given). A key whose run
 * has started is left out: its row only waits for the key's next trigger. Index: debounces_due_idx.
 */
export function prepareListDebounces(
  db: Database.Database,
): (filter: { workflow?: string; limit?: number }) => PendingDebounce[] {
  const list = db.prepare<[string | null, string | null, number], PendingDebounce>(
    `SELECT d.workflow, d.key, d.run_id AS runId, r.input, d.first_at AS firstAt, d.last_at AS lastAt,
            d.due_at AS dueAt, d.triggers
       FROM debounces d JOIN runs r ON r.id = d.run_id
      WHERE (? IS NULL OR d.workflow = ?) AND r.status = 'queued' AND r.started_at IS NULL AND r.wake_at IS NOT NULL
      ORDER BY d.due_at, d.workflow, d.key
      LIMIT ?`,
  );
  return (filter) => {
    const workflow = filter.workflow ?? null;
    return list.all(workflow, workflow, Math.min(Math.max(filter.limit ?? 100, 1), 1000));
  };
}
