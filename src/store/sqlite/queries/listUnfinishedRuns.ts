import type Database from 'better-sqlite3';
import type { RunRecord } from '../../types.js';
import { RUN_SELECT_COLUMNS } from '../runRow.js';

/**
 * Runs to resume after a restart: status queued or running (not paused, not finished), oldest
 * first, optionally only of some workflows. The workflow list is one JSON parameter expanded by
 * json_each, so any number of names uses one prepared statement.
 * Index: runs_status_created_idx (two short ranges, one per status).
 */
export function prepareListUnfinishedRuns(db: Database.Database): (workflows?: readonly string[]) => RunRecord[] {
  const all = db.prepare<[], RunRecord>(
    `SELECT ${RUN_SELECT_COLUMNS} FROM runs
      WHERE status IN ('queued', 'running')
      ORDER BY created_at, id`,
  );
  const ofWorkflows = db.prepare<[string], RunRecord>(
    `SELECT ${RUN_SELECT_COLUMNS} FROM runs
      WHERE status IN ('queued', 'running') AND workflow IN (SELECT value FROM json_each(?))
      ORDER BY created_at, id`,
  );
  return (workflows) => (workflows === undefined ? all.all() : ofWorkflows.all(JSON.stringify(workflows)));
}
