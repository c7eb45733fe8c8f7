import type pg from 'pg';
import { emptyPruneCounts, type PruneCounts, type PruneSelection } from '../../types.js';
import { inTransaction } from '../transaction.js';

/**
 * The tables that hold rows of a run, each by a `run_id` column: pruning a run deletes its rows
 * from each, before the run itself. A new per-run table is one more line here.
 */
export const RUN_TABLES = ['steps', 'events', 'waits', 'stream_chunks', 'forks'] as const;

/** pg_advisory_xact_lock key: "braid_pr" in ASCII, recognisable in pg_locks. */
const PRUNE_LOCK_KEY = '7093839468345389170';

const UNFINISHED = `('queued', 'running', 'waiting', 'paused')`;

/**
 * Finished roots of the selection whose whole tree has ended, oldest first: through
 * runs_status_created_idx for failed and cancelled roots, runs_created_idx for succeeded ones (the
 * status index leaves them out); the tree check reads runs_root_created_idx. A run finishes after
 * it is created, so `created_at < $2` bounds the walk.
 */
const SELECT_ROOTS = `SELECT r.id FROM braid.runs r
  WHERE r.status = ANY($1::text[]) AND r.created_at < $2 AND r.finished_at < $2 AND r.parent_run_id IS NULL
    AND ($3::text IS NULL OR r.workflow = $3) AND r.workflow <> ALL($4::text[])
    AND NOT EXISTS (SELECT 1 FROM braid.runs c WHERE c.root_run_id = r.id AND c.status IN ${UNFINISHED})`;

/**
 * Deletes up to `limit` finished run trees, whole, in one transaction, plus up to `limit` cache
 * entries expired at `now` (cache_expires_idx). One process prunes at a time: the transaction
 * first takes an advisory lock, so two workers' retention passes take turns batch by batch instead
 * of deleting the same trees. Runs of a finished tree are never written again (an ended run is
 * final), so nothing else contends for these rows. Autovacuum reclaims the space.
 */
export async function pruneRuns(pool: pg.Pool, s: PruneSelection, now: number): Promise<PruneCounts> {
  return inTransaction(pool, async (client) => {
    await client.query({
      name: 'braid_prune_lock',
      text: 'SELECT pg_advisory_xact_lock($1)',
      values: [PRUNE_LOCK_KEY],
    });
    const { rows } = await client.query<{ id: string }>({
      name: 'braid_prune_select_roots',
      text: `${SELECT_ROOTS} ORDER BY r.created_at LIMIT $5`,
      values: [s.statuses, s.finishedBefore, s.workflow, s.excludeWorkflows, s.limit],
    });
    const counts = emptyPruneCounts();
    if (rows.length) {
      const roots = rows.map((r) => r.id);
      counts.roots = roots.length;
      const tree = await client.query<{ id: string }>({
        name: 'braid_prune_tree_runs',
        text: 'SELECT id FROM braid.runs WHERE root_run_id = ANY($1::text[])',
        values: [roots],
      });
      const ids = tree.rows.map((r) => r.id);
      for (const table of RUN_TABLES) {
        const { rowCount } = await client.query({
          name: `braid_prune_${table}`,
          text: `DELETE FROM braid.${table} WHERE run_id = ANY($1::text[])`,
          values: [ids],
        });
        // Tables PruneCounts does not name are deleted from, not reported.
        if (table in counts) (counts as unknown as Record<string, number>)[table] = rowCount ?? 0;
      }
      const { rowCount } = await client.query({
        name: 'braid_prune_runs',
        text: 'DELETE FROM braid.runs WHERE id = ANY($1::text[])',
        values: [ids],
      });
      counts.runs = rowCount ?? 0;
    }
    const { rowCount } = await client.query({
      name: 'braid_prune_cache',
      text: `DELETE FROM braid.cache WHERE key IN (
               SELECT key FROM braid.cache WHERE expires_at <= $1 LIMIT $2)`,
      values: [now, s.limit],
    });
    counts.cache = rowCount ?? 0;
    return counts;
  });
}

/** What pruning every tree the selection matches would delete, in one snapshot; changes nothing. */
export async function countPrunable(
  pool: pg.Pool,
  s: Omit<PruneSelection, 'limit'>,
  now: number,
): Promise<PruneCounts> {
  const trees = 'SELECT id FROM braid.runs WHERE root_run_id IN (SELECT id FROM roots)';
  const { rows } = await pool.query<Record<string, string>>({
    name: 'braid_count_prunable',
    text: `WITH roots AS (${SELECT_ROOTS}), tree AS (${trees})
           SELECT (SELECT count(*) FROM roots) AS roots, (SELECT count(*) FROM tree) AS runs,
                  ${RUN_TABLES.map((t) => `(SELECT count(*) FROM braid.${t} WHERE run_id IN (SELECT id FROM tree)) AS ${t}`).join(', ')},
                  (SELECT count(*) FROM braid.cache WHERE expires_at <= $5) AS cache`,
    values: [s.statuses, s.finishedBefore, s.workflow, s.excludeWorkflows, now],
  });
  const row = rows[0] ?? {};
  const counts = emptyPruneCounts();
  for (const key of Object.keys(counts) as (keyof PruneCounts)[]) counts[key] = Number(row[key] ?? 0);
  return counts;
}
