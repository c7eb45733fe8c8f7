import type Database from 'better-sqlite3';
import { decodeRunCursor, encodeRunCursor, runPageSize } from '../../runPaging.js';
import type { RunFilter, RunPage } from '../../types.js';
import { runWhere } from '../runFilterSql.js';
import { RUN_SELECT_COLUMNS, runOfRow } from '../runRow.js';

/**
 * Lists runs matching a filter, one page at a time, newest first by default. Keyset pagination
 * on (created_at, id): the cursor is the last row of the previous page, and the next page starts
 * strictly after it. `created_at <= ?` next to the exact row-value test gives SQLite a range bound
 * it can use in any created_at index. Fetches one row more than the page to know whether a next
 * page exists, so the last page has no cursor.
 * Index: whichever the filter allows (runFilterSql.ts), else runs_created_idx.
 */
export function prepareListRuns(db: Database.Database): (filter: RunFilter) => RunPage {
  const statements = new Map<string, Database.Statement<unknown[], unknown[]>>();

  return (filter) => {
    const limit = runPageSize(filter.limit);
    const isDesc = filter.order !== 'asc';
    const where = runWhere(filter);
    const params = where.params;
    let sql = where.sql;
    if (filter.cursor !== undefined) {
      const after = decodeRunCursor(filter.cursor);
      sql += isDesc
        ? ' AND created_at <= ? AND (created_at, id) < (?, ?)'
        : ' AND created_at >= ? AND (created_at, id) > (?, ?)';
      params.push(after.createdAt, after.createdAt, after.id);
    }
    const direction = isDesc ? 'DESC' : 'ASC';
    sql = `SELECT ${RUN_SELECT_COLUMNS} FROM runs WHERE ${sql} ORDER BY created_at ${direction}, id ${direction} LIMIT ?`;
    params.push(limit + 1);

    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare<unknown[], unknown[]>(sql).raw();
      statements.set(sql, statement);
    }
    const runs = statement.all(params).map(runOfRow);
    if (runs.length <= limit) return { runs, nextCursor: null };
    runs.length = limit;
    const last = runs[limit - 1]!;
    return { runs, nextCursor: encodeRunCursor(last) };
  };
}
