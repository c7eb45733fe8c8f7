import type Database from 'better-sqlite3';
import type { ChildLink } from '../../types.js';

/**
 * Reads the children one step spawned, in spawn order (created_at, id): what the step needs to
 * re-attach on retry or recovery, not whole runs. One statement however many children.
 * Index: runs_spawn_key_idx (parent_run_id, parent_step, ...), one range, then an in-memory sort.
 * INDEXED BY pins it: without statistics the planner picks runs_parent_created_idx to skip the
 * sort, which is no faster (100k children: about 230 ms either way, spent reading the rows) and
 * walks the children of every other step of the parent too.
 */
export function prepareGetChildLinks(db: Database.Database): (parentRunId: string, parentStep: string) => ChildLink[] {
  const select = db.prepare<[string, string], ChildLink>(
    `SELECT spawn_key AS spawnKey, id AS runId, workflow, status, output, error
       FROM runs INDEXED BY runs_spawn_key_idx
      WHERE parent_run_id = ? AND parent_step = ? AND spawn_key IS NOT NULL
      ORDER BY created_at, id`,
  );
  return (parentRunId, parentStep) => select.all(parentRunId, parentStep);
}
