/**
 * The engine on a ManualClock: every sleep, wait deadline, backoff, timeout and retention age is
 * reached by moving the clock, never by waiting for it (no test here sleeps for the durations it
 * tests). The clock starts years away from the real time, so a time read from `Date.now()` instead
 * of the engine's clock shows in the stored times. Memory and SQLite; PostgreSQL refuses a custom
 * clock (it compares deadlines with the database's clock).
 */
import { describe, expect, it } from 'vitest';
import {
  WorkflowExecutor as Executor,
  type ExecutorOptions,
  InvalidConfigError,
  ManualClock,
  MemoryStore,
  PostgresStore,
  type RunStatus,
  StepTimeoutError,
  systemClock,
  type WorkflowExecutor,
  workflow,
} from '../../src/index.js';
import type { Coordination } from '../../src/store/coordination.js';
import { untilAborted, useEngineFixture, waitUntil } from './helpers.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Far from the real time: a stray `Date.now()` would stamp 2026, not 2030. */
const START = Date.UTC(2030, 0, 1);

const STORES = ['memory', 'sqlite'] as const;

/** Waits (polling, in real time) until the run's status is `status`: the engine got there. */
async function statusIs(executor: WorkflowExecutor, runId: string, status: RunStatus): Promise<void> {
  await waitUntil(async () => (await (await executor.getHandle(runId)).status()) === status);
}

describe.each(STORES)('the engine on a ManualClock, %s store', (kind) => {
  const fx = useEngineFixture();
  const open = (clock: ManualClock, options: ExecutorOptions = {}) =>
    fx.executor({
      clock,
      ...(kind === 'sqlite' ? { store: fx.sqliteStore(fx.sqlitePath()) } : {}),
      ...options,
    });

  it('a three-day sleep ends when the clock has moved three days, not before', async () => {
    const clock = new ManualClock(START);
    const wf = workflow('vc-sleep', { timeoutSeconds: 0 }).step('s', async (ctx) => {
      await ctx.sleep('3d');
      return 'awake';
    });
    const executor = open(clock);
    const handle = await executor.start(wf, null);
    await statusIs(executor, handle.runId, 'waiting');

    await clock.advance(2 * DAY);
    expect(await handle.status()).toBe('waiting');
    const [pending] = await executor.waits(handle.runId);
    expect(pending?.status).toBe('pending');
    expect(pending?.createdAt).toBe(START);
    expect(pending?.dueAt).toBe(START + 3 * DAY);

    await clock.advance(DAY);
    const result = await handle.result();
    expect(result.output).toBe('awake');
    const [done] = await executor.waits(handle.runId);
    expect(done?.status).toBe('resolved');
    expect(done?.resolvedAt).toBe(START + 3 * DAY);
    expect(result.startTime).toBe(START);
    expect(result.endTime).toBe(START + 3 * DAY);
  });

  it('a retry waits out its ten-minute backoff on the clock', async () => {
    const clock = new ManualClock(START);
    const attemptsAt: number[] = [];
    const wf = workflow('vc-retry').step(
      'flaky',
      { retries: 1, backoff: { initialMs: 10 * MINUTE, maxMs: 10 * MINUTE, jitter: 0 } },
      (ctx) => {
        attemptsAt.push(clock.now());
        if (ctx.attempt === 1) throw new Error('503 from upstream');
        return 'ok';
      },
    );
    const executor = open(clock, { timeoutSeconds: 0 });
    const handle = await executor.start(wf, null);
    await waitUntil(async () => (await executor.store.getSteps(handle.runId))[0]?.nextAttemptAt != null);
    const [queued] = await executor.store.getSteps(handle.runId);
    expect(queued?.nextAttemptAt).toBe(START + 10 * MINUTE);

    await clock.advance(10 * MINUTE - 1);
    expect(attemptsAt).toEqual([START]);
    expect(await handle.status()).not.toBe('succeeded');

    await clock.advance(1);
    const result = await handle.result();
    expect(result.output).toBe('ok');
    expect(attemptsAt).toEqual([START, START + 10 * MINUTE]);
    const [step] = await executor.store.getSteps(handle.runId);
    expect(step?.attempts).toBe(2);
    expect(step?.finishedAt).toBe(START + 10 * MINUTE);
  });

  it('a step timeout of one hour aborts a step that never resolves, after one virtual hour', async () => {
    const clock = new ManualClock(START);
    let started = false;
    const wf = workflow('vc-step-timeout', { timeoutSeconds: 0 }).step('stuck', { timeoutSeconds: 3600 }, (ctx) => {
      started = true;
      return untilAborted(ctx.signal);
    });
    const executor = open(clock);
    const handle = await executor.start(wf, null);
    await waitUntil(() => started);

    await clock.advance(HOUR - 1);
    expect(await handle.status()).toBe('running');

    await clock.advance(1);
    const result = await handle.result();
    expect(result.status).toBe('failed');
    expect(result.context.nodeResults.stuck?.error?.code).toBe(new StepTimeoutError('stuck', 3600).code);
    const [step] = await executor.store.getSteps(handle.runId);
    expect(step?.finishedAt).toBe(START + HOUR);
  });

  it('a run timeout ends the run at its virtual deadline', async () => {
    const clock = new ManualClock(START);
    let started = false;
    const wf = workflow('vc-run-timeout', { timeoutSeconds: 2 * 3600 }).step('long', (ctx) => {
      started = true;
      return untilAborted(ctx.signal);
    });
    const executor = open(clock);
    const handle = await executor.start(wf, null);
    await waitUntil(() => started);
    expect((await executor.store.getRun(handle.runId))?.deadlineAt).toBe(START + 2 * HOUR);

    await clock.advance(2 * HOUR - 1);
    expect(await handle.status()).toBe('running');

    await clock.advance(1);
    const result = await handle.result();
    expect(result.status).toBe('timed_out');
    expect(result.endTime).toBe(START + 2 * HOUR);
  });

  describe('waitForEvent with a two-day timeout', () => {
    const waiter = workflow('vc-event', { timeoutSeconds: 0 }).step('wait', async (ctx) => {
      const paid = await ctx.waitForEvent<{ ref: string }>('vc.paid', { match: 'A-7', timeout: '2d' });
      return paid ? `paid ${paid.ref}` : 'timed out';
    });

    it('times out when two virtual days have passed', async () => {
      const clock = new ManualClock(START);
      const executor = open(clock);
      const handle = await executor.start(waiter, null);
      await statusIs(executor, handle.runId, 'waiting');

      await clock.advance(2 * DAY - 1);
      expect(await handle.status()).toBe('waiting');

      await clock.advance(1);
      expect((await handle.result()).output).toBe('timed out');
      const [wait] = await executor.waits(handle.runId);
      expect([wait?.status, wait?.resolvedAt]).toEqual(['timed_out', START + 2 * DAY]);
    });

    it('resolves with an event sent at virtual day 1, stamped with the virtual time', async () => {
      const clock = new ManualClock(START);
      const executor = open(clock);
      const handle = await executor.start(waiter, null);
      await statusIs(executor, handle.runId, 'waiting');

      await clock.advance(DAY);
      expect(await handle.status()).toBe('waiting');
      const sent = await executor.sendEvent('vc.paid', { ref: 'PAY-1' }, { key: 'A-7' });
      expect(sent.delivered).toBe(1);
      expect((await handle.result()).output).toBe('paid PAY-1');
      const [wait] = await executor.waits(handle.runId);
      expect([wait?.status, wait?.resolvedAt]).toEqual(['resolved', START + DAY]);
      const [event] = await executor.store.listInbox({ name: 'vc.paid' });
      expect(event?.createdAt).toBe(START + DAY);
    });
  });

  it('retention prunes a run once it is older than its retention in virtual time', async () => {
    const clock = new ManualClock(START);
    const wf = workflow('vc-retention', { retention: { succeeded: '7d' } }).step('one', () => 1);
    const executor = open(clock, { retention: { every: '1d' } });
    const { runId } = await executor.execute(wf, null);
    expect((await executor.store.getRun(runId))?.finishedAt).toBe(START);

    /** One day on, then waits (in real time) for the day's pass to end and re-arm its timer. */
    const nextDay = async () => {
      await clock.advance(DAY);
      await waitUntil(() => clock.pendingTimers > 0 && (clock.nextDueAt() as number) > clock.now());
    };
    for (let day = 1; day <= 6; day++) await nextDay();
    expect(await executor.store.getRun(runId)).toBeDefined();
    await nextDay(); // day 7: finished seven days ago, expired
    expect(await executor.store.getRun(runId)).toBeUndefined();
  });
});

describe('a sleeping run on a ManualClock across a restart (SQLite file)', () => {
  const fx = useEngineFixture();

  it('survives executor cleanup and reopen, and wakes at its virtual time', async () => {
    const clock = new ManualClock(START);
    const file = fx.sqlitePath();
    const wf = workflow('vc-restart', { timeoutSeconds: 0 }).step('s', async (ctx) => {
      await ctx.sleep('3d');
      return 'awake';
    });
    const first = fx.executor({ clock, store: fx.sqliteStore(file), workflows: [wf] });
    const { runId } = await first.start(wf, null);
    await statusIs(first, runId, 'waiting');
    await clock.advance(DAY);
    await first.cleanup();

    const second = fx.executor({ clock, store: fx.sqliteStore(file), workflows: [wf] });
    await second.open();
    const handle = await second.getHandle(runId);
    expect(await handle.status()).toBe('waiting');
    await clock.advance(DAY);
    expect(await handle.status()).toBe('waiting');

    await clock.advance(DAY);
    expect((await handle.result()).output).toBe('awake');
    const [wait] = await second.waits(runId);
    expect([wait?.status, wait?.resolvedAt]).toEqual(['resolved', START + 3 * DAY]);
  });
});

describe('a custom clock on PostgreSQL', () => {
  it('is refused when the executor is made: the database’s clock decides what is due', () => {
    const store = new PostgresStore({ connectionString: 'postgres://braid@127.0.0.1:1/never-opened' });
    const make = () => new Executor({ store, clock: new ManualClock(START) });
    expect(make).toThrow(InvalidConfigError);
    expect(make).toThrow(/ManualClock works with MemoryStore and SqliteStore/);
    try {
      make();
    } catch (error) {
      expect((error as InvalidConfigError).code).toBe('invalid_config');
      expect((error as InvalidConfigError).option).toBe('clock');
    }
    // The system clock, given or by default, is what PostgreSQL takes.
    expect(() => new Executor({ store, clock: systemClock, retention: false })).not.toThrow();
    expect(() => new Executor({ store, retention: false })).not.toThrow();
  });

  it('is refused on open by any scale-out store, even one that does not say usesDatabaseClock', async () => {
    class ScaleOutStore extends MemoryStore {
      get coordination(): Coordination {
        return {} as Coordination; // never used: open() refuses the clock first
      }
    }
    const executor = new Executor({ store: new ScaleOutStore(), clock: new ManualClock(START), retention: false });
    await expect(executor.open()).rejects.toThrow(InvalidConfigError);
  });
});
