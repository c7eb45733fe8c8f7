import { statusList } from '../runPaging.js';
import type { RunFilter } from '../types.js';

/**
 * The WHERE clause for a RunFilter, shared by listRuns and countRuns. Each filter the caller sets
 * adds one fixed condition from the list below, so SQLite can pick the index for that filter
 * (workflow, status, parent, root). The alternative, one statement with `(? IS NULL OR col = ?)`
 * for every filter, cannot use any of those indexes and scans every run. The conditions are
 * constants and values are always parameters, so there are at most 2^9 distinct statements; each
 * is prepared once per store, cached by its text.
 */

export type RunFilterFields = Omit<RunFilter, 'cursor' | 'limit' | 'order'>;

interface Condition {
  sql: string;
  /** The parameter for this condition, or undefined when the filter does not use it. */
  value(filter: RunFilterFields): unknown;
}

const CONDITIONS: readonly Condition[] = [
  { sql: 'workflow = ?', value: (f) => f.workflow },
  { sql: 'status = ?', value: (f) => oneStatus(f) },
  // A list of statuses is one JSON parameter, so lists of any length share one statement.
  { sql: 'status IN (SELECT value FROM json_each(?))', value: (f) => manyStatuses(f) },
  { sql: 'parent_run_id = ?', value: (f) => f.parentRunId },
  // The parameter is always 1; it keeps every condition the same shape (one value each).
  { sql: '(parent_run_id IS NULL AND ? = 1)', value: (f) => (f.topLevel ? 1 : undefined) },
  { sql: 'parent_step = ?', value: (f) => f.parentStep },
  { sql: 'root_run_id = ?', value: (f) => f.rootRunId },
  { sql: 'created_at >= ?', value: (f) => f.since },
  { sql: 'created_at < ?', value: (f) => f.until },
];

export interface RunWhere {
  /** `c1 AND c2 ...`, or `1` when nothing is filtered. */
  sql: string;
  params: unknown[];
}

export function runWhere(filter: RunFilterFields): RunWhere {
  const conditions: string[] = [];
  const params: unknown[] = [];
  for (const condition of CONDITIONS) {
    const value = condition.value(filter);
    if (value === undefined) continue;
    conditions.push(condition.sql);
    params.push(value);
  }
  return { sql: conditions.length ? conditions.join(' AND ') : '1', params };
}

function oneStatus(filter: RunFilterFields): string | undefined {
  const statuses = statusList(filter.status);
  return statuses?.length === 1 ? statuses[0] : undefined;
}

function manyStatuses(filter: RunFilterFields): string | undefined {
  const statuses = statusList(filter.status);
  return statuses && statuses.length !== 1 ? JSON.stringify(statuses) : undefined;
}
