import { Cron } from 'croner';
import { type Duration, durationMs } from './durations.js';
import { InvalidCronError, InvalidScheduleError, InvalidTimezoneError } from './errors.js';
import type { Workflow } from './workflow.js';

export { type ScheduleInfo, scheduleInfoOf, scheduleRunKey } from './scheduleInfo.js';

/**
 * What a tick does when the schedule's previous run is still running:
 * - `skip` (default): the tick is recorded as skipped (reason `overlap`) and nothing starts;
 * - `buffer_one`: the tick waits and starts when the running run ends; while one waits, later ticks are skipped;
 * - `buffer_all`: every tick waits, and they start one after another as each run ends;
 * - `cancel_other`: the running run is cancelled, then the tick's run starts;
 * - `allow_all`: the tick's run starts anyway (runs of one schedule may overlap).
 */
export const OVERLAP_POLICIES = ['skip', 'buffer_one', 'buffer_all', 'cancel_other', 'allow_all'] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

/** Default `catchupWindow`: a tick missed by less than this (a restart, a slow deploy) still runs. */
export const DEFAULT_CATCHUP_WINDOW_MS = 60_000;

export interface ScheduleOptions<TInput = unknown> {
  /**
   * The schedule's id: stable, unique per store (default: the workflow's name). Letters, digits and
   * `.`, `_`, `-`, `:`, at most 128 characters.
   */
  id?: string;
  /** 5 fields (minute first) or 6 (seconds first), read by croner: `'0 9 * * 1-5'`, `'*\/10 * * * * *'`. */
  cron: string;
  /** IANA time zone the cron expression is read in (default `'UTC'`). */
  timezone?: string;
  /** The input of every run it starts (checked against the workflow's schema when the schedule is stored). */
  input?: TInput;
  /** What a tick does while the previous run still runs (default `'skip'`). */
  overlap?: OverlapPolicy;
  /** After downtime, missed ticks younger than this still run; older ones are recorded as skipped. Default 1 minute. */
  catchupWindow?: Duration;
  /** Delays each tick's start by a stable pseudo-random amount in [0, jitter] (default 0). */
  jitter?: Duration;
  /** Create it paused (default false). A schedule defined in code keeps the paused state it has in the store. */
  paused?: boolean;
}

/** A checked schedule, as it is stored (input still a value). */
export interface ScheduleSpec {
  id: string;
  workflow: string;
  cron: string;
  timezone: string;
  input: unknown;
  overlap: OverlapPolicy;
  catchupWindowMs: number;
  jitterMs: number;
  paused: boolean;
}

/** A schedule defined in code: register it with `new WorkflowExecutor({ schedules: [...] })`. */
export class Schedule<TInput = unknown> {
  readonly spec: ScheduleSpec;
  constructor(
    readonly workflow: Workflow<TInput, any, any>,
    options: ScheduleOptions<TInput>,
  ) {
    this.spec = checkSchedule(workflow.name, options);
  }

  get id(): string {
    return this.spec.id;
  }
}

/** Defines a schedule: `schedule(report, { cron: '0 9 * * *', timezone: 'Europe/Berlin' })`. */
export function schedule<TInput>(
  workflow: Workflow<TInput, any, any>,
  options: ScheduleOptions<TInput>,
): Schedule<TInput> {
  return new Schedule(workflow, options);
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** Checks every option; a typed error naming the field for the first one that is wrong. */
export function checkSchedule(workflow: string, options: ScheduleOptions<unknown>): ScheduleSpec {
  const id = options.id ?? workflow;
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    throw new InvalidScheduleError(
      String(id),
      'id',
      'letters, digits, ".", "_", "-" or ":" (starting with a letter or digit), at most 128 characters',
      id,
    );
  }
  const timezone = options.timezone ?? 'UTC';
  checkTimezone(id, timezone);
  checkCron(id, options.cron, timezone);
  const overlap = options.overlap ?? 'skip';
  if (!OVERLAP_POLICIES.includes(overlap)) {
    throw new InvalidScheduleError(id, 'overlap', `one of ${OVERLAP_POLICIES.join(', ')}`, overlap);
  }
  const catchupWindowMs = durationMs(
    options.catchupWindow ?? DEFAULT_CATCHUP_WINDOW_MS,
    `Schedule "${id}": catchupWindow`,
  );
  const jitterMs = durationMs(options.jitter ?? 0, `Schedule "${id}": jitter`);
  if (options.paused !== undefined && typeof options.paused !== 'boolean') {
    throw new InvalidScheduleError(id, 'paused', 'true or false', options.paused);
  }
  return {
    id,
    workflow,
    cron: options.cron,
    timezone,
    input: options.input ?? null,
    overlap,
    catchupWindowMs,
    jitterMs,
    paused: options.paused ?? false,
  };
}

function checkTimezone(id: string, timezone: unknown): asserts timezone is string {
  if (typeof timezone !== 'string' || !timezone) throw new InvalidTimezoneError(id, String(timezone));
  try {
    // Intl knows the IANA database Node ships with; croner would only fail later, at the first tick.
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new InvalidTimezoneError(id, timezone);
  }
}

function checkCron(id: string, cron: unknown, timezone: string): asserts cron is string {
  if (typeof cron !== 'string') throw new InvalidCronError(id, String(cron), 'it is not a string');
  try {
    new Cron(cron, { timezone, paused: true });
  } catch (error) {
    // croner's message names the rule broken ("Invalid value for minute: 61"); ours adds what is valid.
    const reason = (error as Error).message.replace(/^CronPattern:\s*/, '');
    throw new InvalidCronError(id, cron, reason);
  }
}

/**
 * The first fire time strictly after `afterMs` (epoch ms), or null when the expression never fires
 * again. Daylight saving (croner's rules, pinned by test/engine/schedules.dst.test.ts): a local time
 * that does not exist (the spring gap) fires at the first instant after the gap; a local time that
 * happens twice (the autumn repeat) fires once, at its first occurrence, except for fields written
 * as wildcards or steps (`0 * * * *` fires every real hour, so twice at the repeated hour).
 */
export function nextFireAfter(cron: string, timezone: string, afterMs: number): number | null {
  const next = new Cron(cron, { timezone, paused: true }).nextRun(new Date(afterMs));
  return next ? next.getTime() : null;
}

/** The last fire time strictly before `beforeMs`, or null (for a backfilled tick's previous one). */
export function previousFireBefore(cron: string, timezone: string, beforeMs: number): number | null {
  const [previous] = new Cron(cron, { timezone, paused: true }).previousRuns(1, new Date(beforeMs));
  return previous ? previous.getTime() : null;
}

/**
 * How long a tick's start is delayed: a stable pseudo-random amount in [0, jitterMs], from an
 * FNV-1a hash of (schedule, scheduled time). Stable, so every process and every restart delays the
 * same tick by the same amount; and the tick's identity stays its scheduled time.
 */
export function tickJitterMs(scheduleId: string, scheduledAt: number, jitterMs: number): number {
  if (jitterMs <= 0) return 0;
  let hash = 0x811c9dc5;
  const text = `${scheduleId}@${scheduledAt}`;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % (Math.floor(jitterMs) + 1);
}
