import type { RunRecord } from '../types.js';

/**
 * How a RunRecord maps to a `runs` row, in one place for the queries that write and read runs.
 * Reads alias snake_case columns to the record's names, so a row comes back as a RunRecord
 * with no per-row mapping (runs have no booleans to convert).
 */

/** Insert column order; `bindRun` writes values in this order. */
export const RUN_INSERT_COLUMNS =
  'id, workflow, version, status, input, output, error, globals, idempotency_key, parent_run_id, parent_step, ' +
  'spawn_key, root_run_id, concurrency_key, replay_of, created_at, started_at, finished_at, deadline_at, checkpoint_seq, ' +
  'wake_at, paused_at';
export const RUN_COLUMN_COUNT = 22;

export const RUN_SELECT_COLUMNS =
  'id, workflow, version, status, input, output, error, globals, idempotency_key AS idempotencyKey, ' +
  'parent_run_id AS parentRunId, parent_step AS parentStep, spawn_key AS spawnKey, root_run_id AS rootRunId, ' +
  'concurrency_key AS concurrencyKey, replay_of AS replayOf, created_at AS createdAt, started_at AS startedAt, ' +
  'finished_at AS finishedAt, deadline_at AS deadlineAt, checkpoint_seq AS checkpointSeq, wake_at AS wakeAt, ' +
  'paused_at AS pausedAt';

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
}
