-- Braid schema, version 7: schedules (cron) and the record of their ticks.

-- One row per schedule. next_fire_at is the next SCHEDULED time (computed from the previous
-- scheduled time, so it never drifts); due_at is when a process must look at it next (that tick
-- plus its stable jitter, or sooner while ticks are buffered; NULL: never, e.g. paused). Every
-- write compare-and-sets `version`, so a tick is handled once even by racing writers.
-- buffered: JSON array of the scheduled times of ticks waiting for the running run to end.
-- claimed_by / claimed_until: the lease of the process handling it (scale-out stores).
CREATE TABLE schedules (
  id TEXT PRIMARY KEY NOT NULL,
  workflow TEXT NOT NULL,
  cron TEXT NOT NULL,
  timezone TEXT NOT NULL,
  input TEXT NOT NULL,
  overlap TEXT NOT NULL,
  catchup_window_ms INTEGER NOT NULL,
  jitter_ms INTEGER NOT NULL,
  paused INTEGER NOT NULL,
  next_fire_at INTEGER,
  due_at INTEGER,
  last_scheduled_at INTEGER,
  last_run_id TEXT,
  buffered TEXT NOT NULL,
  claimed_by TEXT,
  claimed_until INTEGER,
  version INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

-- nextScheduleDueAt and claimDueSchedules: the earliest due schedules. 10,000 schedules cost
-- rows and index entries, never a timer each.
CREATE INDEX schedules_due_at_idx ON schedules (due_at) WHERE due_at IS NOT NULL;

-- One row per tick: (schedule, scheduled time) is its identity, so a tick is recorded once.
-- status: started (run_id set), skipped (reason: overlap, catchup_window, paused) or buffered.
-- source: cron, trigger (run now) or backfill.
CREATE TABLE schedule_ticks (
  schedule_id TEXT NOT NULL,
  scheduled_at INTEGER NOT NULL,
  status TEXT NOT NULL,
  reason TEXT,
  run_id TEXT,
  source TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (schedule_id, scheduled_at)
);
