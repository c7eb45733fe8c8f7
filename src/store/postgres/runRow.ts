/**
 * How a RunRecord maps to a `braid.runs` row, in one place for the queries that read runs.
 * Reads alias snake_case columns to the record's names (quoted: PostgreSQL folds unquoted names
 * to lower case), and the pool parses bigint as number, so a row comes back as a RunRecord with
 * no per-row mapping.
 */
export const RUN_SELECT_COLUMNS =
  'id, workflow, version, status, input, output, error, globals, idempotency_key AS "idempotencyKey", ' +
  'parent_run_id AS "parentRunId", parent_step AS "parentStep", spawn_key AS "spawnKey", ' +
  'root_run_id AS "rootRunId", concurrency_key AS "concurrencyKey", replay_of AS "replayOf", ' +
  'created_at AS "createdAt", started_at AS "startedAt", finished_at AS "finishedAt", ' +
  'deadline_at AS "deadlineAt", checkpoint_seq AS "checkpointSeq", wake_at AS "wakeAt", paused_at AS "pausedAt", priority';
