import type Database from 'better-sqlite3';
import type { RunStatus, StatusCounts } from '../../types.js';
import { type RunFilterFields, runWhere } from '../runFilterSql.js';

/**
 * Counts runs matching a filter, grouped by status (statuses with no runs are absent).
 * Index: whichever the filter allows (runFilterSql.ts); unfiltered, a scan of runs_status_created_idx.
 */
export function prepareCountRuns(db: Database.Database): (filter: Omit<RunFilterFields, 'status'>) => StatusCounts {
  const statements = new Map<string, Database.Statement<unknown[], { status: RunStatus; count: number }>>();

  return (filter) => {
    const where = runWhere({ ...filter, status: undefined });
    const sql = `SELECT status, count(*) AS count FROM runs WHERE ${where.sql} GROUP BY status`;
    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    const counts: StatusCounts = {};
    for (const row of statement.all(where.params)) counts[row.status] = row.count;
    return counts;
  };
}
