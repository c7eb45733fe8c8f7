import type pg from 'pg';
import type { ChildLink } from '../../types.js';

/**
 * Reads the children one step spawned, in spawn order (created_at, id): what the step needs to
 * re-attach on retry or recovery, not whole runs. One statement however many children.
 * Index: runs_spawn_key_idx (parent_run_id, parent_step, ...), one range, then a sort.
 */
export async function getChildLinks(db: pg.Pool, parentRunId: string, parentStep: string): Promise<ChildLink[]> {
  const { rows } = await db.query<ChildLink>({
    name: 'braid_get_child_links',
    text: `SELECT spawn_key AS "spawnKey", id AS "runId", workflow, status, output, error
             FROM braid.runs
            WHERE parent_run_id = $1 AND parent_step = $2 AND spawn_key IS NOT NULL
            ORDER BY created_at, id`,
    values: [parentRunId, parentStep],
  });
  return rows;
}
