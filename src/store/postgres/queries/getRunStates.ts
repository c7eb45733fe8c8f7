import type pg from 'pg';
import { groupRunStates } from '../../runStates.js';
import type { StepRecord, StoredRunState, WaitRecord } from '../../types.js';
import { STEP_COLUMNS } from '../recordColumns.js';
import { WAIT_COLUMNS } from './getWaits.js';

/**
 * The steps and waits of many runs in one round trip (as JSON: bigint columns come back as
 * numbers, as the pool's parsers give them). Index: the steps and waits primary keys, one range
 * per run. Used by loading runs back into memory and by a worker's claim (inside its transaction,
 * after the runs are locked).
 */
export async function getRunStates(
  db: pg.Pool | pg.PoolClient,
  runIds: readonly string[],
): Promise<Map<string, StoredRunState>> {
  if (!runIds.length) return new Map();
  const { rows } = await db.query<{ steps: StepRecord[]; waits: WaitRecord[] }>({
    name: 'braid_get_run_states',
    text: `SELECT (SELECT coalesce(json_agg(s), '[]') FROM (
                     SELECT ${STEP_COLUMNS} FROM braid.steps WHERE run_id = ANY($1) ORDER BY run_id, name) AS s) AS steps,
                  (SELECT coalesce(json_agg(w), '[]') FROM (
                     SELECT ${WAIT_COLUMNS} FROM braid.waits WHERE run_id = ANY($1)
                      ORDER BY created_at, step, key) AS w) AS waits`,
    values: [runIds],
  });
  return groupRunStates(rows[0]?.steps ?? [], rows[0]?.waits ?? []);
}
