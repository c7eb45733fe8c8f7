import { OLDEST_EVERY } from '../model/priority.js';

/**
 * Who waits for a slot goes in this queue: taken by priority (higher first), then arrival, except
 * that every `oldestEvery`-th item taken is the one that has waited longest. That turn is the
 * anti-starvation rule: however steady a stream of higher priority work is, the oldest waiter is
 * taken within `oldestEvery` takes, and a waiter with k older ones ahead of it within
 * `oldestEvery * (k + 1)` takes. Aging (effective priority rising with the time waited) was the
 * alternative; it needs the clock and re-sorting on every take, and the claim query on PostgreSQL
 * could not follow it with an index, while "every Nth to the oldest" is two index scans there too.
 *
 * Used by the Dispatcher (steps waiting for an execution slot, a pool, a run's cap), by
 * Concurrency (runs waiting for a `maxRuns` slot of their key), by RateLimits (starts waiting for
 * their turn under a limit that binds), and the claim on PostgreSQL applies the same rule in SQL
 * (see claimRuns). Anything else that holds waiters back should push them here with their priority
 * and take them with `drain` when capacity frees, so every kind of waiting follows one rule.
 *
 * A binary heap (by priority, then arrival) and a FIFO (by arrival) share the entries; an entry
 * taken through one is marked gone and dropped lazily by the other, so push and take are
 * O(log n) and no removal scans.
 */

/** What `drain`'s visitor decides for an item: take it, leave it queued, drop it, or stop the drain. */
export type DrainDecision = 'take' | 'keep' | 'drop' | 'stop';

export interface QueueEntry<T> {
  readonly item: T;
  readonly priority: number;
  /** Arrival order. */
  readonly seq: number;
  gone: boolean;
  /** The drain that last visited it (so one drain visits an entry once). */
  visited: number;
}

export class PriorityQueue<T> {
  private heap: QueueEntry<T>[] = [];
  private fifo: QueueEntry<T>[] = [];
  private fifoHead = 0;
  private nextSeq = 0;
  private live = 0;
  private taken = 0;
  private drains = 0;

  constructor(private readonly oldestEvery = OLDEST_EVERY) {}

  /** Items queued (not taken, dropped or removed). */
  get size(): number {
    return this.live;
  }

  push(item: T, priority: number): QueueEntry<T> {
    const entry: QueueEntry<T> = { item, priority, seq: this.nextSeq++, gone: false, visited: 0 };
    this.heapPush(entry);
    this.fifo.push(entry);
    this.live++;
    return entry;
  }

  /** Takes an entry out without visiting it (a waiter that gave up). */
  remove(entry: QueueEntry<T>): void {
    if (entry.gone) return;
    entry.gone = true;
    this.live--;
    this.forgetGone();
  }

  /**
   * Visits queued items in turn order - by priority, with every `oldestEvery`-th take going to the
   * oldest - until the visitor says 'stop' or every item was visited once. A 'keep' item (blocked
   * by a pool, say) stays where it is and the next one is visited.
   */
  drain(visit: (item: T) => DrainDecision): void {
    const drain = ++this.drains;
    const kept: QueueEntry<T>[] = [];
    try {
      for (;;) {
        const isOldestTurn = this.taken % this.oldestEvery === this.oldestEvery - 1;
        const entry = isOldestTurn
          ? (this.nextOldest(drain) ?? this.nextByPriority(drain, kept))
          : (this.nextByPriority(drain, kept) ?? this.nextOldest(drain));
        if (!entry) return;
        entry.visited = drain;
        const decision = visit(entry.item);
        if (decision === 'take' || decision === 'drop') {
          entry.gone = true;
          this.live--;
          if (decision === 'take') this.taken++;
        } else if (decision === 'stop') return;
      }
    } finally {
      for (const entry of kept) if (!entry.gone) this.heapPush(entry);
      this.forgetGone();
    }
  }

  /**
   * Lets go of the entries taken or dropped: an entry holds its item (a ready step holds its whole
   * run), and the arrival list used to keep up to a thousand of them after they were taken. Runs
   * kept alive that way outlived young-generation collections, and V8 then allocated every new
   * run's state straight into the old generation (allocation-site pretenuring): W4 on memory went
   * from 16 to 26 µs per run after its first second. The front of the list is cut as it is taken,
   * and an empty queue starts its lists afresh.
   */
  private forgetGone(): void {
    if (this.live === 0) {
      this.heap.length = 0;
      this.fifo.length = 0;
      this.fifoHead = 0;
      return;
    }
    const fifo = this.fifo as Array<QueueEntry<T> | undefined>;
    while (this.fifoHead < fifo.length && (fifo[this.fifoHead] as QueueEntry<T>).gone)
      fifo[this.fifoHead++] = undefined;
    // A waiter kept at the front (blocked by a pool, say) stops the cut: once the entries behind it
    // are mostly gone, they are filtered out, so the list stays O(queued) however many pass by.
    const held = fifo.length - this.fifoHead;
    if (held > 1024 && this.live * 2 < held) {
      this.fifo = this.fifo.slice(this.fifoHead).filter((entry) => !entry.gone);
      this.fifoHead = 0;
    } else if (this.fifoHead > 1024 && this.fifoHead * 2 > fifo.length) {
      this.fifo = this.fifo.slice(this.fifoHead);
      this.fifoHead = 0;
    }
  }

  /** Takes the next item in turn order for which `accept` is true (others stay queued), or undefined. */
  take(accept: (item: T) => boolean = () => true): T | undefined {
    let out: T | undefined;
    let isTaken = false;
    this.drain((item) => {
      if (isTaken) return 'stop';
      if (!accept(item)) return 'keep';
      out = item;
      isTaken = true;
      return 'take';
    });
    return out;
  }

  /** Every queued item, in arrival order. */
  items(): T[] {
    const out: T[] = [];
    for (let i = this.fifoHead; i < this.fifo.length; i++) {
      const entry = this.fifo[i] as QueueEntry<T>;
      if (!entry.gone) out.push(entry.item);
    }
    return out;
  }

  clear(): void {
    for (const entry of this.heap) entry.gone = true;
    this.heap = [];
    this.fifo = [];
    this.fifoHead = 0;
    this.live = 0;
  }

  /** The oldest entry not gone and not yet visited by this drain. */
  private nextOldest(drain: number): QueueEntry<T> | undefined {
    while (this.fifoHead < this.fifo.length && (this.fifo[this.fifoHead] as QueueEntry<T>).gone) this.fifoHead++;
    for (let i = this.fifoHead; i < this.fifo.length; i++) {
      const entry = this.fifo[i] as QueueEntry<T>;
      if (!entry.gone && entry.visited !== drain) return entry;
    }
    return undefined;
  }

  /** Pops the heap to the first entry not gone and not visited; entries popped but live go back after the drain. */
  private nextByPriority(drain: number, kept: QueueEntry<T>[]): QueueEntry<T> | undefined {
    for (;;) {
      const entry = this.heapPop();
      if (!entry) return undefined;
      if (entry.gone) continue;
      kept.push(entry);
      if (entry.visited !== drain) return entry;
    }
  }

  private heapPush(entry: QueueEntry<T>): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(entry, heap[parent] as QueueEntry<T>)) break;
      heap[i] = heap[parent] as QueueEntry<T>;
      i = parent;
    }
    heap[i] = entry;
  }

  private heapPop(): QueueEntry<T> | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || top === last) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child =
        right < heap.length && before(heap[right] as QueueEntry<T>, heap[left] as QueueEntry<T>) ? right : left;
      if (!before(heap[child] as QueueEntry<T>, last)) break;
      heap[i] = heap[child] as QueueEntry<T>;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}

/** Higher priority first, then earlier arrival. */
function before<T>(a: QueueEntry<T>, b: QueueEntry<T>): boolean {
  return a.priority !== b.priority ? a.priority > b.priority : a.seq < b.seq;
}
