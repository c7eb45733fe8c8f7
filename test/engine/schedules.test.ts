import { describe, expect, it } from 'vitest';
import {
  InvalidCronError,
  InvalidScheduleError,
  InvalidTimezoneError,
  ManualClock,
  MemoryStore,
  type OverlapPolicy,
  ScheduleExistsError,
  type ScheduleInfo,
  ScheduleNotFoundError,
  schedule,
  type WorkflowExecutor,
  workflow,
} from '../../src/index.js';
import { useEngineFixture } from './helpers.js';

const T0 = Date.parse('2026-01-05T10:00:00.000Z');
const MIN = 60_000;

/** Moves the clock to `at` and waits until the ticks due by then are handled and their runs committed. */
async function moveTo(clock: ManualClock, executor: WorkflowExecutor, at: number): Promise<void> {
  await clock.advanceTo(at);
  await executor.schedulesIdle();
  await clock.advance(0);
}

/** A workflow whose runs record `ctx.schedule` and, while `gate.hold`, stay running until released. */
function recorder() {
  const seen: Array<ScheduleInfo | undefined> = [];
  const gates: Array<() => void> = [];
  const state = { hold: false };
  const wf = workflow('tick').step('record', async (ctx) => {
    seen.push(ctx.schedule);
    if (state.hold) await new Promise<void>((resolve) => gates.push(resolve));
    return ctx.schedule?.scheduledAt.toISOString() ?? null;
  });
  return {
    wf,
    seen,
    state,
    releaseAll: () => {
      for (const g of gates.splice(0)) g();
    },
  };
}

const isoList = (times: number[]) => times.map((t) => new Date(t).toISOString());

describe('schedules: firing', () => {
  const fixture = useEngineFixture();
  it('fires each tick once at its scheduled time, from the previous scheduled time (no drift), with ctx.schedule', async () => {
    const clock = new ManualClock(T0);
    const r = recorder();
    const executor = fixture.executor({
      clock,
      schedules: [schedule(r.wf, { id: 'every-minute', cron: '* * * * *' })],
    });
    await executor.open();
    expect((await executor.getSchedule('every-minute')).nextFireAt).toBe(T0 + MIN);
    // Late handling (the clock lands past the tick) does not move the next tick off the minute.
    await moveTo(clock, executor, T0 + MIN + 17_000);
    await moveTo(clock, executor, T0 + 2 * MIN);
    await moveTo(clock, executor, T0 + 3 * MIN);
    expect(r.seen.map((s) => s?.scheduledAt.toISOString())).toEqual(isoList([T0 + MIN, T0 + 2 * MIN, T0 + 3 * MIN]));
    expect(r.seen[1]).toEqual({
      id: 'every-minute',
      scheduledAt: new Date(T0 + 2 * MIN),
      previousScheduledAt: new Date(T0 + MIN),
    });
    expect(r.seen[0]?.previousScheduledAt).toBeUndefined();
    const ticks = await executor.scheduleTicks('every-minute');
    expect(ticks.map((t) => [t.status, t.source])).toEqual([
      ['started', 'cron'],
      ['started', 'cron'],
      ['started', 'cron'],
    ]);
    const run = await executor.inspect(ticks[0]!.runId as string);
    expect(run.success).toBe(true);
    expect((await executor.getSchedule('every-minute')).nextFireAt).toBe(T0 + 4 * MIN);
  });

  it('keeps one timer for 500 schedules, not one each', async () => {
    const clock = new ManualClock(T0);
    const r = recorder();
    const schedules = Array.from({ length: 500 }, (_, i) =>
      schedule(r.wf, { id: `s${i}`, cron: `${i % 60} ${i % 24} * * *` }),
    );
    const executor = fixture.executor({ clock, schedules });
    await executor.open();
    expect((await executor.listSchedules()).length).toBe(500);
    // Against an executor without schedules (whatever timers of its own the engine keeps): one more.
    const bareClock = new ManualClock(T0);
    await fixture.executor({ clock: bareClock, workflows: [r.wf] }).open();
    expect(clock.pendingTimers).toBe(bareClock.pendingTimers + 1);
  });

  it('a store that fails while looking for due schedules is asked again shortly, with no unhandled rejection', async () => {
    const clock = new ManualClock(T0);
    const r = recorder();
    const store = new MemoryStore();
    let failures = 1;
    const claim = store.claimDueSchedules.bind(store);
    store.claimDueSchedules = async (...args) => {
      if (failures > 0) {
        failures--;
        throw new Error('connection lost');
      }
      return claim(...args);
    };
    const errors: unknown[] = [];
    const logged = console.error;
    console.error = (...args: unknown[]) => errors.push(args[0]);
    try {
      const executor = fixture.executor({
        clock,
        store,
        schedules: [schedule(r.wf, { id: 'every-minute', cron: '* * * * *' })],
      });
      await executor.open();
      // The first look fails (an unhandled rejection would fail this test file); the next finds the tick.
      await moveTo(clock, executor, T0 + MIN);
      for (let i = 0; i < 5 && r.seen.length === 0; i++) await moveTo(clock, executor, clock.now() + 5_000);
      expect(r.seen.map((s) => s?.scheduledAt.toISOString())).toEqual(isoList([T0 + MIN]));
      expect(errors.some((e) => String(e).includes('could not look for due schedules'))).toBe(true);
    } finally {
      console.error = logged;
    }
  });

  it('a run not started by a schedule has no ctx.schedule', async () => {
    const r = recorder();
    const executor = fixture.executor();
    await executor.execute(r.wf, undefined);
    expect(r.seen).toEqual([undefined]);
  });

  it('jitter delays a tick by a stable amount within the bound, without changing its scheduled time', async () => {
    const clock = new ManualClock(T0);
    const r = recorder();
    const executor = fixture.executor({
      clock,
      schedules: [schedule(r.wf, { id: 'jittered', cron: '* * * * *', jitter: '30s' })],
    });
    await executor.open();
    const due = (await executor.getSchedule('jittered')).dueAt as number;
    expect(due).toBeGreaterThanOrEqual(T0 + MIN);
    expect(due).toBeLessThanOrEqual(T0 + MIN + 30_000);
    if (due > T0 + MIN) {
      await moveTo(clock, executor, due - 1);
      expect(r.seen).toEqual([]);
    }
    await moveTo(clock, executor, due);
    expect(r.seen.map((s) => s?.scheduledAt.getTime())).toEqual([T0 + MIN]);
  });
});

describe('schedules: two executors racing for one tick', () => {
  const fixture = useEngineFixture();

  it('on one store, both handle the same due tick at once: one run, one record; the loser writes nothing', async () => {
    const store = new MemoryStore();
    const clock = new ManualClock(T0);
    const r = recorder();
    const define = () => schedule(r.wf, { id: 'raced', cron: '* * * * *', overlap: 'allow_all' });
    const a = fixture.executor({ clock, store, schedules: [define()] });
    const b = fixture.executor({ clock, store, schedules: [define()] });
    await Promise.all([a.open(), b.open()]);
    for (let minute = 1; minute <= 3; minute++) {
      await clock.advanceTo(T0 + minute * MIN);
      await Promise.all([a.schedulesIdle(), b.schedulesIdle()]);
      await clock.advance(0);
    }
    const ticks = await a.scheduleTicks('raced');
    expect(ticks.map((t) => [t.scheduledAt, t.status])).toEqual([
      [T0 + 3 * MIN, 'started'],
      [T0 + 2 * MIN, 'started'],
      [T0 + MIN, 'started'],
    ]);
    const runs = await store.listRuns({ workflow: 'tick' });
    expect(runs.runs.map((run) => run.id).sort()).toEqual(ticks.map((t) => t.runId).sort());
    expect(r.seen.map((s) => s?.scheduledAt.getTime()).sort()).toEqual([T0 + MIN, T0 + 2 * MIN, T0 + 3 * MIN]);
  });
});

describe('schedules of workflows another process runs', () => {
  const fixture = useEngineFixture();

  it('are left to that process: not claimed, no timer armed for them, no busy loop', async () => {
    const store = new MemoryStore();
    const clock = new ManualClock(T0);
    const r = recorder();
    const owner = fixture.executor({ clock, store, schedules: [schedule(r.wf, { id: 'theirs', cron: '* * * * *' })] });
    await owner.open();
    await owner.cleanup();
    const other = workflow('other').step('one', () => 1);
    // retention: false, so the only timer that could be pending is one for the schedule.
    const bystander = fixture.executor({ clock, store, workflows: [other], retention: false });
    await bystander.open();
    await clock.advanceTo(T0 + 5 * MIN);
    await bystander.schedulesIdle();
    expect(clock.pendingTimers).toBe(0);
    expect((await store.getSchedule('theirs'))?.claimedUntil).toBeNull();
    expect(r.seen).toEqual([]);
  });
});

describe('schedules: catch-up after downtime', () => {
  const fixture = useEngineFixture();
  it('runs missed ticks inside catchupWindow and records older ones as skipped (SQLite, closed and reopened)', async () => {
    const file = fixture.sqlitePath();
    const clock = new ManualClock(T0);
    const r = recorder();
    const define = () =>
      schedule(r.wf, { id: 'catchup', cron: '* * * * *', catchupWindow: '3m', overlap: 'allow_all' });
    const first = fixture.executor({ clock, store: fixture.sqliteStore(file), schedules: [define()] });
    await first.open();
    await moveTo(clock, first, T0 + MIN);
    expect(r.seen).toHaveLength(1);
    await first.cleanup();

    // Down from 10:01:30 to 10:10:30: ticks 10:02..10:10 were missed; 10:08, 10:09 and 10:10 are within 3 minutes.
    await clock.advanceTo(T0 + 10 * MIN + 30_000);
    const second = fixture.executor({ clock, store: fixture.sqliteStore(file), schedules: [define()] });
    await second.open();
    await second.schedulesIdle();
    await clock.advance(0);
    const ticks = (await second.scheduleTicks('catchup')).reverse();
    expect(ticks.map((t) => [new Date(t.scheduledAt).toISOString().slice(11, 16), t.status, t.reason])).toEqual([
      ['10:01', 'started', null],
      ...[2, 3, 4, 5, 6, 7].map((m) => [`10:0${m}`, 'skipped', 'catchup_window']),
      ['10:08', 'started', null],
      ['10:09', 'started', null],
      ['10:10', 'started', null],
    ]);
    expect((await second.getSchedule('catchup')).nextFireAt).toBe(T0 + 11 * MIN);
  });
});

describe('schedules: overlap policies', () => {
  const fixture = useEngineFixture();
  /** Ticks at 10:01, 10:02, 10:03 while the 10:01 run is held; then it is released. */
  async function overlapping(overlap: OverlapPolicy) {
    const clock = new ManualClock(T0);
    const r = recorder();
    r.state.hold = true;
    const executor = fixture.executor({ clock, schedules: [schedule(r.wf, { id: 'o', cron: '* * * * *', overlap })] });
    await executor.open();
    await moveTo(clock, executor, T0 + MIN);
    await moveTo(clock, executor, T0 + 2 * MIN);
    await moveTo(clock, executor, T0 + 3 * MIN);
    const during = (await executor.scheduleTicks('o'))
      .reverse()
      .map((t) => `${t.status}${t.reason ? `:${t.reason}` : ''}`);
    const startedDuring = r.seen.map((s) => s?.scheduledAt.getTime());
    // Release whatever runs, one by one, letting buffered ticks start as each ends.
    r.state.hold = false;
    for (let i = 0; i < 4; i++) {
      r.releaseAll();
      await moveTo(clock, executor, clock.now() + 1);
    }
    const ticks = (await executor.scheduleTicks('o')).reverse();
    const runs = await Promise.all(ticks.filter((t) => t.runId).map((t) => executor.inspect(t.runId as string)));
    return { executor, during, startedDuring, ticks, runs, started: r.seen.map((s) => s?.scheduledAt.getTime()) };
  }

  it('skip (default): ticks while the run runs are recorded as skipped', async () => {
    const o = await overlapping('skip');
    expect(o.during).toEqual(['started', 'skipped:overlap', 'skipped:overlap']);
    expect(o.started).toEqual([T0 + MIN]);
  });

  it('buffer_one: one tick waits and starts when the run ends; the next is skipped', async () => {
    const o = await overlapping('buffer_one');
    expect(o.during).toEqual(['started', 'buffered', 'skipped:overlap']);
    expect(o.started).toEqual([T0 + MIN, T0 + 2 * MIN]);
    expect(o.ticks.map((t) => t.status)).toEqual(['started', 'started', 'skipped']);
  });

  it('buffer_all: every tick waits, and they start one after another', async () => {
    const o = await overlapping('buffer_all');
    expect(o.during).toEqual(['started', 'buffered', 'buffered']);
    expect(o.started).toEqual([T0 + MIN, T0 + 2 * MIN, T0 + 3 * MIN]);
    expect(o.runs.every((r) => r.success)).toBe(true);
  });

  it('cancel_other: the running run is cancelled, then the tick starts', async () => {
    const o = await overlapping('cancel_other');
    expect(o.startedDuring).toEqual([T0 + MIN, T0 + 2 * MIN, T0 + 3 * MIN]);
    expect(o.runs.map((r) => (r.cancelled ? 'cancelled' : r.success ? 'succeeded' : 'failed'))).toEqual([
      'cancelled',
      'cancelled',
      'succeeded',
    ]);
  });

  it('allow_all: every tick starts at once', async () => {
    const o = await overlapping('allow_all');
    expect(o.during).toEqual(['started', 'started', 'started']);
    expect(o.startedDuring).toEqual([T0 + MIN, T0 + 2 * MIN, T0 + 3 * MIN]);
  });

  it('buffered ticks survive a restart and start when the run they wait behind ends (SQLite)', async () => {
    const file = fixture.sqlitePath();
    const clock = new ManualClock(T0);
    const r = recorder();
    r.state.hold = true;
    const define = () => schedule(r.wf, { id: 'b', cron: '* * * * *', overlap: 'buffer_all', catchupWindow: '1h' });
    const first = fixture.executor({ clock, store: fixture.sqliteStore(file), schedules: [define()] });
    await first.open();
    await moveTo(clock, first, T0 + MIN);
    await moveTo(clock, first, T0 + 2 * MIN);
    expect((await first.getSchedule('b')).buffered).toEqual([T0 + 2 * MIN]);
    await first.cleanup();
    r.state.hold = false;
    const second = fixture.executor({ clock, store: fixture.sqliteStore(file), schedules: [define()] });
    await second.open();
    for (let i = 0; i < 3; i++) await moveTo(clock, second, clock.now() + 1_000);
    // The 10:01 run resumed and ended; then the buffered 10:02 tick started.
    expect(r.seen.map((s) => s?.scheduledAt.getTime())).toEqual([T0 + MIN, T0 + MIN, T0 + 2 * MIN]);
    expect((await second.scheduleTicks('b')).map((t) => t.status)).toEqual(['started', 'started']);
  });
});

describe('schedules: management', () => {
  const fixture = useEngineFixture();
  it('pause records the ticks it missed as skipped on resume; trigger and backfill start runs; delete removes it', async () => {
    const clock = new ManualClock(T0);
    const r = recorder();
    // retention: false, so the only timer that could be pending is one for the schedule.
    const executor = fixture.executor({ clock, workflows: [r.wf], retention: false });
    await executor.open();
    const created = await executor.createSchedule({ workflow: 'tick', id: 'm', cron: '*/5 * * * *' });
    expect(created.nextFireAt).toBe(T0 + 5 * MIN);
    await expect(executor.createSchedule({ workflow: 'tick', id: 'm', cron: '* * * * *' })).rejects.toBeInstanceOf(
      ScheduleExistsError,
    );
    await executor.pauseSchedule('m');
    expect(clock.pendingTimers).toBe(0);
    await moveTo(clock, executor, T0 + 12 * MIN);
    expect(r.seen).toEqual([]);
    await executor.resumeSchedule('m');
    expect((await executor.getSchedule('m')).nextFireAt).toBe(T0 + 15 * MIN);
    const handle = await executor.triggerSchedule('m');
    expect((await handle.result()).output).toBe(new Date(T0 + 12 * MIN).toISOString());
    const backfilled = await executor.backfillSchedule('m', T0 - 10 * MIN, T0);
    await Promise.all(backfilled.map((h) => h.result()));
    expect(r.seen.map((s) => s?.scheduledAt.toISOString())).toEqual(
      isoList([T0 + 12 * MIN, T0 - 10 * MIN, T0 - 5 * MIN, T0]),
    );
    expect(r.seen[2]?.previousScheduledAt).toEqual(new Date(T0 - 10 * MIN));
    const ticks = (await executor.scheduleTicks('m')).map((t) => [t.scheduledAt, t.status, t.reason ?? t.source]);
    expect(ticks).toEqual([
      [T0 + 12 * MIN, 'started', 'trigger'],
      [T0 + 10 * MIN, 'skipped', 'paused'],
      [T0 + 5 * MIN, 'skipped', 'paused'],
      [T0, 'started', 'backfill'],
      [T0 - 5 * MIN, 'started', 'backfill'],
      [T0 - 10 * MIN, 'started', 'backfill'],
    ]);
    // A second backfill of the same range starts nothing again.
    expect(await executor.backfillSchedule('m', T0 - 10 * MIN, T0)).toEqual([]);
    await executor.deleteSchedule('m');
    await expect(executor.getSchedule('m')).rejects.toBeInstanceOf(ScheduleNotFoundError);
    await expect(executor.pauseSchedule('m')).rejects.toMatchObject({ code: 'schedule_not_found' });
    await expect(executor.deleteSchedule('m')).rejects.toBeInstanceOf(ScheduleNotFoundError);
  });

  it('refuses bad input with typed errors that name the field and what is valid', () => {
    const r = recorder();
    expect(() => schedule(r.wf, { cron: '61 * * * *' })).toThrow(InvalidCronError);
    expect(() => schedule(r.wf, { cron: 'every day' })).toThrow(/`cron` "every day" is not a valid cron expression/);
    expect(() => schedule(r.wf, { cron: 'every day' })).toThrow(/Write 5 fields/);
    expect(() => schedule(r.wf, { cron: '* * * * *', timezone: 'Mars/Olympus' })).toThrow(InvalidTimezoneError);
    expect(() => schedule(r.wf, { cron: '* * * * *', timezone: 'Mars/Olympus' })).toThrow(/Europe\/Berlin/);
    expect(() => schedule(r.wf, { cron: '* * * * *', overlap: 'queue' as OverlapPolicy })).toThrow(
      InvalidScheduleError,
    );
    expect(() => schedule(r.wf, { cron: '* * * * *', overlap: 'queue' as OverlapPolicy })).toThrow(/buffer_one/);
    expect(() => schedule(r.wf, { cron: '* * * * *', id: 'has space' })).toThrow(/`id` must be/);
    expect(() => schedule(r.wf, { cron: '* * * * *', jitter: '-5s' })).toThrow(/jitter/);
  });

  it('refuses a schedule of an unregistered workflow and an input the schema refuses, storing nothing', async () => {
    const executor = fixture.executor();
    await expect(executor.createSchedule({ workflow: 'nope', cron: '* * * * *' })).rejects.toThrow(
      /registered workflow/,
    );
    expect(await executor.listSchedules()).toEqual([]);
  });
});
