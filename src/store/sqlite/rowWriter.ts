import type Database from 'better-sqlite3';

/**
 * Writes many records with two prepared statements: a multi-row `VALUES (...), (...)` statement
 * for full chunks and a one-row statement for the rest. Each call from JS into SQLite costs about
 * a microsecond of binding and dispatch on a small VM; chunking pays it once per ROWS_PER_STATEMENT rows.
 */
export const ROWS_PER_STATEMENT = Number(process.env.ROWS ?? 32);

export interface RowWriter<T> {
  /**
   * Writes `records` in order. `afterEach` sees each statement's result with the index of its
   * first record and its row count (for lastInsertRowid / changes).
   */
  write(
    records: readonly T[],
    afterEach?: (result: Database.RunResult, firstIndex: number, rowCount: number) => void,
  ): void;
}

/**
 * @param sqlFor builds the statement around a VALUES list, e.g. `(?, ?), (?, ?)`.
 * @param bind writes one record's `columnCount` values into `params` from `offset`.
 */
export function prepareRowWriter<T>(
  db: Database.Database,
  columnCount: number,
  sqlFor: (valuesList: string) => string,
  bind: (record: T, params: unknown[], offset: number) => void,
  rowsPerStatement = ROWS_PER_STATEMENT,
): RowWriter<T> {
  const tuple = `(${new Array(columnCount).fill('?').join(', ')})`;
  const one = db.prepare(sqlFor(tuple));
  const many = db.prepare(sqlFor(new Array(rowsPerStatement).fill(tuple).join(', ')));
  // Reused across calls: better-sqlite3 copies bound values into SQLite before run() returns.
  const oneParams: unknown[] = new Array(columnCount);
  const manyParams: unknown[] = new Array(columnCount * rowsPerStatement);
  return {
    write(records, afterEach) {
      let i = 0;
      for (; i + rowsPerStatement <= records.length; i += rowsPerStatement) {
        for (let j = 0; j < rowsPerStatement; j++) bind(records[i + j]!, manyParams, j * columnCount);
        const result = many.run(manyParams);
        afterEach?.(result, i, rowsPerStatement);
      }
      for (; i < records.length; i++) {
        bind(records[i]!, oneParams, 0);
        const result = one.run(oneParams);
        afterEach?.(result, i, 1);
      }
    },
  };
}
