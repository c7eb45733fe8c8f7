/**
 * Where the engine reads the time and arms its timers. The system's clock by default; a test (or
 * the simulation harness) injects a virtual one, so a three-day sleep, a backoff or a schedule's
 * next tick is reached by moving the clock, not by waiting.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /**
   * Calls `fn` once, `delayMs` from now. `keepAlive: false` lets the process exit while the timer
   * is pending (for housekeeping: retention, heartbeats); work the process must stay alive for
   * (a retry, a deadline) keeps the default.
   */
  setTimer(fn: () => void, delayMs: number, options?: { keepAlive?: boolean }): ClockTimer;
}

export interface ClockTimer {
  /** Stops the timer; a no-op once it has fired or been cancelled. */
  cancel(): void;
  /**
   * Whether the pending timer keeps the process alive (optional: a virtual clock has no process
   * to keep). Cheaper than cancelling and setting a timer again: the engine's timer queue leaves
   * its timer armed when its last entry is cancelled, and sets it again only when due earlier.
   */
  setKeepAlive?(keepAlive: boolean): void;
}

/** Node's timers cap a delay at 2^31 - 1 ms (about 24.8 days); longer ones fire at once. */
const MAX_NODE_DELAY_MS = 2 ** 31 - 1;

/** The real clock: `Date.now()` and Node's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, delayMs, options) {
    const dueAt = Date.now() + Math.max(0, delayMs);
    let handle: NodeJS.Timeout;
    let isKeptAlive = options?.keepAlive !== false;
    // A far timer is armed in hops no longer than Node allows, re-armed until it is due.
    const arm = (): void => {
      const left = dueAt - Date.now();
      handle = setTimeout(left > MAX_NODE_DELAY_MS ? arm : fn, Math.min(Math.max(0, left), MAX_NODE_DELAY_MS));
      if (!isKeptAlive) handle.unref();
    };
    arm();
    return {
      cancel: () => clearTimeout(handle),
      setKeepAlive(keepAlive) {
        isKeptAlive = keepAlive;
        if (keepAlive) handle.ref();
        else handle.unref();
      },
    };
  },
};
