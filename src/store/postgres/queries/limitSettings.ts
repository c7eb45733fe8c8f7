import type pg from 'pg';
import type { KeyedRunCount, LimitKind, LimitSetting } from '../../types.js';
import { READY_CHANNEL, SLOTS_CHANNEL } from '../channels.js';
import { DATABASE_NOW_MS } from '../databaseClock.js';

/**
 * Stores (or replaces) a run-time limit setting, and tells every worker at once: a maxRuns change
 * on braid_ready (workers claim again, and claimKeyedRuns reads the new limit), a pool size change
 * on braid_slots with the pool's name (steps waiting for the pool ask its gate again). Index: the
 * primary key.
 */
export async function setLimitSetting(db: pg.Pool, s: LimitSetting): Promise<void> {
  await db.query({
    name: 'braid_set_limit_setting',
    text: `WITH saved AS (
             INSERT INTO braid.limit_settings (kind, name, value, updated_at) VALUES ($1, $2, $3, $4)
               ON CONFLICT (kind, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
             RETURNING kind, name)
           SELECT CASE WHEN kind = 'pool' THEN pg_notify('${SLOTS_CHANNEL}', name)
                       ELSE pg_notify('${READY_CHANNEL}', '') END FROM saved`,
    values: [s.kind, s.name, s.value, s.updatedAt],
  });
}

/** Drops a setting (the value in code applies again) and tells the workers, as setLimitSetting. */
export async function resetLimitSetting(db: pg.Pool, kind: LimitKind, name: string): Promise<void> {
  await db.query({
    name: 'braid_reset_limit_setting',
    text: `WITH dropped AS (DELETE FROM braid.limit_settings WHERE kind = $1 AND name = $2 RETURNING kind, name)
           SELECT CASE WHEN kind = 'pool' THEN pg_notify('${SLOTS_CHANNEL}', name)
                       ELSE pg_notify('${READY_CHANNEL}', '') END FROM dropped`,
    values: [kind, name],
  });
}

export async function listLimitSettings(db: pg.Pool): Promise<LimitSetting[]> {
  const { rows } = await db.query<LimitSetting>({
    name: 'braid_list_limit_settings',
    text: `SELECT kind, name, value, updated_at::float8 AS "updatedAt" FROM braid.limit_settings ORDER BY kind, name`,
  });
  return rows;
}

/**
 * Unfinished runs per (workflow, concurrency key): active (started) and queued (due now by the
 * database's clock, which wake_at is set by: `_now` is the caller's and is not used). Reads the unfinished runs through runs_status_created_idx;
 * only the API and /metrics ask.
 */
export async function countKeyedRuns(
  db: pg.Pool,
  workflows: readonly string[],
  _now: number,
  limit: number,
): Promise<KeyedRunCount[]> {
  const { rows } = await db.query<KeyedRunCount>({
    name: 'braid_count_keyed_runs',
    text: `SELECT workflow, concurrency_key AS key,
                  (count(*) FILTER (WHERE status <> 'queued'))::int AS active,
                  (count(*) FILTER (WHERE status = 'queued'))::int AS queued
             FROM braid.runs
            WHERE status IN ('queued', 'running', 'waiting', 'paused') AND concurrency_key IS NOT NULL
              AND workflow = ANY($1::text[])
              AND NOT (status = 'queued' AND wake_at IS NOT NULL AND wake_at > ${DATABASE_NOW_MS})
              AND NOT (status = 'paused' AND started_at IS NULL)
            GROUP BY workflow, concurrency_key
            ORDER BY workflow, concurrency_key
            LIMIT $2`,
    values: [workflows, limit],
  });
  return rows;
}
