import { InvalidDeadlineError } from '../model/errors.js';
import type { Clock, ClockTimer } from './clock.js';

/**
 * One timer for everything that waits: retry backoffs, step and run timeouts. Entries sit in a
 * binary min-heap by due time and a single clock timer is armed for the earliest, so a million
 * waiting retries cost a million heap entries, not a million Node timers. Due times are read on
 * the engine's clock, so a virtual clock (ManualClock) fires them as it moves.
 *
 * Deadlines: a NaN (or a non-number) is refused with InvalidDeadlineError before anything
 * changes, at the call that computed it. Taking it as "never" was rejected: a retry due at NaN
 * would leave its run waiting forever with no message, and in the heap a NaN compares false with
 * everything, so it once sat on top and stopped every other timer. +Infinity means "never" (a
 * deadline that is off) and takes no heap entry; -Infinity is simply overdue.
 */
export class TimerQueue {
  private heap: TimerEntry[] = [];
  /** Entries still to fire, by id: cancel() finds them here, and a fired or unknown id is a no-op. */
  private readonly live = new Map<number, TimerEntry>();
  /** Cancelled entries still in the heap; dropped when they reach the top or by compact(). */
  private cancelledInHeap = 0;
  private armedFor = Number.POSITIVE_INFINITY;
  private handle: ClockTimer | undefined;
  private nextId = 1;

  constructor(private readonly clock: Clock) {}

  /** Schedules `fn` at `dueAt` (epoch ms); returns an id for `cancel`. */
  schedule(dueAt: number, fn: () => void): number {
    if (typeof dueAt !== 'number' || Number.isNaN(dueAt)) throw new InvalidDeadlineError(dueAt);
    const id = this.nextId++;
    if (dueAt === Number.POSITIVE_INFINITY) return id;
    const entry: TimerEntry = { dueAt, id, fn, cancelled: false };
    this.live.set(id, entry);
    this.push(entry);
    this.arm();
    return id;
  }

  cancel(id: number | undefined): void {
    if (id === undefined) return;
    const entry = this.live.get(id);
    if (!entry) return;
    this.live.delete(id);
    entry.cancelled = true;
    // The entry may sit in the heap until compact(); its callback (a run's deadline closes over
    // the whole run) must not. Holding ~1,000 ended runs that way made them outlive scavenges,
    // and V8 then allocated every new run's state straight into the old generation (allocation-
    // site pretenuring): W4 on memory went from 16 to 26 µs per run after its first second.
    entry.fn = noop;
    this.cancelledInHeap++;
    // Most entries are cancelled long before they are due (a run's deadline, once the run ends):
    // drop them in one pass when they outnumber the live ones, so the heap stays O(live timers).
    if (this.cancelledInHeap > 1024 && this.cancelledInHeap * 2 > this.heap.length) this.compact();
    // A cancelled entry on top would keep a Node timer (and so the process) alive for nothing.
    else if (this.heap[0] === entry) this.arm();
  }

  private compact(): void {
    const live = this.heap.filter((e) => !e.cancelled);
    this.cancelledInHeap = 0;
    this.heap = [];
    for (const entry of live) this.push(entry);
    this.arm();
  }

  get size(): number {
    return this.live.size;
  }

  stop(): void {
    this.disarm();
    this.heap = [];
    this.live.clear();
    this.cancelledInHeap = 0;
  }

  private disarm(): void {
    this.handle?.cancel();
    this.handle = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
  }

  /**
   * Arms the clock's timer for the earliest live entry. A timer already armed for that time, or
   * for an earlier one, is kept (firing early finds nothing due and arms again): a run's deadline
   * is set when it starts and cancelled when it ends, so one run after another would otherwise
   * clear and set a Node timer each (setTimeout's list insert and clearTimeout's unenroll showed in
   * every W4 profile; with this and the one-await commit, a W4 run allocates 17.5 KB, not 20.6).
   * With no live entry left, the kept timer stops keeping the process alive. A clock whose timers
   * cannot do that (no setKeepAlive) gets its timer cancelled instead.
   */
  private arm(): void {
    while (this.heap[0]?.cancelled) {
      this.pop();
      this.cancelledInHeap--;
    }
    const first = this.heap[0];
    const handle = this.handle;
    if (!first) {
      if (handle?.setKeepAlive) handle.setKeepAlive(false);
      else this.disarm();
      return;
    }
    if (handle && this.armedFor <= first.dueAt && (handle.setKeepAlive || this.armedFor === first.dueAt)) {
      handle.setKeepAlive?.(true);
      return;
    }
    this.disarm();
    this.armedFor = first.dueAt;
    // Not keepAlive: false: a pending retry or deadline is work the process must stay alive for.
    // (The system clock re-arms a far deadline in hops, past setTimeout's 32-bit range.)
    this.handle = this.clock.setTimer(() => this.fire(), first.dueAt - this.clock.now());
  }

  private fire(): void {
    this.handle = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    try {
      while (this.heap.length && (this.heap[0] as TimerEntry).dueAt <= now) {
        const entry = this.pop() as TimerEntry;
        if (entry.cancelled) {
          this.cancelledInHeap--;
          continue;
        }
        this.live.delete(entry.id);
        entry.fn();
      }
    } finally {
      // Re-armed even when a callback threw: one failing callback must not stop every later timer.
      this.arm();
    }
  }

  private push(entry: TimerEntry): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((heap[parent] as TimerEntry).dueAt <= entry.dueAt) break;
      heap[i] = heap[parent] as TimerEntry;
      i = parent;
    }
    heap[i] = entry;
  }

  private pop(): TimerEntry | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length && last) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        // The smallest of `last` (sinking from the top) and the two children; no closure per step,
        // as this runs for every timer that fires or is cancelled.
        let m = i;
        let least = last.dueAt;
        if (l < heap.length && (heap[l] as TimerEntry).dueAt < least) {
          m = l;
          least = (heap[l] as TimerEntry).dueAt;
        }
        if (r < heap.length && (heap[r] as TimerEntry).dueAt < least) m = r;
        if (m === i) break;
        heap[i] = heap[m] as TimerEntry;
        i = m;
      }
      heap[i] = last;
    }
    return top;
  }
}

function noop(): void {}

interface TimerEntry {
  dueAt: number;
  id: number;
  fn: () => void;
  cancelled: boolean;
}
