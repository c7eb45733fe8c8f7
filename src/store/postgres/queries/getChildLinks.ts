import type pg from 'pg';
import type { ChildLink, StepRef } from '../../types.js';

/** A ChildLink's fields from the runs row aliased `t`: one list for every read of links. */
export const linkColumnsOf = (t: string) =>
  `${t}.spawn_key AS "spawnKey", ${t}.id AS "runId", ${t}.workflow, ${t}.status, ${t}.output, ${t}.error`;

/**
 * Reads the children one step spawned, in spawn order (created_at, id): what the step needs to
 * re-attach on retry or recovery, not whole runs. One statement however many children.
 * Index: runs_spawn_key_idx (parent_run_id, parent_step, ...), one range, then a sort.
 */
export async function getChildLinks(db: pg.Pool, parentRunId: string, parentStep: string): Promise<ChildLink[]> {
  const { rows } = await db.query<ChildLink>({
    name: 'braid_get_child_links',
    text: `SELECT ${linkColumnsOf('r')}
             FROM braid.runs r
            WHERE r.parent_run_id = $1 AND r.parent_step = $2 AND r.spawn_key IS NOT NULL
            ORDER BY r.created_at, r.id`,
    values: [parentRunId, parentStep],
  });
  return rows;
}

/** The children of many steps in one round trip: one range of runs_spawn_key_idx per step. */
export async function getChildLinksOfSteps(db: pg.Pool, steps: readonly StepRef[]): Promise<ChildLink[][]> {
  const links: ChildLink[][] = steps.map(() => []);
  if (!steps.length) return links;
  const { rows } = await db.query<ChildLink & { i: number }>({
    name: 'braid_get_child_links_of_steps',
    text: `SELECT s.i::int AS i, ${linkColumnsOf('r')}
             FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS s(run_id, step, i)
             JOIN braid.runs r ON r.parent_run_id = s.run_id AND r.parent_step = s.step AND r.spawn_key IS NOT NULL
            ORDER BY s.i, r.created_at, r.id`,
    values: [steps.map((s) => s.runId), steps.map((s) => s.step)],
  });
  for (const { i, ...link } of rows) links[i - 1]?.push(link);
  return links;
}
