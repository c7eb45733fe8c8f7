import { describe, expect, it } from 'vitest';
import { ManualClock } from './manualClock.js';

describe('ManualClock', () => {
  it('fires timers in due order as it advances, and stands still otherwise', async () => {
    const clock = new ManualClock(1_000);
    const fired: string[] = [];
    clock.setTimer(() => fired.push(`b@${clock.now()}`), 200);
    clock.setTimer(() => fired.push(`a@${clock.now()}`), 100);
    clock.setTimer(() => fired.push(`c@${clock.now()}`), 200);
    const cancelled = clock.setTimer(() => fired.push('never'), 50);
    cancelled.cancel();
    expect(clock.nextDueAt()).toBe(1_100);
    await clock.advance(150);
    expect(fired).toEqual(['a@1100']);
    expect(clock.now()).toBe(1_150);
    await clock.advance(1_000);
    expect(fired).toEqual(['a@1100', 'b@1200', 'c@1200']);
    expect(clock.now()).toBe(2_150);
    expect(clock.pendingTimers).toBe(0);
  });

  it('fires a timer set by a firing timer if it falls due within the same advance', async () => {
    const clock = new ManualClock(0);
    const fired: number[] = [];
    clock.setTimer(() => {
      fired.push(clock.now());
      clock.setTimer(() => fired.push(clock.now()), 10);
    }, 10);
    await clock.advance(25);
    expect(fired).toEqual([10, 20]);
  });

  it('lets the promise work a timer starts finish before the next timer fires', async () => {
    const clock = new ManualClock(0);
    const order: string[] = [];
    clock.setTimer(() => {
      void Promise.resolve().then(() => order.push('first done'));
    }, 1);
    clock.setTimer(() => order.push('second'), 2);
    await clock.advance(5);
    expect(order).toEqual(['first done', 'second']);
  });

  it('only moves forward', async () => {
    const clock = new ManualClock(100);
    await expect(clock.advanceTo(50)).rejects.toThrow(/only moves forward/);
    await expect(clock.advance(-1)).rejects.toThrow(/>= 0/);
  });
});
