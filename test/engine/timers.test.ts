import { execFileSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type Clock, systemClock } from '../../src/engine/clock.js';
import { TimerQueue } from '../../src/engine/timers.js';
import { InvalidDeadlineError } from '../../src/model/errors.js';
import { ManualClock } from '../../src/testing/manualClock.js';
import { lastLineWithGc } from '../support/gcProbe.js';

const DAY = 86_400_000;

describe('TimerQueue', () => {
  let queue: TimerQueue;
  let fired: string[];
  const at = (dueAt: number, name: string) => queue.schedule(dueAt, () => fired.push(name));

  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(1_000_000);
    queue = new TimerQueue(systemClock);
    fired = [];
  });
  afterEach(() => {
    queue.stop();
    vi.useRealTimers();
  });

  it('fires in due order, whatever the order of scheduling, and each entry once', () => {
    const now = Date.now();
    for (const [offset, name] of [
      [30, 'c'],
      [10, 'a'],
      [20, 'b'],
      [10, 'a2'],
      [0, 'now'],
    ] as const) {
      at(now + offset, name);
    }
    expect(queue.size).toBe(5);
    vi.advanceTimersByTime(10);
    expect(fired.sort()).toEqual(['a', 'a2', 'now']);
    vi.advanceTimersByTime(100);
    expect(fired.slice(3)).toEqual(['b', 'c']);
    expect(queue.size).toBe(0);
  });

  it('fires many random deadlines in order', () => {
    const now = Date.now();
    const offsets = Array.from({ length: 500 }, (_, i) => (i * 7919) % 1000);
    const seen: number[] = [];
    for (const offset of offsets) queue.schedule(now + offset, () => seen.push(offset));
    vi.advanceTimersByTime(1000);
    expect(seen).toEqual([...offsets].sort((a, b) => a - b));
  });

  it('fires a deadline already past at once', () => {
    at(Date.now() - 5000, 'late');
    vi.advanceTimersByTime(0);
    expect(fired).toEqual(['late']);
  });

  it('never fires a cancelled entry, and cancelling twice, late or with an unknown id changes nothing', () => {
    const now = Date.now();
    const a = at(now + 10, 'a');
    const b = at(now + 20, 'b');
    queue.cancel(a);
    queue.cancel(a);
    queue.cancel(undefined);
    queue.cancel(12345);
    expect(queue.size).toBe(1);
    vi.advanceTimersByTime(20);
    expect(fired).toEqual(['b']);
    queue.cancel(b);
    expect(queue.size).toBe(0);
    at(now + 30, 'c');
    expect(queue.size).toBe(1);
  });

  it('holds one Node timer however many entries, and fires a later entry after an earlier one is cancelled', () => {
    const hour = at(Date.now() + 3_600_000, 'hour');
    const minute = at(Date.now() + 60_000, 'minute');
    expect(vi.getTimerCount()).toBe(1);
    queue.cancel(minute);
    vi.advanceTimersByTime(60_000);
    expect(fired).toEqual([]);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(3_540_000);
    expect(fired).toEqual(['hour']);
    queue.cancel(hour);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('compacts cancelled entries and keeps the live ones in order', () => {
    const now = Date.now();
    const ids = Array.from({ length: 5000 }, (_, i) => at(now + 1000 + i, `t${i}`));
    for (let i = 0; i < ids.length; i++) if (i % 10 !== 0) queue.cancel(ids[i]);
    expect(queue.size).toBe(500);
    // The heap itself shrank: compaction ran, not only lazy drops at the top.
    expect((queue as unknown as { heap: unknown[] }).heap.length).toBeLessThan(2000);
    vi.advanceTimersByTime(10_000);
    expect(fired).toEqual(Array.from({ length: 500 }, (_, i) => `t${i * 10}`));
  });

  it('waits out a deadline beyond setTimeout’s 24.8-day range, then fires it', () => {
    const farMs = 2 ** 31 * 3;
    at(Date.now() + farMs, 'far');
    at(Date.now() + 50, 'near');
    vi.advanceTimersByTime(2 ** 31);
    expect(fired).toEqual(['near']);
    vi.advanceTimersByTime(farMs - 2 ** 31);
    expect(fired).toEqual(['near', 'far']);
  });

  it('refuses a NaN deadline with a typed error and keeps every other timer going', () => {
    at(Date.now() + 10, 'before');
    expect(() => queue.schedule(Number.NaN, () => fired.push('nan'))).toThrow(InvalidDeadlineError);
    expect(() => queue.schedule(undefined as unknown as number, () => fired.push('undefined'))).toThrow(
      /must be a number of epoch milliseconds/,
    );
    at(Date.now() + 20, 'after');
    vi.advanceTimersByTime(20);
    expect(fired).toEqual(['before', 'after']);
    expect(queue.size).toBe(0);
  });

  it('takes +Infinity as never, without a heap entry or a Node timer, and -Infinity as overdue', () => {
    const never = at(Number.POSITIVE_INFINITY, 'never');
    expect(queue.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    queue.cancel(never);
    at(Number.NEGATIVE_INFINITY, 'overdue');
    at(Date.now() + 10, 'soon');
    vi.advanceTimersByTime(10);
    expect(fired).toEqual(['overdue', 'soon']);
  });

  it('goes on firing later timers after a callback throws', () => {
    queue.schedule(Date.now() + 10, () => {
      throw new Error('callback bug');
    });
    at(Date.now() + 10, 'same tick');
    at(Date.now() + 20, 'later');
    expect(() => vi.advanceTimersByTime(10)).toThrow('callback bug');
    vi.advanceTimersByTime(20);
    expect(fired).toEqual(['same tick', 'later']);
  });

  it('stop() drops every entry and its timer', () => {
    at(Date.now() + 10, 'a');
    queue.stop();
    expect(queue.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(100);
    expect(fired).toEqual([]);
  });
});

/** A clock that records its timers: how often one is set, cancelled, and whether it keeps the process alive. */
function recordingClock(options: { canSetKeepAlive: boolean }) {
  let now = 0;
  const timers: { dueAt: number; fn: () => void; isCancelled: boolean; isKeptAlive: boolean }[] = [];
  const clock: Clock = {
    now: () => now,
    setTimer(fn, delayMs) {
      const timer = { dueAt: now + delayMs, fn, isCancelled: false, isKeptAlive: true };
      timers.push(timer);
      return {
        cancel: () => {
          timer.isCancelled = true;
        },
        ...(options.canSetKeepAlive && {
          setKeepAlive: (keepAlive: boolean) => {
            timer.isKeptAlive = keepAlive;
          },
        }),
      };
    },
  };
  /** Moves the time to `to` and fires the timers due by then, once each. */
  const advanceTo = (to: number) => {
    now = to;
    for (const t of timers.filter((t) => !t.isCancelled && t.dueAt <= now)) {
      t.isCancelled = true;
      t.fn();
    }
  };
  return { clock, timers, advanceTo };
}

describe('TimerQueue and the clock timer it keeps', () => {
  it('one deadline after another, each cancelled before the next is set, sets the clock timer once', () => {
    const { clock, timers, advanceTo } = recordingClock({ canSetKeepAlive: true });
    const queue = new TimerQueue(clock);
    const fired: number[] = [];
    // A run's deadline: set when it starts, cancelled when it ends, then the next run's, later.
    for (let i = 0; i < 100; i++) queue.cancel(queue.schedule(1000 + i, () => fired.push(i)));
    expect(timers).toHaveLength(1);
    // With no live entry the kept timer keeps nothing alive; a new entry makes it keep alive again.
    expect(timers[0]?.isKeptAlive).toBe(false);
    queue.schedule(5000, () => fired.push(5000));
    expect(timers[0]?.isKeptAlive).toBe(true);
    // The kept timer fires early (for the first deadline), finds nothing due and arms for the live one.
    advanceTo(1000);
    expect(fired).toEqual([]);
    expect(timers).toHaveLength(2);
    expect(timers[1]?.dueAt).toBe(5000);
    advanceTo(5000);
    expect(fired).toEqual([5000]);
  });

  it('sets the clock timer again when an entry is due before the one it is armed for', () => {
    const { clock, timers, advanceTo } = recordingClock({ canSetKeepAlive: true });
    const queue = new TimerQueue(clock);
    const fired: string[] = [];
    queue.schedule(5000, () => fired.push('late'));
    queue.schedule(100, () => fired.push('early'));
    expect(timers.map((t) => [t.dueAt, t.isCancelled])).toEqual([
      [5000, true],
      [100, false],
    ]);
    advanceTo(100);
    expect(fired).toEqual(['early']);
    advanceTo(5000);
    expect(fired).toEqual(['early', 'late']);
  });

  it('cancels the clock timer of a clock that cannot stop it keeping alive, once no entry is live', () => {
    const { clock, timers } = recordingClock({ canSetKeepAlive: false });
    const queue = new TimerQueue(clock);
    queue.cancel(queue.schedule(1000, () => {}));
    expect(timers.map((t) => t.isCancelled)).toEqual([true]);
    queue.cancel(queue.schedule(2000, () => {}));
    expect(timers.map((t) => t.isCancelled)).toEqual([true, true]);
  });

  it('keeps no process alive once every entry is cancelled: a real process exits at once', () => {
    const script = `
      import { TimerQueue } from './src/engine/timers.ts';
      import { systemClock } from './src/engine/clock.ts';
      const queue = new TimerQueue(systemClock);
      const ids = [queue.schedule(Date.now() + 3_600_000, () => {}), queue.schedule(Date.now() + 60_000, () => {})];
      for (const id of ids) queue.cancel(id);
    `;
    const started = Date.now();
    execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 30_000 });
    // It ended by itself (execFileSync throws on its timeout); a kept-alive timer would hold it a minute.
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('holds nothing a cancelled callback closed over, while its entry waits in the heap to be dropped', () => {
    // A run's deadline closes over the whole run; cancelled deadlines wait in the heap (up to
    // ~1,000 before a compaction), and ended runs kept that way made V8 pretenure new runs' state.
    const script = `
      import { TimerQueue } from './src/engine/timers.ts';
      import { systemClock } from './src/engine/clock.ts';
      const queue = new TimerQueue(systemClock);
      queue.schedule(Date.now() + 60_000, () => {}); // live and due first, so none below is dropped yet
      const refs = [];
      for (let i = 0; i < 500; i++) {
        const run = { i, state: new Array(64).fill(i) };
        refs.push(new WeakRef(run));
        queue.cancel(queue.schedule(Date.now() + 300_000 + i, () => run.state.length));
      }
      await new Promise((resolve) => setTimeout(resolve, 0));
      globalThis.gc();
      console.log(refs.filter((r) => r.deref() !== undefined).length);
      queue.stop();
    `;
    expect(Number(lastLineWithGc(script))).toBe(0);
  });
});

describe('TimerQueue on a virtual clock', () => {
  it('arms on the clock it is given: a deadline fires when the clock reaches it, not in real time', async () => {
    const clock = new ManualClock(0);
    const queue = new TimerQueue(clock);
    const fired: string[] = [];
    queue.schedule(3 * DAY, () => fired.push('3d'));
    queue.schedule(DAY, () => fired.push('1d'));
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(DAY - 1);
    expect(fired).toEqual([]);
    await clock.advance(1);
    expect(fired).toEqual(['1d']);
    await clock.advance(2 * DAY);
    expect(fired).toEqual(['1d', '3d']);
    expect(clock.pendingTimers).toBe(0);
  });
});
