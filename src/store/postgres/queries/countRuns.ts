import type pg from 'pg';
import type { RunStatus, StatusCounts } from '../../types.js';
import { type RunFilterFields, runWhere } from '../runFilterSql.js';

/**
 * Counts runs matching a filter, grouped by status (statuses with no runs are absent).
 * Index: whichever the filter allows (runFilterSql.ts); unfiltered, a sequential scan (the status
 * index leaves succeeded runs out, see 0001_init.sql).
 */
export async function countRuns(db: pg.Pool, filter: Omit<RunFilterFields, 'status'>): Promise<StatusCounts> {
  const where = runWhere({ ...filter, status: undefined });
  const { rows } = await db.query<{ status: RunStatus; count: number }>(
    `SELECT status, count(*) AS count FROM braid.runs WHERE ${where.sql} GROUP BY status`,
    where.params,
  );
  const counts: StatusCounts = {};
  for (const row of rows) counts[row.status] = row.count;
  return counts;
}
