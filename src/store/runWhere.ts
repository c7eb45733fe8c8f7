import type { RunFilter } from './types.js';

/**
 * The WHERE clause of a RunFilter, for the SQL stores' listRuns and countRuns. Each filter the
 * caller sets adds one fixed condition from the store's list, so the database can pick the index
 * for that filter (workflow, status, parent, root). The alternative, one statement with
 * `(? IS NULL OR col = ?)` for every filter, can use none of those indexes. The conditions are
 * constants and values are always parameters, so each combination is one statement, prepared once.
 */

export type RunFilterFields = Omit<RunFilter, 'cursor' | 'limit' | 'order'>;

export interface RunCondition {
  /** The condition, with `?` where its one parameter goes. */
  sql: string;
  /** The parameter for this condition, or undefined when the filter does not use it. */
  value(filter: RunFilterFields): unknown;
}

export interface RunWhere {
  /** `c1 AND c2 ...`, or `matchAll` when nothing is filtered. */
  sql: string;
  params: unknown[];
}

/** `placeholder(n)` writes the n-th parameter (`?` for SQLite, `$n` for PostgreSQL). */
export function buildRunWhere(
  conditions: readonly RunCondition[],
  filter: RunFilterFields,
  placeholder: (n: number) => string,
  matchAll: string,
): RunWhere {
  const parts: string[] = [];
  const params: unknown[] = [];
  for (const condition of conditions) {
    const value = condition.value(filter);
    if (value === undefined) continue;
    params.push(value);
    parts.push(condition.sql.replace('?', placeholder(params.length)));
  }
  return { sql: parts.length ? parts.join(' AND ') : matchAll, params };
}
