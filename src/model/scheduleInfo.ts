/** What a run started by a schedule knows of it (`ctx.schedule`). */
export interface ScheduleInfo {
  id: string;
  /** The tick's scheduled time (not when it started: jitter, catch-up and buffering start it later). */
  scheduledAt: Date;
  /** The schedule's tick before this one, if any. */
  previousScheduledAt: Date | undefined;
}

const KEY_PREFIX = 'schedule:';

/**
 * The idempotency key of a tick's run: the schedule and the scheduled time name it, so a tick
 * started twice (two processes, a retry after a crash) is one run. The previous tick rides along
 * for `ctx.schedule`.
 */
export function scheduleRunKey(scheduleId: string, scheduledAt: number, previousScheduledAt: number | null): string {
  const previous = previousScheduledAt === null ? '' : new Date(previousScheduledAt).toISOString();
  return `${KEY_PREFIX}${scheduleId}@${new Date(scheduledAt).toISOString()};previous=${previous}`;
}

/** `ctx.schedule` from a run's idempotency key; undefined for a run no schedule started. */
export function scheduleInfoOf(idempotencyKey: string | null): ScheduleInfo | undefined {
  if (!idempotencyKey?.startsWith(KEY_PREFIX)) return undefined;
  const match = /^schedule:([^@]+)@([^;]+);previous=(.*)$/.exec(idempotencyKey);
  if (!match) return undefined;
  const scheduledAt = new Date(match[2] as string);
  if (Number.isNaN(scheduledAt.getTime())) return undefined;
  return {
    id: match[1] as string,
    scheduledAt,
    previousScheduledAt: match[3] ? new Date(match[3]) : undefined,
  };
}
