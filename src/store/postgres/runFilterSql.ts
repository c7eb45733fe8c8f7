import { statusList } from '../runPaging.js';
import { buildRunWhere, type RunCondition, type RunFilterFields, type RunWhere } from '../runWhere.js';

export type { RunFilterFields, RunWhere };

/** PostgreSQL's conditions for a RunFilter (see runWhere.ts); a status list is one array parameter. */
const CONDITIONS: readonly RunCondition[] = [
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

export function runWhere(filter: RunFilterFields): RunWhere {
  return buildRunWhere(CONDITIONS, filter, (n) => `$${n}`, 'true');
}
