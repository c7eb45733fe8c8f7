import { statusList } from '../runPaging.js';
import type { RunFilter } from '../types.js';

/**
 * The WHERE clause for a RunFilter, shared by listRuns and countRuns. Each filter the caller sets
 * adds one fixed condition from the list below, so the planner can pick the index for that
 * filter (workflow, status, parent, root). The alternative, one statement with
 * `($1 IS NULL OR col = $1)` for every filter, gets a generic plan that can use none of them.
 * The conditions are constants and values are always parameters.
 */

export type RunFilterFields = Omit<RunFilter, 'cursor' | 'limit' | 'order'>;

interface Condition {
  /** The condition, with `?` where its one parameter goes. */
  sql: string;
  /** The parameter for this condition, or undefined when the filter does not use it. */
  value(filter: RunFilterFields): unknown;
}

const CONDITIONS: readonly Condition[] = [
  { sql: 'workflow = ?', value: (f) => f.workflow },
  { sql: 'status = ANY(?::text[])', value: (f) => statusList(f.status) },
  { sql: 'parent_run_id = ?', value: (f) => f.parentRunId },
  // The parameter is always true; it keeps every condition the same shape (one value each).
  { sql: '(parent_run_id IS NULL AND ?::boolean)', value: (f) => (f.topLevel ? true : undefined) },
  { sql: 'parent_step = ?', value: (f) => f.parentStep },
  { sql: 'root_run_id = ?', value: (f) => f.rootRunId },
  { sql: 'created_at >= ?', value: (f) => f.since },
  { sql: 'created_at < ?', value: (f) => f.until },
];

export interface RunWhere {
  /** `c1 AND c2 ...`, or `true` when nothing is filtered; parameters numbered from $1. */
  sql: string;
  params: unknown[];
}

export function runWhere(filter: RunFilterFields): RunWhere {
  const conditions: string[] = [];
  const params: unknown[] = [];
  for (const condition of CONDITIONS) {
    const value = condition.value(filter);
    if (value === undefined) continue;
    params.push(value);
    conditions.push(condition.sql.replace('?', `$${params.length}`));
  }
  return { sql: conditions.length ? conditions.join(' AND ') : 'true', params };
}
