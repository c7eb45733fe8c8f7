import type Database from 'better-sqlite3';
import { emptyPruneCounts, type PruneCounts, type PruneSelection, type RunStatus } from '../../types.js';

/**
 * The tables that hold rows of a run, each by a `run_id` column: pruning a run deletes its rows
 * from each, before the run itself. A new per-run table is one more line here.
 */
export const RUN_TABLES = ['steps', 'events', 'waits', 'stream_chunks', 'forks'] as const;

/** Run statuses that are not finished: a tree with one of these is never pruned. */
const UNFINISHED = `('queued', 'running', 'waiting', 'paused')`;

/**
 * Roots (runs nothing spawned) of one ended status that finished before a time, oldest first,
 * whose whole tree has ended. One status per statement so the scan walks runs_status_created_idx
 * (status, created_at) in order and stops at the limit: with `status IN (...)` SQLite sorted every
 * match first. `created_at < ?` bounds the walk (a run finishes after it is created). The tree
 * check reads runs_root_created_idx.
 */
const SELECT_ROOTS = `SELECT r.id FROM runs r
  WHERE r.status = ? AND r.created_at < ? AND r.finished_at < ? AND r.parent_run_id IS NULL
    AND (? IS NULL OR r.workflow = ?)
    AND r.workflow NOT IN (SELECT value FROM json_each(?))
    AND NOT EXISTS (SELECT 1 FROM runs c WHERE c.root_run_id = r.id AND c.status IN ${UNFINISHED})
  ORDER BY r.created_at
  LIMIT ?`;

/** The runs of the trees whose roots are in the JSON array bound to `?`. */
const TREE_RUNS = 'SELECT id FROM runs WHERE root_run_id IN (SELECT value FROM json_each(?))';

/**
 * Deletes up to `limit` finished run trees in one IMMEDIATE transaction (SQLite writes are short
 * and the caller yields between batches), plus up to `limit` cache entries expired at `now`
 * (cache_expires_idx). A tree is deleted whole or not at all: per-run tables first, then its runs
 * (runs_root_created_idx, and each table's run_id-first primary key or index).
 */
export function preparePruneRuns(db: Database.Database): (selection: PruneSelection, now: number) => PruneCounts {
  const selectRoots =
    db.prepare<[RunStatus, number, number, string | null, string | null, string, number]>(SELECT_ROOTS);
  const deleteFrom = RUN_TABLES.map((table) =>
    db.prepare<[string]>(`DELETE FROM ${table} WHERE run_id IN (${TREE_RUNS})`),
  );
  const deleteRuns = db.prepare<[string]>('DELETE FROM runs WHERE root_run_id IN (SELECT value FROM json_each(?))');
  const deleteCache = db.prepare<[number, number]>(
    'DELETE FROM cache WHERE key IN (SELECT key FROM cache WHERE expires_at <= ? LIMIT ?)',
  );
  const prune = db.transaction((s: PruneSelection, now: number): PruneCounts => {
    const counts = emptyPruneCounts();
    const roots: string[] = [];
    const exclude = JSON.stringify(s.excludeWorkflows);
    for (const status of s.statuses) {
      if (roots.length >= s.limit) break;
      const found = selectRoots
        .pluck()
        .all(status, s.finishedBefore, s.finishedBefore, s.workflow, s.workflow, exclude, s.limit - roots.length);
      roots.push(...(found as string[]));
    }
    if (roots.length) {
      const ids = JSON.stringify(roots);
      counts.roots = roots.length;
      RUN_TABLES.forEach((table, i) => {
        const { changes } = deleteFrom[i]!.run(ids);
        // Tables PruneCounts does not name are deleted from, not reported.
        if (table in counts) (counts as unknown as Record<string, number>)[table] = changes;
      });
      counts.runs = deleteRuns.run(ids).changes;
    }
    counts.cache = deleteCache.run(now, s.limit).changes;
    return counts;
  });
  return (selection, now) => prune.immediate(selection, now);
}

/** What pruning every tree `selection` matches would delete, read in one snapshot; changes nothing. */
export function prepareCountPrunable(
  db: Database.Database,
): (selection: Omit<PruneSelection, 'limit'>, now: number) => PruneCounts {
  const roots = `SELECT r.id FROM runs r
    WHERE r.status IN (SELECT value FROM json_each(?)) AND r.created_at < ? AND r.finished_at < ?
      AND r.parent_run_id IS NULL AND (? IS NULL OR r.workflow = ?)
      AND r.workflow NOT IN (SELECT value FROM json_each(?))
      AND NOT EXISTS (SELECT 1 FROM runs c WHERE c.root_run_id = r.id AND c.status IN ${UNFINISHED})`;
  const trees = `SELECT id FROM runs WHERE root_run_id IN (${roots})`;
  const count = db.prepare(
    `SELECT (SELECT count(*) FROM (${roots})) AS roots,
            (SELECT count(*) FROM (${trees})) AS runs,
            ${RUN_TABLES.map((t) => `(SELECT count(*) FROM ${t} WHERE run_id IN (${trees})) AS ${t}`).join(', ')},
            (SELECT count(*) FROM cache WHERE expires_at <= @now) AS cache`,
  );
  const read = db.transaction((s: Omit<PruneSelection, 'limit'>, now: number) => {
    const params = [JSON.stringify(s.statuses), s.finishedBefore, s.finishedBefore, s.workflow, s.workflow];
    const bound = (n: number) =>
      Array.from({ length: n }, () => [...params, JSON.stringify(s.excludeWorkflows)]).flat();
    const row = count.get(...bound(2 + RUN_TABLES.length), { now }) as Record<string, number>;
    return { ...emptyPruneCounts(), ...pickCounts(row) };
  });
  return (selection, now) => read.deferred(selection, now);
}

function pickCounts(row: Record<string, number>): Partial<PruneCounts> {
  const out: Partial<PruneCounts> = {};
  for (const key of ['roots', 'runs', 'steps', 'events', 'waits', 'cache'] as const) out[key] = row[key] ?? 0;
  return out;
}
