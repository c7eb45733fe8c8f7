import { RateLimitedError } from '../model/errors.js';
import { type RateLimitSpec, rateLimitSpec } from '../model/rateLimit.js';
import type { Store } from '../store/store.js';
import { isTerminalStep } from '../store/types.js';
import type { Clock } from './clock.js';
import { type ActiveRun, type ActiveStep, isActive } from './runState.js';

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
      if (run.rateStartAt > this.clock.now()) {
        this.hooks.postpone(run, step, run.rateStartAt, null);
        return false;
      }
      run.rateStartAt = undefined;
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
    const now = this.clock.now();
    const request = { name: spec.name, key, limit: spec.limit, periodMs: spec.periodMs, burst: spec.burst, now };
    this.store.takeRateLimit({ ...request, onLimit: spec.onLimit }).then(
      (grant) => {
        const counts = this.countsOf(spec.name);
        if (!grant.granted) {
          counts.dropped++;
          if (scope === 'run') run.rate = undefined;
          else step.rate = undefined;
          if (!stillWaiting(run, step)) return;
          const error = new RateLimitedError(spec.name, key, grant.startAt);
          if (scope === 'run') this.hooks.dropRun(run, error);
          else this.hooks.dropStep(run, step, error);
          return;
        }
        counts.started++;
        if (grant.startAt > now) counts.queued++;
        if (scope === 'run') {
          run.rate = 'granted';
          run.rateHeld = true;
          if (grant.startAt > now) run.rateStartAt = grant.startAt;
        } else {
          step.rate = 'granted';
          if (grant.startAt > now && stillWaiting(run, step)) {
            const data = JSON.stringify({ limit: spec.name, key, startAt: grant.startAt });
            this.hooks.postpone(run, step, grant.startAt, data);
          }
        }
        this.hooks.pump();
      },
      (error) => {
        console.error(`[braid] could not take a start of rate limit "${spec.name}"; trying again in 1 s:`, error);
        if (scope === 'run') run.rate = undefined;
        else step.rate = undefined;
        if (stillWaiting(run, step)) this.hooks.postpone(run, step, this.clock.now() + STORE_AWAY_RETRY_MS, null);
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
