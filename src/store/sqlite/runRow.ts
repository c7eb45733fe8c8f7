import type { RunRecord } from '../types.js';

/**
 * How a RunRecord maps to a `runs` row, in one place for the queries that write and read runs.
 * Reads take rows as arrays (`raw()`) and build each record with one object literal (`runOfRow`):
 * better-sqlite3 builds a row object one property at a time, and past a dozen properties V8 turns
 * it into a dictionary: 22 columns made every run read from SQLite a slow-mode object, two to
 * three times as costly to read back and to use in the engine afterwards.
 */

/** Insert column order; `bindRun` writes values in this order. */
export const RUN_INSERT_COLUMNS =
  'id, workflow, version, status, input, output, error, globals, idempotency_key, parent_run_id, parent_step, ' +
  'spawn_key, root_run_id, concurrency_key, replay_of, created_at, started_at, finished_at, deadline_at, checkpoint_seq, ' +
  'wake_at, paused_at, priority';
export const RUN_COLUMN_COUNT = 23;

export const RUN_SELECT_COLUMNS =
  'id, workflow, version, status, input, output, error, globals, idempotency_key AS idempotencyKey, ' +
  'parent_run_id AS parentRunId, parent_step AS parentStep, spawn_key AS spawnKey, root_run_id AS rootRunId, ' +
  'concurrency_key AS concurrencyKey, replay_of AS replayOf, created_at AS createdAt, started_at AS startedAt, ' +
  'finished_at AS finishedAt, deadline_at AS deadlineAt, checkpoint_seq AS checkpointSeq, wake_at AS wakeAt, ' +
  'paused_at AS pausedAt, priority';

/** A row read with RUN_SELECT_COLUMNS in raw mode, as a RunRecord (one shape for every run). */
export function runOfRow(row: unknown[]): RunRecord {
  return {
    id: row[0] as string,
    workflow: row[1] as string,
    version: row[2] as string,
    status: row[3] as RunRecord['status'],
    input: row[4] as string,
    output: row[5] as string | null,
    error: row[6] as string | null,
    globals: row[7] as string,
    idempotencyKey: row[8] as string | null,
    parentRunId: row[9] as string | null,
    parentStep: row[10] as string | null,
    spawnKey: row[11] as string | null,
    rootRunId: row[12] as string,
    concurrencyKey: row[13] as string | null,
    replayOf: row[14] as string | null,
    createdAt: row[15] as number,
    startedAt: row[16] as number | null,
    finishedAt: row[17] as number | null,
    deadlineAt: row[18] as number | null,
    checkpointSeq: row[19] as number,
    wakeAt: row[20] as number | null,
    pausedAt: row[21] as number | null,
    priority: row[22] as number,
  };
}

/** Writes the run's values into `params` from `offset`, in RUN_INSERT_COLUMNS order. Undefined binds as NULL. */
export function bindRun(run: RunRecord, params: unknown[], offset: number): void {
  params[offset] = run.id;
  params[offset + 1] = run.workflow;
  params[offset + 2] = run.version;
  params[offset + 3] = run.status;
  params[offset + 4] = run.input;
  params[offset + 5] = run.output;
  params[offset + 6] = run.error;
  params[offset + 7] = run.globals;
  params[offset + 8] = run.idempotencyKey;
  params[offset + 9] = run.parentRunId;
  params[offset + 10] = run.parentStep;
  params[offset + 11] = run.spawnKey;
  params[offset + 12] = run.rootRunId;
  params[offset + 13] = run.concurrencyKey;
  params[offset + 14] = run.replayOf;
  params[offset + 15] = run.createdAt;
  params[offset + 16] = run.startedAt;
  params[offset + 17] = run.finishedAt;
  params[offset + 18] = run.deadlineAt;
  params[offset + 19] = run.checkpointSeq;
  params[offset + 20] = run.wakeAt;
  params[offset + 21] = run.pausedAt;
  params[offset + 22] = run.priority ?? 0;
}
