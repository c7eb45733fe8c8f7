import type Database from 'better-sqlite3';
import type { StepRecord } from '../../types.js';
import { prepareRowWriter } from '../rowWriter.js';

/**
 * Writes steps: inserts each (run_id, name) or replaces every field of the existing row.
 * Within one batch the later record for a step wins. Index: the steps primary key (run_id, name).
 * Booleans are stored as 0/1. Rows go up to 256 per statement (rowWriter.ts).
 */
export function prepareUpsertSteps(db: Database.Database): (steps: readonly StepRecord[]) => void {
  const writer = prepareRowWriter<StepRecord>(
    db,
    12,
    (values) =>
      `INSERT INTO steps (run_id, name, status, attempts, output, error, started_at, finished_at, next_attempt_at,
                          route, cache_hit, fallback_used)
       VALUES ${values}
       ON CONFLICT (run_id, name) DO UPDATE SET
         status = excluded.status, attempts = excluded.attempts, output = excluded.output, error = excluded.error,
         started_at = excluded.started_at, finished_at = excluded.finished_at,
         next_attempt_at = excluded.next_attempt_at, route = excluded.route, cache_hit = excluded.cache_hit,
         fallback_used = excluded.fallback_used`,
    bindStep,
  );
  return (steps) => writer.write(steps);
}

function bindStep(step: StepRecord, params: unknown[], offset: number): void {
  params[offset] = step.runId;
  params[offset + 1] = step.name;
  params[offset + 2] = step.status;
  params[offset + 3] = step.attempts;
  params[offset + 4] = step.output;
  params[offset + 5] = step.error;
  params[offset + 6] = step.startedAt;
  params[offset + 7] = step.finishedAt;
  params[offset + 8] = step.nextAttemptAt;
  params[offset + 9] = step.route;
  params[offset + 10] = step.cacheHit ? 1 : 0;
  params[offset + 11] = step.fallbackUsed ? 1 : 0;
}
