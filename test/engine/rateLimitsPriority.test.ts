import { describe, expect, it } from 'vitest';
import { ManualClock, MemoryStore, type RunHandle, type WorkflowExecutor, workflow } from '../../src/index.js';
import { useEngineFixture, waitUntil } from './helpers.js';

/**
 * Starts held back by a rate limit are taken by priority, then arrival, with the PriorityQueue's
 * turn for the oldest. All on a ManualClock, limit 1 per second: a start is asked for one lead
 * (200 ms) ahead, so the first begins at T0 + 200 and each next one a second later.
 */
const T0 = Date.UTC(2030, 0, 1);
const LEAD = 200;

function limited(name: string, began: Array<[string, number]>, clock: ManualClock) {
  return workflow(name).step('call', { rateLimit: { limit: 1, period: '1s' } }, (ctx) => {
    began.push([ctx.input as string, clock.now()]);
    return 'ok';
  });
}

/** Every first step of the run is postponed: it holds a start granted for later, or waits for its turn. */
async function isHeldBack(executor: WorkflowExecutor, handle: RunHandle): Promise<boolean> {
  const steps = await executor.store.getSteps(handle.runId);
  return steps.length > 0 && steps.every((s) => s.nextAttemptAt !== null || s.status === 'pending');
}

/** Starts a run and waits until it holds its start or waits for its turn. */
async function startHeld(
  executor: WorkflowExecutor,
  wf: ReturnType<typeof limited>,
  label: string,
  priority?: number,
): Promise<RunHandle> {
  const handle = await executor.start(wf, label, priority === undefined ? {} : { priority });
  await waitUntil(() => isHeldBack(executor, handle));
  return handle;
}

/** The first run takes the key's start now; the second is granted the next one (T0 + 1200), held ahead. */
async function busyKey(executor: WorkflowExecutor, wf: ReturnType<typeof limited>): Promise<RunHandle[]> {
  const first = await executor.start(wf, 'first');
  await waitUntil(async () => (await executor.store.getSteps(first.runId))[0]?.status === 'running');
  return [first, await startHeld(executor, wf, 'reserved')];
}

async function advanceSeconds(clock: ManualClock, seconds: number): Promise<void> {
  for (let i = 0; i < seconds; i++) await clock.advance(1000);
}

describe('rate-limited starts by priority', () => {
  const fx = useEngineFixture();

  it('starts a more urgent run right after the start reserved ahead, not after every earlier waiter', async () => {
    const clock = new ManualClock(T0);
    const began: Array<[string, number]> = [];
    const wf = limited('rl-priority', began, clock);
    const executor = fx.executor({ clock });
    const handles = await busyKey(executor, wf);
    for (let i = 1; i <= 5; i++) handles.push(await startHeld(executor, wf, `low${i}`, -10));
    const urgent = await startHeld(executor, wf, 'urgent', 50);
    handles.push(urgent);
    // Its run left memory while it waited (its fallback time is seconds away): its turn loads it back.
    await waitUntil(async () => (await executor.store.getRun(urgent.runId))?.wakeAt !== null);
    // The API counts every start waiting: the one granted ahead and the six waiting for their turn.
    const view = (await executor.rateLimits()).find((v) => v.name === 'rl-priority/call');
    expect(view?.keys).toEqual([expect.objectContaining({ key: '', used: 1, queued: 7 })]);
    await advanceSeconds(clock, 9);
    expect((await Promise.all(handles.map((h) => h.result()))).every((r) => r.success)).toBe(true);
    expect(began.map(([label]) => label)).toEqual([
      'first',
      'reserved',
      'urgent',
      'low1',
      'low2',
      'low3',
      'low4',
      'low5',
    ]);
    // One start a second, no gap where a waiter was woken: the limit's throughput, exactly.
    expect(began.map(([, at]) => at - T0)).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((s) => s * 1000 + LEAD));
    // One step_throttled event per start held back, written when its start is granted (with its time).
    const throttled = (await executor.store.listEvents({})).filter((e) => e.type === 'step_throttled');
    expect(throttled).toHaveLength(7);
  });

  it('keeps arrival order among equal priorities, and gives every 4th turn to the oldest waiter', async () => {
    const clock = new ManualClock(T0);
    const began: Array<[string, number]> = [];
    const wf = limited('rl-fairness', began, clock);
    const executor = fx.executor({ clock });
    const handles = await busyKey(executor, wf);
    handles.push(await startHeld(executor, wf, 'low', -10));
    for (let i = 1; i <= 6; i++) handles.push(await startHeld(executor, wf, `high${i}`, 10));
    await advanceSeconds(clock, 10);
    expect((await Promise.all(handles.map((h) => h.result()))).every((r) => r.success)).toBe(true);
    // Three by priority (in arrival order), then the oldest waiter's turn, then priority again.
    expect(began.map(([label]) => label)).toEqual([
      'first',
      'reserved',
      'high1',
      'high2',
      'high3',
      'low',
      'high4',
      'high5',
      'high6',
    ]);
  });

  it('gives the turn of a cancelled waiter to the next, and keeps a paused one its place until it resumes', async () => {
    const clock = new ManualClock(T0);
    const began: Array<[string, number]> = [];
    const wf = limited('rl-give-up', began, clock);
    const executor = fx.executor({ clock });
    const handles = await busyKey(executor, wf);
    const cancelled = await startHeld(executor, wf, 'cancelled', 50);
    const paused = await startHeld(executor, wf, 'paused', 40);
    const next = await startHeld(executor, wf, 'next');
    await executor.cancel(cancelled.runId);
    await executor.pause(paused.runId);
    await advanceSeconds(clock, 3);
    // The reserved start at 1.2 s, then 'next' at 2.2 s: neither left waiter held the key.
    expect((await next.result()).success).toBe(true);
    expect(began.map(([label, at]) => [label, at - T0])).toEqual([
      ['first', LEAD],
      ['reserved', 1000 + LEAD],
      ['next', 2000 + LEAD],
    ]);
    await executor.resume(paused.runId);
    await advanceSeconds(clock, 2);
    expect((await paused.result()).success).toBe(true);
    expect(began.map(([label]) => label)).toEqual(['first', 'reserved', 'next', 'paused']);
    expect((await cancelled.result()).cancelled).toBe(true);
    for (const handle of handles) expect((await handle.result()).success).toBe(true);
  });

  it('lets every waiter ask again at once when the limit is raised at run time', async () => {
    const clock = new ManualClock(T0);
    const began: Array<[string, number]> = [];
    const wf = workflow('rl-raised').step('call', { rateLimit: { limit: 1, period: '1m' } }, (ctx) => {
      began.push([ctx.input as string, clock.now()]);
      return 'ok';
    });
    const executor = fx.executor({ clock });
    const first = await executor.start(wf, 'first');
    await waitUntil(async () => (await executor.store.getSteps(first.runId))[0]?.status === 'running');
    const reserved = await executor.start(wf, 'reserved');
    await waitUntil(() => isHeldBack(executor, reserved));
    const waiting = [];
    for (let i = 1; i <= 3; i++) {
      const handle = await executor.start(wf, `waiting${i}`);
      await waitUntil(() => isHeldBack(executor, handle));
      waiting.push(handle);
    }
    await executor.setRateLimit('rl-raised/call', { limit: 100, period: '1s' });
    const fresh = await executor.start(wf, 'fresh');
    await clock.advance(1000);
    // The waiters and a fresh run go under the new limit; the start granted a minute out keeps its time.
    for (const handle of [...waiting, fresh]) expect((await handle.result()).success).toBe(true);
    expect(began.map(([label]) => label).sort()).toEqual(['first', 'fresh', 'waiting1', 'waiting2', 'waiting3']);
    await clock.advance(60_000);
    expect((await reserved.result()).success).toBe(true);
  });

  it('lets its waiters go under a limit another process raised, once the start reserved ahead is used', async () => {
    const clock = new ManualClock(T0);
    const began: Array<[string, number]> = [];
    const wf = workflow('rl-raised-elsewhere').step('call', { rateLimit: { limit: 1, period: '1m' } }, (ctx) => {
      began.push([ctx.input as string, clock.now()]);
      return 'ok';
    });
    const store = new MemoryStore();
    const executor = fx.executor({ clock, store });
    const first = await executor.start(wf, 'first');
    await waitUntil(async () => (await executor.store.getSteps(first.runId))[0]?.status === 'running');
    const handles = [first];
    for (const label of ['reserved', 'waiting1', 'waiting2', 'waiting3']) {
      const handle = await executor.start(wf, label);
      await waitUntil(() => isHeldBack(executor, handle));
      handles.push(handle);
    }
    // Another process sharing the store sets it: this one is not told.
    await store.setRateLimit({ name: 'rl-raised-elsewhere/call', limit: 100, periodMs: 1000, updatedAt: T0 });
    // This process hears of it when the start reserved ahead (a minute out) is used and the next
    // waiter's grant comes under the new limit: then the other waiters go too, not one a minute
    // (reserved in arrival order, they would have kept starts two, three and four minutes out).
    await clock.advance(60_000 + LEAD);
    await clock.advance(1000);
    for (const handle of handles) {
      await waitUntil(async () => (await executor.store.getRun(handle.runId))?.status === 'succeeded');
    }
    const last = Math.max(...began.map(([, at]) => at));
    expect(last - T0).toBeLessThan(62_000);
  });

  it('keeps nothing of the queue across a restart: every waiter asks again, and the limit holds (SQLite)', async () => {
    const clock = new ManualClock(T0);
    const began: Array<[string, number]> = [];
    const wf = limited('rl-restart', began, clock);
    const file = fx.sqlitePath();
    const before = fx.executor({ clock, store: fx.sqliteStore(file) });
    const handles = await busyKey(before, wf);
    for (let i = 1; i <= 3; i++) handles.push(await startHeld(before, wf, `waiting${i}`));
    await clock.advance(LEAD);
    await waitUntil(() => began.length === 1);
    await before.cleanup();
    const after = fx.executor({ clock, store: fx.sqliteStore(file) });
    after.register(wf);
    await after.recover();
    await advanceSeconds(clock, 8);
    for (const handle of handles.slice(1)) {
      await waitUntil(async () => (await after.store.getRun(handle.runId))?.status === 'succeeded');
    }
    expect(began.map(([label]) => label).sort()).toEqual(['first', 'reserved', 'waiting1', 'waiting2', 'waiting3']);
    const times = began.map(([, at]) => at).sort((a, b) => a - b);
    for (let i = 1; i < times.length; i++)
      expect((times[i] as number) - (times[i - 1] as number)).toBeGreaterThanOrEqual(1000);
  });

  it("orders runs held back by their workflow's limit by priority too", async () => {
    const clock = new ManualClock(T0);
    const began: string[] = [];
    const wf = workflow('rl-run-priority', { rateLimit: { limit: 1, period: '1s' } })
      .step('a', (ctx) => {
        began.push(`${ctx.input}/a`);
      })
      .step('b', (ctx) => {
        began.push(`${ctx.input}/b`);
      });
    const executor = fx.executor({ clock });
    const started = (handle: RunHandle) => async () =>
      (await executor.store.getSteps(handle.runId)).some((s) => s.status !== 'queued');
    const first = await executor.start(wf, 'first');
    await waitUntil(started(first));
    const handles = [first];
    for (const [label, priority] of [
      ['reserved', 0],
      ['low', -10],
      ['urgent', 50],
    ] as const) {
      const handle = await executor.start(wf, label, { priority });
      // Both first steps of the run have asked (one for the run) and been held back.
      await waitUntil(() => isHeldBack(executor, handle));
      handles.push(handle);
    }
    await advanceSeconds(clock, 5);
    expect((await Promise.all(handles.map((h) => h.result()))).every((r) => r.success)).toBe(true);
    expect(began.filter((s) => s.endsWith('/a'))).toEqual(['first/a', 'reserved/a', 'urgent/a', 'low/a']);
  });
});
