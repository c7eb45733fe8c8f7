-- Braid schema for PostgreSQL, version 7: schedules and their ticks. See the SQLite migration of
-- the same number for what each column means.

-- Every write compare-and-sets `version`; workers lease due rows with FOR UPDATE SKIP LOCKED
-- (claimDueSchedules), so racing workers handle each tick once.
CREATE TABLE braid.schedules (
  id text COLLATE "C" PRIMARY KEY,
  workflow text NOT NULL,
  cron text NOT NULL,
  timezone text NOT NULL,
  input text NOT NULL,
  overlap text NOT NULL,
  catchup_window_ms bigint NOT NULL,
  jitter_ms bigint NOT NULL,
  paused boolean NOT NULL,
  next_fire_at bigint,
  due_at bigint,
  last_scheduled_at bigint,
  last_run_id text,
  buffered text NOT NULL,
  claimed_by text,
  claimed_until bigint,
  version bigint NOT NULL,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL
);

-- nextScheduleDueAt and claimDueSchedules: the earliest due schedules.
CREATE INDEX schedules_due_at_idx ON braid.schedules (due_at) WHERE due_at IS NOT NULL;

-- (schedule, scheduled time) is a tick's identity: recorded once.
CREATE TABLE braid.schedule_ticks (
  schedule_id text COLLATE "C" NOT NULL,
  scheduled_at bigint NOT NULL,
  status text NOT NULL,
  reason text,
  run_id text,
  source text NOT NULL,
  at bigint NOT NULL,
  PRIMARY KEY (schedule_id, scheduled_at)
);
