import type { Clock, ClockTimer } from '../engine/clock.js';

interface PendingTimer {
  dueAt: number;
  seq: number;
  fn: () => void;
}

/**
 * A clock that moves only when told to, for tests: pass it as `new WorkflowExecutor({ clock })`
 * and `await clock.advance('3d')`-style calls reach a durable sleep's end, a retry's backoff or a
 * schedule's next tick at once. Timers fire in due order (ties in the order they were set), and
 * between two firings the clock lets pending promise callbacks and I/O run, so the work a timer
 * starts has happened before the next one fires.
 */
export class ManualClock implements Clock {
  private current: number;
  private timers: PendingTimer[] = [];
  private seq = 0;

  /** `start`: the clock's first reading, epoch ms or a Date. Default: the real time now. */
  constructor(start: number | Date = Date.now()) {
    this.current = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.current;
  }

  setTimer(fn: () => void, delayMs: number): ClockTimer {
    const timer: PendingTimer = { dueAt: this.current + Math.max(0, delayMs), seq: this.seq++, fn };
    this.timers.push(timer);
    return {
      cancel: () => {
        this.timers = this.timers.filter((t) => t !== timer);
      },
    };
  }

  /** Timers set and not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /** When the earliest pending timer is due, if any. */
  nextDueAt(): number | undefined {
    return this.earliest()?.dueAt;
  }

  /** Moves the clock forward by `ms`, firing every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`advance() takes a finite number of ms >= 0, got ${ms}.`);
    await this.advanceTo(this.current + ms);
  }

  /** Moves the clock forward to `time` (epoch ms or a Date), firing what falls due on the way. */
  async advanceTo(time: number | Date): Promise<void> {
    const target = typeof time === 'number' ? time : time.getTime();
    if (target < this.current) throw new RangeError('A ManualClock only moves forward.');
    await settle();
    for (let next = this.earliest(); next && next.dueAt <= target; next = this.earliest()) {
      this.timers = this.timers.filter((t) => t !== next);
      this.current = Math.max(this.current, next.dueAt);
      next.fn();
      await settle();
    }
    this.current = target;
    await settle();
  }

  private earliest(): PendingTimer | undefined {
    let best: PendingTimer | undefined;
    for (const t of this.timers)
      if (!best || t.dueAt < best.dueAt || (t.dueAt === best.dueAt && t.seq < best.seq)) best = t;
    return best;
  }
}

/** Lets queued promise callbacks and ready I/O callbacks (a store's commit) run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
