import type Database from 'better-sqlite3';
import type { ChildLink, StepRef } from '../../types.js';

const LINK_COLUMNS = 'spawn_key AS spawnKey, id AS runId, workflow, status, output, error';

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
    `SELECT ${LINK_COLUMNS}
       FROM runs INDEXED BY runs_spawn_key_idx
      WHERE parent_run_id = ? AND parent_step = ? AND spawn_key IS NOT NULL
      ORDER BY created_at, id`,
  );
  return (parentRunId, parentStep) => select.all(parentRunId, parentStep);
}

/**
 * The children of many steps in one statement (loading many runs at once): one range of
 * runs_spawn_key_idx per step, as `prepareGetChildLinks`, tagged with the step's position.
 */
export function prepareGetChildLinksOfSteps(db: Database.Database): (steps: readonly StepRef[]) => ChildLink[][] {
  const select = db.prepare<[string], ChildLink & { i: number }>(
    `SELECT s.key AS i, r.spawn_key AS spawnKey, r.id AS runId, r.workflow, r.status, r.output, r.error
       FROM json_each(?) AS s
       JOIN runs AS r INDEXED BY runs_spawn_key_idx
         ON r.parent_run_id = s.value ->> 0 AND r.parent_step = s.value ->> 1 AND r.spawn_key IS NOT NULL
      ORDER BY s.key, r.created_at, r.id`,
  );
  return (steps) => {
    const links: ChildLink[][] = steps.map(() => []);
    if (!steps.length) return links;
    for (const { i, ...link } of select.all(JSON.stringify(steps.map((s) => [s.runId, s.step])))) {
      links[i]?.push(link);
    }
    return links;
  };
}
