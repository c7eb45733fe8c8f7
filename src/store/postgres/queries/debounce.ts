import type pg from 'pg';
import { type DebounceResult, type DebounceTrigger, NO_MAX_WAIT } from '../../types.js';
import { ASLEEP_CHANNEL } from '../channels.js';
import { DATABASE_NOW_MS } from '../databaseClock.js';
import { inTransaction } from '../transaction.js';

interface KeyRow {
  runId: string;
  firstAt: string;
  triggers: number;
  isNew: boolean;
}

/**
 * Records a trigger of a debounced workflow (see DebounceTrigger), exactly once across processes:
 * 1. The key's row is inserted or, if there, locked (INSERT ... ON CONFLICT DO UPDATE locks it):
 *    triggers of one key queue behind each other, whichever process sends them.
 * 2. The row's run is locked if it is still pending: queued, not started, no worker holds it and
 *    its wake_at (due time) is ahead by the database's clock. A claim that took it first (it locks
 *    with SKIP LOCKED and sets owner_id) makes it not pending; a claim after this waits for the
 *    commit and then sees the new input and due time.
 * 3. Pending: its input and due time change. Otherwise a new run is inserted and the row names it.
 * The run's due time is announced on braid_asleep, so every worker's wake-up timer covers it.
 * Indexes: debounces primary key, runs primary key.
 */
export async function debounce(pool: pg.Pool, trigger: DebounceTrigger): Promise<DebounceResult> {
  const { key, windowMs } = trigger;
  const maxWaitMs = trigger.maxWaitMs ?? NO_MAX_WAIT;
  const run = trigger.run;
  return inTransaction(pool, async (client) => {
    const locked = await client.query<KeyRow>({
      name: 'braid_debounce_lock_key',
      text: `INSERT INTO braid.debounces AS d (workflow, key, run_id, first_at, last_at, due_at, triggers)
             VALUES ($1, $2, $3, ${DATABASE_NOW_MS}, ${DATABASE_NOW_MS}, ${DATABASE_NOW_MS}, 0)
             ON CONFLICT (workflow, key) DO UPDATE SET triggers = d.triggers
             RETURNING run_id AS "runId", first_at AS "firstAt", triggers, (xmax = 0) AS "isNew"`,
      values: [run.workflow, key, run.id],
    });
    const row = locked.rows[0] as KeyRow;
    let pending = false;
    if (!row.isNew) {
      const found = await client.query({
        name: 'braid_debounce_lock_run',
        text: `SELECT 1 FROM braid.runs
                WHERE id = $1 AND status = 'queued' AND started_at IS NULL AND owner_id IS NULL
                  AND wake_at > ${DATABASE_NOW_MS}
                FOR UPDATE`,
        values: [row.runId],
      });
      pending = found.rowCount === 1;
    }
    let result: DebounceResult;
    if (pending) {
      const { rows } = await client.query<{ dueAt: string; triggers: number }>({
        name: 'braid_debounce_join',
        text: `WITH key_row AS (
                 UPDATE braid.debounces
                    SET last_at = ${DATABASE_NOW_MS},
                        due_at = least(${DATABASE_NOW_MS} + $3, first_at + $4), triggers = triggers + 1
                  WHERE workflow = $1 AND key = $2
                 RETURNING run_id, due_at, triggers
               ), run_row AS (
                 UPDATE braid.runs r SET input = $5, priority = $6, wake_at = k.due_at
                   FROM key_row k WHERE r.id = k.run_id
                 RETURNING r.id
               )
               SELECT k.due_at AS "dueAt", k.triggers FROM key_row k, run_row`,
        values: [run.workflow, key, windowMs, maxWaitMs, run.input, run.priority],
      });
      const joined = rows[0] as { dueAt: string; triggers: number };
      result = { runId: row.runId, isNew: false, triggers: joined.triggers, dueAt: Number(joined.dueAt) };
    } else {
      const { rows } = await client.query<{ dueAt: string }>({
        name: 'braid_debounce_start',
        text: `WITH key_row AS (
                 UPDATE braid.debounces
                    SET run_id = $3, first_at = ${DATABASE_NOW_MS}, last_at = ${DATABASE_NOW_MS},
                        due_at = ${DATABASE_NOW_MS} + least($4::bigint, $5::bigint), triggers = 1
                  WHERE workflow = $1 AND key = $2
                 RETURNING due_at
               )
               INSERT INTO braid.runs (id, workflow, version, status, input, output, error, globals, idempotency_key,
                                       parent_run_id, parent_step, spawn_key, root_run_id, concurrency_key, replay_of,
                                       created_at, started_at, finished_at, deadline_at, checkpoint_seq, owner_id,
                                       wake_at, paused_at, priority)
               SELECT $3, $1, $6, 'queued', $7, NULL, NULL, $8, NULL, NULL, NULL, NULL, $3, $9, NULL,
                      $10, NULL, NULL, NULL, 0, NULL, k.due_at, NULL, $11
                 FROM key_row k
               RETURNING wake_at AS "dueAt"`,
        values: [
          run.workflow,
          key,
          run.id,
          windowMs,
          maxWaitMs,
          run.version,
          run.input,
          run.globals,
          run.concurrencyKey,
          run.createdAt,
          run.priority,
        ],
      });
      const started = rows[0] as { dueAt: string };
      result = { runId: run.id, isNew: true, triggers: 1, dueAt: Number(started.dueAt) };
    }
    await client.query({
      name: 'braid_debounce_record',
      text: `WITH recorded AS (
               INSERT INTO braid.events (run_id, step, type, at, attempt, data)
               VALUES ($1, NULL, 'run_queued', ${DATABASE_NOW_MS}, NULL, $2)
             )
             SELECT pg_notify('${ASLEEP_CHANNEL}', greatest($3 - ${DATABASE_NOW_MS}, 0)::text)`,
      values: [result.runId, JSON.stringify({ reason: 'debounce', key, trigger: result.triggers }), result.dueAt],
    });
    return result;
  });
}
