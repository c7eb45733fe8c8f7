import type pg from 'pg';
import type { StepRecord } from '../../types.js';

/** Reads a run's steps, by name. Index: the steps primary key (run_id, name), one range. */
export async function getSteps(db: pg.Pool, runId: string): Promise<StepRecord[]> {
  const { rows } = await db.query<StepRecord>({
    name: 'braid_get_steps',
    text: `SELECT run_id AS "runId", name, status, attempts, output, error, started_at AS "startedAt",
                  finished_at AS "finishedAt", next_attempt_at AS "nextAttemptAt", route,
                  cache_hit AS "cacheHit", fallback_used AS "fallbackUsed"
             FROM braid.steps WHERE run_id = $1 ORDER BY name`,
    values: [runId],
  });
  return rows;
}
