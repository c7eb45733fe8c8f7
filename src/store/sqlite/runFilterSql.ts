import { statusList } from '../runPaging.js';
import { buildRunWhere, type RunCondition, type RunFilterFields, type RunWhere } from '../runWhere.js';

export type { RunFilterFields, RunWhere };

/** SQLite's conditions for a RunFilter (see runWhere.ts); a status list is one JSON parameter. */
const CONDITIONS: readonly RunCondition[] = [
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

export function runWhere(filter: RunFilterFields): RunWhere {
  return buildRunWhere(CONDITIONS, filter, () => '?', '1');
}

function oneStatus(filter: RunFilterFields): string | undefined {
  const statuses = statusList(filter.status);
  return statuses?.length === 1 ? statuses[0] : undefined;
}

function manyStatuses(filter: RunFilterFields): string | undefined {
  const statuses = statusList(filter.status);
  return statuses && statuses.length !== 1 ? JSON.stringify(statuses) : undefined;
}
