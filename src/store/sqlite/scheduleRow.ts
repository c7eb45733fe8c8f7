import type { ScheduleOverlap, ScheduleRecord, ScheduleTickRecord } from '../types.js';

export const SCHEDULE_SELECT_COLUMNS =
  'id, workflow, cron, timezone, input, overlap, catchup_window_ms AS catchupWindowMs, jitter_ms AS jitterMs, ' +
  'paused, next_fire_at AS nextFireAt, due_at AS dueAt, last_scheduled_at AS lastScheduledAt, ' +
  'last_run_id AS lastRunId, buffered, claimed_by AS claimedBy, claimed_until AS claimedUntil, version, ' +
  'created_at AS createdAt, updated_at AS updatedAt';

export type ScheduleRow = Omit<ScheduleRecord, 'paused' | 'buffered' | 'overlap'> & {
  paused: number;
  buffered: string;
  overlap: string;
};

export function scheduleFromRow(row: ScheduleRow): ScheduleRecord {
  return {
    ...row,
    overlap: row.overlap as ScheduleOverlap,
    paused: row.paused === 1,
    buffered: JSON.parse(row.buffered),
  };
}

export const TICK_SELECT_COLUMNS =
  'schedule_id AS scheduleId, scheduled_at AS scheduledAt, status, reason, run_id AS runId, source, at';

export type TickRow = ScheduleTickRecord;
