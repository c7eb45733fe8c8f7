import type pg from 'pg';
import { decodeRunCursor, encodeRunCursor, runPageSize } from '../../runPaging.js';
import type { RunFilter, RunPage, RunRecord } from '../../types.js';
import { runWhere } from '../runFilterSql.js';
import { RUN_SELECT_COLUMNS } from '../runRow.js';

/**
 * Lists runs matching a filter, one page at a time, newest first by default. Keyset pagination
 * on (created_at, id) (runPaging.ts): the cursor is the last row of the previous page, and the
 * next page starts strictly after it; the row-value comparison is an index range in PostgreSQL.
 * Fetches one row more than the page to know whether a next page exists, so the last page has
 * no cursor. Index: whichever the filter allows (runFilterSql.ts), else runs_created_idx.
 * Unnamed statements: the text varies with the filter, and planning a short query is cheap.
 */
export async function listRuns(db: pg.Pool, filter: RunFilter): Promise<RunPage> {
  const limit = runPageSize(filter.limit);
  const isDesc = filter.order !== 'asc';
  const where = runWhere(filter);
  const params = where.params;
  let sql = where.sql;
  if (filter.cursor !== undefined) {
    const after = decodeRunCursor(filter.cursor);
    params.push(after.createdAt, after.id);
    const [createdAt, id] = [`$${params.length - 1}`, `$${params.length}`];
    sql += isDesc ? ` AND (created_at, id) < (${createdAt}, ${id})` : ` AND (created_at, id) > (${createdAt}, ${id})`;
  }
  params.push(limit + 1);
  const direction = isDesc ? 'DESC' : 'ASC';
  const { rows: runs } = await db.query<RunRecord>(
    `SELECT ${RUN_SELECT_COLUMNS} FROM braid.runs WHERE ${sql}
      ORDER BY created_at ${direction}, id ${direction} LIMIT $${params.length}`,
    params,
  );
  if (runs.length <= limit) return { runs, nextCursor: null };
  runs.length = limit;
  return { runs, nextCursor: encodeRunCursor(runs[limit - 1]!) };
}
