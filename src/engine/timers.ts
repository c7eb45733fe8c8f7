/**
 * One timer for everything that waits: retry backoffs, step and run timeouts. Entries sit in a
 * binary min-heap by due time and a single `setTimeout` is armed for the earliest, so a million
 * waiting retries cost a million heap entries, not a million Node timers.
 */
export class TimerQueue {
  private heap: TimerEntry[] = [];
  private armedFor = Number.POSITIVE_INFINITY;
  private handle: NodeJS.Timeout | undefined;
  private nextId = 1;
  private readonly cancelled = new Set<number>();

  /** Schedules `fn` at `dueAt` (epoch ms); returns an id for `cancel`. */
  schedule(dueAt: number, fn: () => void): number {
    const id = this.nextId++;
    this.push({ dueAt, id, fn });
    this.arm();
    return id;
  }

  cancel(id: number | undefined): void {
    if (id === undefined) return;
    this.cancelled.add(id);
    // Most entries are cancelled long before they are due (a run's deadline, once the run ends):
    // drop them in one pass when they outnumber the live ones, so the heap stays O(live timers).
    if (this.cancelled.size > 1024 && this.cancelled.size * 2 > this.heap.length) this.compact();
  }

  private compact(): void {
    const live = this.heap.filter((e) => !this.cancelled.has(e.id));
    this.cancelled.clear();
    this.heap = [];
    for (const entry of live) this.push(entry);
  }

  get size(): number {
    return this.heap.length - this.cancelled.size;
  }

  stop(): void {
    if (this.handle) clearTimeout(this.handle);
    this.handle = undefined;
    this.heap = [];
    this.cancelled.clear();
    this.armedFor = Number.POSITIVE_INFINITY;
  }

  private arm(): void {
    const first = this.heap[0];
    if (!first || first.dueAt >= this.armedFor) return;
    if (this.handle) clearTimeout(this.handle);
    this.armedFor = first.dueAt;
    const delay = Math.max(0, first.dueAt - Date.now());
    // Cap so a far deadline does not overflow setTimeout's 32-bit range.
    // Not unref'd: a pending retry or deadline is work the process must stay alive for.
    this.handle = setTimeout(() => this.fire(), Math.min(delay, 2 ** 31 - 1));
  }

  private fire(): void {
    this.handle = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const now = Date.now();
    while (this.heap.length && (this.heap[0] as TimerEntry).dueAt <= now) {
      const entry = this.pop() as TimerEntry;
      if (this.cancelled.delete(entry.id)) continue;
      entry.fn();
    }
    this.arm();
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
        let m = i;
        const mv = () => (m === i ? last : (heap[m] as TimerEntry));
        if (l < heap.length && (heap[l] as TimerEntry).dueAt < mv().dueAt) m = l;
        if (r < heap.length && (heap[r] as TimerEntry).dueAt < mv().dueAt) m = r;
        if (m === i) break;
        heap[i] = heap[m] as TimerEntry;
        i = m;
      }
      heap[i] = last;
    }
    return top;
  }
}

interface TimerEntry {
  dueAt: number;
  id: number;
  fn: () => void;
}
