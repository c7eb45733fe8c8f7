import { describe, expect, it } from 'vitest';
import {
  checkSchedule,
  nextFireAfter,
  previousFireBefore,
  scheduleInfoOf,
  scheduleRunKey,
  tickJitterMs,
} from '../../src/model/schedule.js';

const T = Date.parse('2026-05-01T12:00:00.000Z');

describe('schedule definitions', () => {
  it('defaults: id = workflow name, UTC, skip, a 1 minute catch-up window, no jitter', () => {
    expect(checkSchedule('report', { cron: '0 9 * * *' })).toEqual({
      id: 'report',
      workflow: 'report',
      cron: '0 9 * * *',
      timezone: 'UTC',
      input: null,
      overlap: 'skip',
      catchupWindowMs: 60_000,
      jitterMs: 0,
      paused: false,
    });
  });

  it('computes the next and previous fire times, seconds included', () => {
    expect(nextFireAfter('*/10 * * * * *', 'UTC', T)).toBe(T + 10_000);
    expect(nextFireAfter('0 9 * * *', 'Europe/Berlin', T)).toBe(Date.parse('2026-05-02T07:00:00.000Z'));
    expect(previousFireBefore('0 9 * * *', 'Europe/Berlin', T)).toBe(Date.parse('2026-05-01T07:00:00.000Z'));
    // A date that never comes (30 February) never fires.
    expect(nextFireAfter('0 0 30 2 *', 'UTC', T)).toBeNull();
  });
});

describe('tick jitter', () => {
  it('is stable for a tick and stays within [0, jitter]', () => {
    const values = Array.from({ length: 1000 }, (_, i) => tickJitterMs('s', T + i * 60_000, 30_000));
    expect(values.every((v) => Number.isInteger(v) && v >= 0 && v <= 30_000)).toBe(true);
    expect(new Set(values).size).toBeGreaterThan(900);
    expect(tickJitterMs('s', T, 30_000)).toBe(values[0]);
    expect(tickJitterMs('s', T, 0)).toBe(0);
  });
});

describe('the run key of a tick', () => {
  it('names the schedule and the scheduled time, and carries the previous tick', () => {
    const key = scheduleRunKey('nightly', T, T - 86_400_000);
    expect(key).toBe('schedule:nightly@2026-05-01T12:00:00.000Z;previous=2026-04-30T12:00:00.000Z');
    expect(scheduleInfoOf(key)).toEqual({
      id: 'nightly',
      scheduledAt: new Date(T),
      previousScheduledAt: new Date(T - 86_400_000),
    });
    expect(scheduleInfoOf(scheduleRunKey('first', T, null))?.previousScheduledAt).toBeUndefined();
    expect(scheduleInfoOf('order-42')).toBeUndefined();
    expect(scheduleInfoOf(null)).toBeUndefined();
  });
});
