import type { Coordination } from '../store/coordination.js';
import type { Store } from '../store/store.js';
import type { EventRecord } from '../store/types.js';

type Listener = (events: readonly EventRecord[]) => void;

/**
 * How far back each read looks. Seqs are taken when a commit's statement runs, so a commit with a
 * lower seq can become visible after one with a higher seq (two workers committing at once); a
 * commit takes milliseconds, so re-reading the last 1,000 seqs finds it.
 */
const LOOKBACK = 1_000;
const PAGE = 1_000;
/** How often an open feed tells the other processes it still wants their commits' notices. */
const RENEW_MS = 20_000;

/**
 * Every process's committed events, in this process: what `executor.onEvents` gives in a cluster,
 * so the dashboard and the CLI see runs that other workers run. Events this process commits are
 * delivered at once; other processes' arrive with their commit's notification and are read from
 * the store. Each event is delivered once, in seq order within a delivery, not always across them
 * (see LOOKBACK). Its renewal timer is real time: only scale-out stores have a feed, and they run
 * on the system clock (Store.usesDatabaseClock).
 */
export class EventFeed {
  private readonly listeners = new Set<Listener>();
  private readonly delivered = new Set<number>();
  private highest = 0;
  private started: Promise<void> | undefined;
  private reading = false;
  private readAgain = false;
  private renewTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    private readonly coordination: Coordination,
  ) {}

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    this.started ??= this.coordination.latestEventSeq().then(
      (seq) => {
        this.highest = Math.max(this.highest, seq);
      },
      () => {},
    );
    if (!this.renewTimer) {
      // Commits announce their events only while some process has a feed open: announce ours.
      const announce = () => this.coordination.announceEventFeed().catch(() => {});
      void announce();
      this.renewTimer = setInterval(announce, RENEW_MS);
      this.renewTimer.unref();
    }
    return () => {
      this.listeners.delete(listener);
      if (!this.listeners.size) this.stop();
    };
  }

  stop(): void {
    clearInterval(this.renewTimer);
    this.renewTimer = undefined;
  }

  /** Events this process has just committed. */
  committedHere(events: readonly EventRecord[]): void {
    if (this.listeners.size) this.deliver(events);
  }

  /** Another process committed events: read them (coalesced while a read is under way). */
  committedElsewhere(): void {
    if (!this.listeners.size || !this.started) return;
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = true;
    this.readAgain = false;
    this.started
      .then(() => this.store.listEvents({ afterSeq: Math.max(0, this.highest - LOOKBACK), limit: PAGE }))
      .then(
        (events) => {
          this.reading = false;
          this.deliver(events);
          if (events.length === PAGE || this.readAgain) this.committedElsewhere();
        },
        () => {
          this.reading = false; // the database is away; the next notification or reconnection reads again
        },
      );
  }

  private deliver(events: readonly EventRecord[]): void {
    const fresh: EventRecord[] = [];
    for (const event of events) {
      const seq = event.seq;
      if (seq === undefined || this.delivered.has(seq)) continue;
      this.delivered.add(seq);
      if (seq > this.highest) this.highest = seq;
      fresh.push(event);
    }
    if (this.delivered.size > 4 * LOOKBACK) {
      for (const seq of this.delivered) if (seq < this.highest - 2 * LOOKBACK) this.delivered.delete(seq);
    }
    if (!fresh.length) return;
    for (const listener of this.listeners) {
      try {
        listener(fresh);
      } catch (error) {
        console.error('[braid] an event listener threw:', error);
      }
    }
  }
}
