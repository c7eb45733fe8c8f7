import type pg from 'pg';
import type { ForkRecord } from '../../types.js';

/**
 * Inserts fork links in the commit's transaction, for the forked runs the commit inserted (a link
 * never points at a run that is not there). One statement over `unnest`ed arrays; the step lists
 * go as JSON text and become text[] in the database. Index: the forks primary key.
 */
export async function insertForks(
  client: pg.PoolClient,
  forks: readonly ForkRecord[],
  insertedRunIds: readonly string[],
): Promise<void> {
  const inserted = new Set(insertedRunIds);
  const kept = forks.filter((f) => inserted.has(f.runId));
  if (!kept.length) return;
  await client.query({
    name: 'braid_insert_forks',
    text: `INSERT INTO braid.forks (run_id, forked_from, from_step, reused_steps, overridden_steps, created_at)
           SELECT f.run_id, f.forked_from, f.from_step,
                  ARRAY(SELECT jsonb_array_elements_text(f.reused::jsonb)),
                  ARRAY(SELECT jsonb_array_elements_text(f.overridden::jsonb)),
                  f.created_at
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])
                  AS f(run_id, forked_from, from_step, reused, overridden, created_at)
           ON CONFLICT DO NOTHING`,
    values: [
      kept.map((f) => f.runId),
      kept.map((f) => f.forkedFrom),
      kept.map((f) => f.fromStep),
      kept.map((f) => JSON.stringify(f.reusedSteps)),
      kept.map((f) => JSON.stringify(f.overriddenSteps)),
      kept.map((f) => f.createdAt),
    ],
  });
}
