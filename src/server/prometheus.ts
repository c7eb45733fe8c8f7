import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Store } from '../store/store.js';
import { type EventRecord, WAIT_KINDS, type WaitKind } from '../store/types.js';

/** Step attempts in flight for the duration histogram; beyond this the oldest are forgotten. */
const MAX_OPEN_ATTEMPTS = 100_000;

/**
 * Prometheus metrics for one app, in a Registry of its own (not prom-client's global one), so two
 * apps in one process, or a test's many apps, never clash over metric names.
 *
 * Counters and the step duration histogram are fed from the committed events (`onEvents`), so
 * they count what this process committed since the app was created. The histogram has one
 * observation per attempt (`step_started` to the event that ends it), labelled by outcome; events
 * carry no workflow name, so there is no workflow label rather than a lookup per event. Time an
 * attempt spends waiting (`step_waiting` to `step_woken`: a sleep, an event, an input) is left
 * out: a step that sleeps three days ran for milliseconds, and its wall time would bury the
 * histogram's buckets (at most 300 s) in +Inf.
 *
 * The gauges are read from the store at scrape time: `braid_queue_depth` is the number of runs in
 * `queued` status (created but not started: waiting for a workflow concurrency slot, or about to
 * start), `braid_runs_running` the runs in `running`, `braid_runs_waiting` those in `waiting`
 * (only sleeps, events or inputs left: resident or asleep in the store alike). One `countRuns` per
 * scrape: a grouped count, cheap next to a 15 s scrape interval, and right across processes sharing
 * the store and across restarts. A gauge kept by following events (+1 on run_waiting, -1 on
 * run_woken or the run's end) was the alternative: it would start at 0 beside runs that were
 * already waiting when the app started, and miss what other workers commit.
 *
 * Waiting steps by kind have no such cheap count (the store counts runs, not waits), so they are
 * a counter instead: `braid_waits_total{kind}`, the waits steps registered, from `step_waiting`.
 */
export class BraidMetrics {
  readonly registry = new Registry();
  private readonly runsStarted: Counter;
  private readonly runsFinished: Counter<'status'>;
  private readonly stepsStarted: Counter;
  private readonly stepsFinished: Counter<'status'>;
  private readonly stepRetries: Counter;
  private readonly cacheHits: Counter;
  private readonly waitsRegistered: Counter<'kind'>;
  private readonly stepDuration: Histogram<'outcome'>;
  /**
   * runId NUL step -> the attempt in flight: the time it ran before its current stretch, and when
   * that stretch began (null while it waits).
   */
  private readonly openAttempts = new Map<string, { ranMs: number; since: number | null }>();

  constructor(store: Store) {
    const registers = [this.registry];
    this.runsStarted = new Counter({ name: 'braid_runs_started_total', help: 'Runs started', registers });
    this.runsFinished = new Counter({
      name: 'braid_runs_finished_total',
      help: 'Runs that ended, by final status',
      labelNames: ['status'],
      registers,
    });
    this.stepsStarted = new Counter({ name: 'braid_steps_started_total', help: 'Step attempts started', registers });
    this.stepsFinished = new Counter({
      name: 'braid_steps_finished_total',
      help: 'Steps that ended, by final status (succeeded, failed, skipped, cancelled)',
      labelNames: ['status'],
      registers,
    });
    this.stepRetries = new Counter({
      name: 'braid_step_retries_total',
      help: 'Step attempts that failed and were retried',
      registers,
    });
    this.cacheHits = new Counter({
      name: 'braid_cache_hits_total',
      help: 'Steps served from the result cache',
      registers,
    });
    this.waitsRegistered = new Counter({
      name: 'braid_waits_total',
      help: 'Durable waits steps registered (ctx.sleep, waitForEvent, waitForInput, waitForFirst), by kind',
      labelNames: ['kind'],
      registers,
    });
    // Every kind shows from the first scrape, at 0, so a rate() over it has no gap.
    for (const kind of WAIT_KINDS) this.waitsRegistered.inc({ kind }, 0);
    this.stepDuration = new Histogram({
      name: 'braid_step_duration_seconds',
      help: 'Duration of one step attempt, by outcome (succeeded or failed)',
      labelNames: ['outcome'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
      registers,
    });
    // A scrape collects every metric at once (prom-client runs them in parallel), so both gauges
    // share the one countRuns in flight.
    let counts: Promise<Partial<Record<string, number>>> | undefined;
    const statusCounts = () => {
      counts ??= store.countRuns({}).finally(() => {
        counts = undefined;
      });
      return counts;
    };
    new Gauge({
      name: 'braid_queue_depth',
      help: 'Runs in queued status: created, not started yet (e.g. waiting for a workflow concurrency slot)',
      registers,
      async collect() {
        this.set((await statusCounts()).queued ?? 0);
      },
    });
    new Gauge({
      name: 'braid_runs_running',
      help: 'Runs in running status',
      registers,
      async collect() {
        this.set((await statusCounts()).running ?? 0);
      },
    });
    new Gauge({
      name: 'braid_runs_waiting',
      help: 'Runs in waiting status: all they have left waits for a time, an event or an input',
      registers,
      async collect() {
        this.set((await statusCounts()).waiting ?? 0);
      },
    });
  }

  /** Feeds committed events in; pass to `executor.onEvents`. */
  record(events: readonly EventRecord[]): void {
    for (const event of events) {
      switch (event.type) {
        case 'run_started':
          this.runsStarted.inc();
          break;
        case 'run_succeeded':
        case 'run_failed':
        case 'run_cancelled':
        case 'run_timed_out':
          this.runsFinished.inc({ status: event.type.slice('run_'.length) });
          break;
        case 'step_started':
          this.stepsStarted.inc();
          this.startAttempt(event);
          break;
        case 'step_retrying':
          this.stepRetries.inc();
          this.endAttempt(event, 'failed');
          break;
        case 'step_fallback':
          this.endAttempt(event, 'failed');
          break;
        case 'step_cache_hit':
          this.cacheHits.inc();
          break;
        case 'step_succeeded':
          this.stepsFinished.inc({ status: 'succeeded' });
          this.endAttempt(event, 'succeeded');
          break;
        case 'step_failed':
          this.stepsFinished.inc({ status: 'failed' });
          this.endAttempt(event, 'failed');
          break;
        case 'step_skipped':
          this.stepsFinished.inc({ status: 'skipped' });
          break;
        case 'step_cancelled':
          this.stepsFinished.inc({ status: 'cancelled' });
          this.openAttempts.delete(attemptKey(event));
          break;
        case 'step_waiting':
          for (const kind of registeredWaitKinds(event)) this.waitsRegistered.inc({ kind });
          this.suspendAttempt(event);
          break;
        case 'step_woken':
          this.resumeAttempt(event);
          break;
      }
    }
  }

  private startAttempt(event: EventRecord): void {
    if (this.openAttempts.size >= MAX_OPEN_ATTEMPTS) {
      const oldest = this.openAttempts.keys().next();
      if (!oldest.done) this.openAttempts.delete(oldest.value);
    }
    this.openAttempts.set(attemptKey(event), { ranMs: 0, since: event.at });
  }

  private suspendAttempt(event: EventRecord): void {
    const attempt = this.openAttempts.get(attemptKey(event));
    if (!attempt || attempt.since === null) return;
    attempt.ranMs += Math.max(0, event.at - attempt.since);
    attempt.since = null;
  }

  private resumeAttempt(event: EventRecord): void {
    const attempt = this.openAttempts.get(attemptKey(event));
    if (attempt && attempt.since === null) attempt.since = event.at;
  }

  private endAttempt(event: EventRecord, outcome: 'succeeded' | 'failed'): void {
    const key = attemptKey(event);
    const attempt = this.openAttempts.get(key);
    if (attempt === undefined) return;
    this.openAttempts.delete(key);
    const lastStretchMs = attempt.since === null ? 0 : Math.max(0, event.at - attempt.since);
    this.stepDuration.observe({ outcome }, (attempt.ranMs + lastStretchMs) / 1000);
  }
}

/** The kinds of the waits a `step_waiting` event registered (its data lists them). */
function registeredWaitKinds(event: EventRecord): WaitKind[] {
  if (event.data === null) return [];
  try {
    const waits = JSON.parse(event.data) as unknown;
    if (!Array.isArray(waits)) return [];
    return waits
      .map((w) => (w as { kind?: unknown } | null)?.kind)
      .filter((kind): kind is WaitKind => (WAIT_KINDS as readonly unknown[]).includes(kind));
  } catch {
    return [];
  }
}

function attemptKey(event: EventRecord): string {
  return `${event.runId}\u0000${event.step ?? ''}`;
}
