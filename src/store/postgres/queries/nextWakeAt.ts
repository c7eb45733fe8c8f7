import type pg from 'pg';

/**
 * The earliest wake-up time of the sleeping runs of the given workflows.
 * Index: runs_wake_idx (partial: only sleeping runs are in it).
 */
export async function nextWakeAt(db: pg.Pool, workflows: readonly string[]): Promise<number | null> {
  const { rows } = await db.query<{ next: number | null }>({
    name: 'braid_next_wake_at',
    text: `SELECT min(wake_at) AS next FROM braid.runs
            WHERE wake_at IS NOT NULL AND status IN ('queued', 'running', 'waiting') AND workflow = ANY($1::text[])`,
    values: [workflows],
  });
  return rows[0]?.next ?? null;
}
