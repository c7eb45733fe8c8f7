/**
 * Select lists that read rows straight into RunRecord / StepRecord shape (bigint columns are
 * parsed as numbers by the pool's type parsers), so reads need no mapping code per query.
 */
export const RUN_COLUMNS = [
  'id',
  'workflow',
  'version',
  'status',
  'input',
  'output',
  'error',
  'globals',
  'idempotency_key AS "idempotencyKey"',
  'parent_run_id AS "parentRunId"',
  'parent_step AS "parentStep"',
  'spawn_key AS "spawnKey"',
  'root_run_id AS "rootRunId"',
  'concurrency_key AS "concurrencyKey"',
  'replay_of AS "replayOf"',
  'created_at AS "createdAt"',
  'started_at AS "startedAt"',
  'finished_at AS "finishedAt"',
  'deadline_at AS "deadlineAt"',
  'checkpoint_seq AS "checkpointSeq"',
  'wake_at AS "wakeAt"',
  'paused_at AS "pausedAt"',
  'priority',
].join(', ');

export const STEP_COLUMNS = [
  'run_id AS "runId"',
  'name',
  'status',
  'attempts',
  'output',
  'error',
  'started_at AS "startedAt"',
  'finished_at AS "finishedAt"',
  'next_attempt_at AS "nextAttemptAt"',
  'route',
  'cache_hit AS "cacheHit"',
  'fallback_used AS "fallbackUsed"',
].join(', ');
