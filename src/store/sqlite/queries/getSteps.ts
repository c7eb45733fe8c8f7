import type Database from 'better-sqlite3';
import type { StepRecord } from '../../types.js';

/** Reads a run's steps, by name. Index: the steps primary key (run_id, name), one range. */
export function prepareGetSteps(db: Database.Database): (runId: string) => StepRecord[] {
  const select = db.prepare<[string], StepRow>(
    `SELECT run_id AS runId, name, status, attempts, output, error, started_at AS startedAt,
            finished_at AS finishedAt, next_attempt_at AS nextAttemptAt, route, cache_hit AS cacheHit,
            fallback_used AS fallbackUsed
       FROM steps WHERE run_id = ? ORDER BY name`,
  );
  return (runId) => {
    const rows = select.all(runId);
    for (const row of rows) {
      (row as unknown as StepRecord).cacheHit = row.cacheHit === 1;
      (row as unknown as StepRecord).fallbackUsed = row.fallbackUsed === 1;
    }
    return rows as unknown as StepRecord[];
  };
}

type StepRow = Omit<StepRecord, 'cacheHit' | 'fallbackUsed'> & { cacheHit: number; fallbackUsed: number };
