import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { emptyBatch, type ScheduleRecord, type ScheduleTickRecord } from '../../src/store/types.js';
import { makeRun } from './conformance.js';

const T0 = 1_700_000_000_000;
const DAY = 86_400_000;

/** The time a store judges due times by: T0 for one that takes the engine's, else the database's clock. */
async function storeNow(store: Store): Promise<number> {
  if (!store.usesDatabaseClock) return T0;
  if (!store.readDatabaseClock) throw new Error('a store that usesDatabaseClock must readDatabaseClock');
  return store.readDatabaseClock();
}

export function makeSchedule(overrides: Partial<ScheduleRecord> = {}): ScheduleRecord {
  return {
    id: 'nightly',
    workflow: 'report',
    cron: '0 2 * * *',
    timezone: 'Europe/Berlin',
    input: '{"day":1}',
    overlap: 'buffer_all',
    catchupWindowMs: 60_000,
    jitterMs: 5_000,
    paused: false,
    nextFireAt: T0 + 1_000,
    dueAt: T0 + 1_500,
    lastScheduledAt: T0 - 86_400_000,
    lastRunId: 'run-0',
    buffered: [T0 - 2, T0 - 1],
    claimedBy: null,
    claimedUntil: null,
    version: 1,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

const tick = (over: Partial<ScheduleTickRecord> = {}): ScheduleTickRecord => ({
  scheduleId: 'nightly',
  scheduledAt: T0,
  status: 'skipped',
  reason: 'overlap',
  runId: null,
  source: 'cron',
  at: T0 + 3,
  ...over,
});

/** Schedules and their ticks, run for every store inside describeStoreConformance. */
export function describeScheduleConformance(getStore: () => Store): void {
  describe('schedules', () => {
    it('round-trips a schedule with every field, and lists schedules by id', async () => {
      const store = getStore();
      const s = makeSchedule({ claimedBy: 'w1', claimedUntil: T0 + 9 });
      await store.writeSchedule({ schedule: s, expectedVersion: null, ticks: [] });
      await store.writeSchedule({
        schedule: makeSchedule({
          id: 'a-first',
          paused: true,
          nextFireAt: null,
          dueAt: null,
          lastScheduledAt: null,
          lastRunId: null,
          buffered: [],
        }),
        expectedVersion: null,
        ticks: [],
      });
      expect(await store.getSchedule('nightly')).toEqual(s);
      expect((await store.listSchedules()).map((x) => x.id)).toEqual(['a-first', 'nightly']);
      expect((await store.getSchedule('a-first'))?.paused).toBe(true);
      expect(await store.getSchedule('missing')).toBeUndefined();
    });

    it('refuses to create an id that exists, and a write whose version moved on, changing nothing', async () => {
      const store = getStore();
      await store.writeSchedule({ schedule: makeSchedule(), expectedVersion: null, ticks: [] });
      await expect(
        store.writeSchedule({ schedule: makeSchedule({ cron: '* * * * *' }), expectedVersion: null, ticks: [] }),
      ).rejects.toMatchObject({ code: 'schedule_exists' });
      await store.writeSchedule({
        schedule: makeSchedule({ version: 2, nextFireAt: T0 + 2_000 }),
        expectedVersion: 1,
        ticks: [tick()],
      });
      // A second writer that read version 1 loses: neither its schedule nor its tick lands.
      await expect(
        store.writeSchedule({
          schedule: makeSchedule({ version: 2, nextFireAt: T0 + 9_000 }),
          expectedVersion: 1,
          ticks: [tick({ scheduledAt: T0 + 1 })],
        }),
      ).rejects.toMatchObject({ code: 'schedule_changed' });
      expect((await store.getSchedule('nightly'))?.nextFireAt).toBe(T0 + 2_000);
      expect(await store.listScheduleTicks('nightly')).toEqual([tick()]);
    });

    it('commits a tick with its run in one batch, and none of it when the schedule changed', async () => {
      const store = getStore();
      await store.writeSchedule({ schedule: makeSchedule(), expectedVersion: null, ticks: [] });
      const run = makeRun({ id: 'tick-run', idempotencyKey: 'schedule:nightly@x' });
      const started = tick({ status: 'started', reason: null, runId: 'tick-run' });
      await store.commit({
        ...emptyBatch(),
        newRuns: [run],
        schedules: [
          { schedule: makeSchedule({ version: 2, lastRunId: 'tick-run' }), expectedVersion: 1, ticks: [started] },
        ],
      });
      expect(await store.getRun('tick-run')).toEqual(run);
      expect(await store.listScheduleTicks('nightly')).toEqual([started]);

      const late = makeRun({ id: 'late-run', idempotencyKey: 'schedule:nightly@y' });
      await expect(
        store.commit({
          ...emptyBatch(),
          newRuns: [late],
          schedules: [
            {
              schedule: makeSchedule({ version: 2 }),
              expectedVersion: 1,
              ticks: [tick({ scheduledAt: T0 + 5, status: 'started', reason: null, runId: 'late-run' })],
            },
          ],
        }),
      ).rejects.toMatchObject({ code: 'schedule_changed' });
      // Not a passing failure: retrying the same batch can never land (the engine must not retry it).
      const lost = await store
        .commit({
          ...emptyBatch(),
          newRuns: [late],
          schedules: [{ schedule: makeSchedule({ version: 2 }), expectedVersion: 1, ticks: [] }],
        })
        .catch((error: unknown) => error);
      expect(store.isTransientError?.(lost) ?? false).toBe(false);
      expect(await store.getRun('late-run')).toBeUndefined();
      expect(await store.listScheduleTicks('nightly')).toHaveLength(1);
      expect((await store.getSchedule('nightly'))?.lastRunId).toBe('tick-run');
    });

    it('upserts a tick by (schedule, scheduled time): a buffered tick becomes started', async () => {
      const store = getStore();
      await store.writeSchedule({
        schedule: makeSchedule(),
        expectedVersion: null,
        ticks: [tick({ status: 'buffered', reason: null })],
      });
      await store.writeSchedule({
        schedule: makeSchedule({ version: 2 }),
        expectedVersion: 1,
        ticks: [tick({ status: 'started', reason: null, runId: 'r', at: T0 + 50 })],
      });
      expect(await store.listScheduleTicks('nightly')).toEqual([
        tick({ status: 'started', reason: null, runId: 'r', at: T0 + 50 }),
      ]);
    });

    it('lists ticks newest first, with a limit', async () => {
      const store = getStore();
      const ticks = [0, 1, 2, 3].map((i) => tick({ scheduledAt: T0 + i * 1000 }));
      await store.writeSchedule({ schedule: makeSchedule(), expectedVersion: null, ticks });
      expect((await store.listScheduleTicks('nightly', 2)).map((t) => t.scheduledAt)).toEqual([T0 + 3000, T0 + 2000]);
    });

    it('finds the earliest due time and claims due schedules, leaving ones another owner holds', async () => {
      const store = getStore();
      // Times around the store's clock: the engine's `now` (given), or the database's.
      const base = await storeNow(store);
      expect(await store.nextScheduleDueAt(['report'])).toBeNull();
      const write = (id: string, dueAt: number | null, over: Partial<ScheduleRecord> = {}) =>
        store.writeSchedule({ schedule: makeSchedule({ id, dueAt, ...over }), expectedVersion: null, ticks: [] });
      await write('late', base - 500);
      await write('early', base - 900);
      await write('never', null);
      await write('later', base + 60_000);
      expect(await store.nextScheduleDueAt(['report'])).toBe(base - 900);
      const first = await store.claimDueSchedules(base, 'w1', 30_000, 10, ['report']);
      expect(first.schedules.map((s) => s.id)).toEqual(['early', 'late']);
      expect(first.schedules[0]).toMatchObject({ claimedBy: 'w1', claimedUntil: first.now + 30_000 });
      // Another worker gets nothing while w1's lease holds; w1 may claim its own again.
      expect((await store.claimDueSchedules(base, 'w2', 30_000, 10, ['report'])).schedules).toEqual([]);
      expect((await store.claimDueSchedules(base + 1, 'w1', 30_000, 1, ['report'])).schedules.map((s) => s.id)).toEqual(
        ['early'],
      );
      // Once a lease has run out, another worker may take the schedule.
      await write('expired', base - 800, { claimedBy: 'w1', claimedUntil: base - 1 });
      expect(
        (await store.claimDueSchedules(base + 2, 'w2', 30_000, 10, ['report'])).schedules.map((s) => s.id),
      ).toEqual(['expired']);
    });

    it('judges due times and leases by the store clock: the one given, or the database clock', async () => {
      const store = getStore();
      const base = await storeNow(store);
      await store.writeSchedule({
        schedule: makeSchedule({ id: 'due', dueAt: base - 100 }),
        expectedVersion: null,
        ticks: [],
      });
      await store.writeSchedule({
        schedule: makeSchedule({ id: 'ahead', dueAt: base + 60_000 }),
        expectedVersion: null,
        ticks: [],
      });
      if (!store.usesDatabaseClock) {
        const claim = await store.claimDueSchedules(base + 60_000, 'w1', 1_000, 10, ['report']);
        expect(claim.now).toBe(base + 60_000);
        expect(claim.schedules.map((s) => s.id)).toEqual(['due', 'ahead']);
        return;
      }
      // A worker whose clock is a day behind still takes what is due, one a day ahead nothing early.
      const behind = await store.claimDueSchedules(base - DAY, 'w1', 30_000, 10, ['report']);
      expect(behind.schedules.map((s) => s.id)).toEqual(['due']);
      expect(behind.now).toBeGreaterThanOrEqual(base);
      expect(behind.now).toBeLessThan(base + 10_000);
      expect(behind.schedules[0]?.claimedUntil).toBe(behind.now + 30_000);
      // The lease holds by the database's clock too, whatever time the other worker believes it is.
      const ahead = await store.claimDueSchedules(base + DAY, 'w2', 30_000, 10, ['report']);
      expect(ahead.schedules).toEqual([]);
    });

    it('deletes a schedule with its ticks, and says when there was none', async () => {
      const store = getStore();
      await store.writeSchedule({ schedule: makeSchedule(), expectedVersion: null, ticks: [tick()] });
      expect(await store.deleteSchedule('nightly')).toBe(true);
      expect(await store.getSchedule('nightly')).toBeUndefined();
      expect(await store.listScheduleTicks('nightly')).toEqual([]);
      expect(await store.deleteSchedule('nightly')).toBe(false);
    });
  });
}
