import { RateLimitedError } from '../model/errors.js';
import { type RateLimitSpec, rateLimitSpec } from '../model/rateLimit.js';
import type { Store } from '../store/store.js';
import { isTerminalStep } from '../store/types.js';
import type { Clock } from './clock.js';
import { type ActiveRun, type ActiveStep, isActive } from './runState.js';

/**
 * Asks of the store in flight at once, per process. Asking for every ready step at once (330 in
 * the PostgreSQL test) filled the connection pool, so the commits that start the steps granted
 * "now" waited ~350 ms behind the asks and their functions ran late, bunched with the next ones:
 * 14 starts in a second under a limit of 10. Two in flight keep the pool free for commits; the rest
 * wait in the ready queue, asked in arrival order as answers come back (a few ms each).
 */
const MAX_ASKS_IN_FLIGHT = 2;

/** How long a start waits before asking again when the store could not be asked (it is away). */
const STORE_AWAY_RETRY_MS = 1000;

/** What the engine does with a limit's answer. */
export interface RateLimitHooks {
  /** Answers came in: dispatch what may start now. */
  pump(): void;
  /** The step may start only at `at`: it leaves the ready queue until then (the wake-up path queues it). */
  postpone(run: ActiveRun, step: ActiveStep, at: number, data: string | null): void;
  /** A workflow's limit under 'drop' refused the run's start: it ends cancelled. */
  dropRun(run: ActiveRun, error: RateLimitedError): void;
  /** A step's limit under 'drop' refused its start (a RateLimitedError: it is skipped), or its key function threw (it fails). */
  dropStep(run: ActiveRun, step: ActiveStep, error: Error): void;
}

/** Starts taken, queued and dropped per limit name since the process started (for /metrics). */
export interface RateLimitCounts {
  started: number;
  queued: number;
  dropped: number;
}

/**
 * Rate limits at dispatch: a step whose workflow (first start of a run) or own definition carries
 * a `rateLimit` asks the store for a start before it takes an execution slot. The store answers
 * with the start time (GCRA, src/store/rateLimits.ts), already reserved and committed; the step
 * then starts at once, or leaves the ready queue with that time as its not-before time, like a
 * retry's backoff: it holds no slot, no promise, and no timer of its own (its run's one wake-up
 * entry in the timer heap covers it). A step resuming after a durable wait started long ago: it
 * takes no new start.
 *
 * A reservation lives in memory until its step starts, so a run holding one stays in memory
 * (see RunLifecycle's isIdle); after a crash the step asks again, which can only start it later.
 */
export class RateLimits {
  readonly counts = new Map<string, RateLimitCounts>();
  private asking = 0;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly hooks: RateLimitHooks,
  ) {}

  /**
   * Whether the step may take a slot now; false while a limit holds it back (asking the store, or
   * postponed). The dispatcher passes over it meanwhile and asks again on its next pump.
   */
  admit(run: ActiveRun, step: ActiveStep): boolean {
    if (step.resuming || step.continuations.size > 0) return true;
    const workflow = run.plan.workflow;
    const runOptions = workflow.options.rateLimit;
    if (runOptions !== undefined && run.rate !== 'granted') {
      if (run.rate === 'asking') return false;
      if (hasStarted(run)) run.rate = 'granted';
      else {
        this.ask(run, step, rateLimitSpec(runOptions, workflow.name), 'run');
        return false;
      }
    }
    if (run.rateStartAt !== undefined) {
      const at = run.rateStartAt;
      const lead = leadMs(rateLimitSpec(runOptions as NonNullable<typeof runOptions>, workflow.name));
      if (at - lead > this.clock.now()) {
        this.hooks.postpone(run, step, at - lead, null);
        return false;
      }
      if (at > this.clock.now()) step.notBefore = Math.max(step.notBefore ?? 0, at);
      else run.rateStartAt = undefined;
    }
    const stepOptions = step.def.rateLimit;
    if (stepOptions === undefined || step.rate === 'granted') return true;
    if (step.rate === undefined)
      this.ask(run, step, rateLimitSpec(stepOptions, `${workflow.name}/${step.def.name}`), 'step');
    return false;
  }

  /** The step starts (a new attempt): its grant is used up; a retry asks again. */
  started(run: ActiveRun, step: ActiveStep): void {
    step.rate = undefined;
    run.rateHeld = false;
  }

  private ask(run: ActiveRun, step: ActiveStep, spec: RateLimitSpec, scope: 'run' | 'step'): void {
    if (this.asking >= MAX_ASKS_IN_FLIGHT) return; // asked on a later pump, once an answer is in
    let key: string;
    try {
      key = spec.key ? String(spec.key(run.input)) : '';
    } catch (error) {
      // A key function that throws is the user's bug: the step fails with it, like a `when` that throws.
      this.hooks.dropStep(run, step, error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (scope === 'run') run.rate = 'asking';
    else step.rate = 'asking';
    // Asked for a start no earlier than one lead from now: the step's start commit has that long, and
    // its function runs at the granted time itself (see leadMs).
    const lead = leadMs(spec);
    const now = this.clock.now() + lead;
    this.asking++;
    const request = { name: spec.name, key, limit: spec.limit, periodMs: spec.periodMs, burst: spec.burst, now };
    this.store.takeRateLimit({ ...request, onLimit: spec.onLimit }).then(
      (grant) => {
        this.asking--;
        const counts = this.countsOf(spec.name);
        if (!grant.granted) {
          counts.dropped++;
          if (scope === 'run') run.rate = undefined;
          else step.rate = undefined;
          if (stillWaiting(run, step)) {
            const error = new RateLimitedError(spec.name, key, grant.startAt);
            if (scope === 'run') this.hooks.dropRun(run, error);
            else this.hooks.dropStep(run, step, error);
          }
          this.hooks.pump();
          return;
        }
        counts.started++;
        if (grant.startAt > now) counts.queued++;
        if (scope === 'run') {
          run.rate = 'granted';
          run.rateHeld = true;
          run.rateStartAt = grant.startAt;
        } else {
          step.rate = 'granted';
          step.notBefore = grant.startAt;
          const wakeAt = grant.startAt - lead;
          if (wakeAt > this.clock.now() && stillWaiting(run, step)) {
            const data = JSON.stringify({ limit: spec.name, key, startAt: grant.startAt });
            this.hooks.postpone(run, step, wakeAt, data);
          }
        }
        this.hooks.pump();
      },
      (error) => {
        this.asking--;
        console.error(`[braid] could not take a start of rate limit "${spec.name}"; trying again in 1 s:`, error);
        if (scope === 'run') run.rate = undefined;
        else step.rate = undefined;
        if (stillWaiting(run, step)) this.hooks.postpone(run, step, this.clock.now() + STORE_AWAY_RETRY_MS, null);
        this.hooks.pump();
      },
    );
  }

  private countsOf(name: string): RateLimitCounts {
    let counts = this.counts.get(name);
    if (!counts) {
      counts = { started: 0, queued: 0, dropped: 0 };
      this.counts.set(name, counts);
    }
    return counts;
  }
}

/**
 * How far ahead of its granted time a step is dispatched (and how far from now the earliest grant
 * is): its start commit happens meanwhile, and its function runs at the granted time itself
 * (Attempts.start). Without it functions ran a commit late, and a late start next to an on-time
 * one put 12 to 16 starts in one second under a limit of 10 on a busy machine (the PostgreSQL
 * test). The price: a limited start begins up to this much later, holding its execution slot
 * meanwhile. Two emission intervals, and never more than 200 ms: a limit that never binds (a high
 * rate) costs next to nothing.
 */
export function leadMs(spec: Pick<RateLimitSpec, 'limit' | 'periodMs'>): number {
  return Math.min(200, (2 * spec.periodMs) / spec.limit);
}

/** Whether a step of the run has started (or ended): then the run has taken its start already. */
function hasStarted(run: ActiveRun): boolean {
  for (const step of run.steps.values()) {
    if (step.rec.attempts > 0 || (isTerminalStep(step.rec.status) && step.rec.status !== 'skipped')) return true;
  }
  return false;
}

/** Whether the answer still concerns a step waiting in the ready queue of a live run. */
function stillWaiting(run: ActiveRun, step: ActiveStep): boolean {
  return run.resident && isActive(run) && step.rec.status === 'queued' && step.inQueue;
}
