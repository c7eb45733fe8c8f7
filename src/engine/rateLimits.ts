import { RateLimitedError } from '../model/errors.js';
import { type RateLimitSpec, rateLimitSpec } from '../model/rateLimit.js';
import type { Store } from '../store/store.js';
import type { RateLimitGrant, RateLimitRequest } from '../store/types.js';
import { isTerminalStep } from '../store/types.js';
import type { Clock } from './clock.js';
import { type KeyState, RateLimitTurns, type RateTurnHooks } from './rateLimitTurns.js';
import { type ActiveRun, type ActiveStep, isActive } from './runState.js';

/**
 * Starts asked of the store in one call at most. Asks wait while one call is in flight, so asking
 * for every ready step at once (330 in the PostgreSQL test) does not fill the connection pool: the
 * commits that start granted steps would wait behind them and functions would run late, bunched
 * with the next ones (14 starts in a second under a limit of 10). A bounded batch answers well
 * within a lead (one statement and one commit on PostgreSQL), and the rest are asked as it returns.
 */
const MAX_BATCH = 64;

/**
 * A start due less than this far ahead starts at once: a timer fires no sooner than 1 ms, so
 * waiting for a few microseconds (a limit that does not bind: "now" plus a lead of microseconds,
 * or a key's previous start one tiny interval before) would only make it late, and cost a timer,
 * a postponement and a commit of its own.
 */
export const TIMER_RESOLUTION_MS = 1;

/** How long a start waits before asking again when the store could not be asked (it is away). */
const STORE_AWAY_RETRY_MS = 1000;

/** A start asked for, waiting to be sent to the store or for its answer. */
interface Ask {
  run: ActiveRun;
  step: ActiveStep;
  spec: RateLimitSpec;
  scope: 'run' | 'step';
  key: string;
  /** Its key's state, under 'queue'. */
  state: KeyState | undefined;
}

/** What the engine does with a limit's answer (and, for the waiters' turns, RateTurnHooks). */
export interface RateLimitHooks extends RateTurnHooks {
  /** Answers came in: dispatch what may start now. */
  pump(): void;
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
 *
 * While a limit binds, starts go by priority: one is reserved ahead per key, the other waiters
 * wait for their turn (RateLimitTurns), and the most urgent asks when the one ahead is used.
 */
export class RateLimits {
  readonly counts = new Map<string, RateLimitCounts>();
  /** Asks made since the last call to the store, sent together when it returns (or on the next microtask). */
  private pending: Ask[] = [];
  private asking = false;
  /** Whose turn it is to ask, per limit and key that binds (under 'queue'). */
  private readonly turns: RateLimitTurns;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly hooks: RateLimitHooks,
  ) {
    this.turns = new RateLimitTurns(clock, hooks);
  }

  /**
   * Whether the step may take a slot now; false while a limit holds it back (asking the store, or
   * postponed). The dispatcher passes over it meanwhile and asks again on its next pump.
   */
  admit(run: ActiveRun, step: ActiveStep): boolean {
    if (step.resuming || step.continuations.size > 0) return true;
    const workflow = run.plan.workflow;
    const runOptions = workflow.options.rateLimit;
    const now = this.clock.now();
    if (run.rate === 'granted' && run.rateHeld && now > (run.rateExpiresAt ?? Number.POSITIVE_INFINITY)) {
      run.rate = undefined;
      run.rateHeld = false;
      run.rateStartAt = undefined;
    }
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
      if (at - lead > now) {
        this.hooks.postpone(run, step, at - lead, null);
        return false;
      }
      if (at > now) step.notBefore = Math.max(step.notBefore ?? 0, at);
      else run.rateStartAt = undefined;
    }
    const stepOptions = step.def.rateLimit;
    if (step.rate === 'granted' && now > (step.rateExpiresAt ?? Number.POSITIVE_INFINITY)) {
      step.rate = undefined;
      step.notBefore = undefined;
    }
    if (stepOptions === undefined || step.rate === 'granted') return true;
    if (step.rate === undefined)
      this.ask(run, step, rateLimitSpec(stepOptions, `${workflow.name}/${step.def.name}`), 'step');
    return false;
  }

  /** The step starts (a new attempt): its grant is used up; a retry asks again. */
  started(run: ActiveRun, step: ActiveStep): void {
    step.rate = undefined;
    run.rateHeld = false;
    this.turns.used(run, step);
  }

  /**
   * A limit's setting changed in this process (setRateLimit / resetRateLimit): the starts reserved
   * ahead under the old one stop holding its waiters back, and every waiter asks again at once,
   * under the new limit (the starts already granted keep their times).
   */
  settingChanged(name: string): void {
    this.turns.settingChanged(name);
  }

  /** Starts waiting for their turn here, per limit and key (`name\0key`): the API adds them to `queued`. */
  waiting(): Map<string, number> {
    return this.turns.waiting();
  }

  /** Whether a step of the run waits for its turn here (in a cluster, such a run is not handed back: see RunLifecycle). */
  isWaiting(runId: string): boolean {
    return this.turns.isWaiting(runId);
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
    // A key has a state here only while its limit binds (or was seen to): other asks go at once.
    const state = spec.onLimit === 'queue' ? this.turns.stateOf(spec.name, key) : undefined;
    if (state && !this.turns.mayAsk(state, run, step, scope, { ...spec, leadMs: leadMs(spec) })) return;
    if (scope === 'run') run.rate = 'asking';
    else step.rate = 'asking';
    this.pending.push({ run, step, spec, scope, key, state });
    // Sent once the dispatch that asked has finished: all its asks in one call.
    if (!this.asking && this.pending.length === 1) queueMicrotask(() => this.send());
  }

  /** Sends the pending asks (up to MAX_BATCH) in one call to the store; the rest go when it returns. */
  private send(): void {
    if (this.asking || this.pending.length === 0) return;
    const batch = this.pending.splice(0, MAX_BATCH);
    // Asked for starts no earlier than one lead from now: a step's start commit has that long, and
    // its function runs at the granted time itself (see leadMs).
    const now = this.clock.now();
    const requests = batch.map(({ spec, key }) => ({
      name: spec.name,
      key,
      limit: spec.limit,
      periodMs: spec.periodMs,
      burst: spec.burst,
      now: now + leadMs(spec),
      onLimit: spec.onLimit,
    }));
    this.asking = true;
    this.store.takeRateLimits(requests).then(
      (grants) => {
        this.asking = false;
        const answered = new Set<KeyState>();
        for (const [i, ask] of batch.entries()) {
          if (ask.state) this.turns.answered(ask.state);
          const state = this.answer(ask, grants[i] as RateLimitGrant, (requests[i] as RateLimitRequest).now);
          if (state) answered.add(state);
        }
        for (const state of answered) this.turns.nextTurn(state);
        this.send();
        this.hooks.pump();
      },
      (error) => {
        this.asking = false;
        console.error('[braid] could not take rate limit starts; trying again in 1 s:', error);
        for (const { run, step, scope, state } of batch) {
          if (state) this.turns.answered(state);
          if (scope === 'run') run.rate = undefined;
          else step.rate = undefined;
          if (stillWaiting(run, step)) this.hooks.postpone(run, step, this.clock.now() + STORE_AWAY_RETRY_MS, null);
        }
        this.send();
        this.hooks.pump();
      },
    );
  }

  /**
   * Applies the store's answer to one ask: the step starts at its time, waits for it, or is
   * dropped. Returns its key's state, if the key has one now (its limit binds, or did).
   */
  private answer(ask: Ask, grant: RateLimitGrant, askedFor: number): KeyState | undefined {
    const { run, step, spec, scope, key } = ask;
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
      return undefined;
    }
    counts.started++;
    const isLater = grant.startAt - askedFor >= TIMER_RESOLUTION_MS;
    if (isLater) counts.queued++;
    const expiresAt = Math.max(grant.startAt, this.clock.now()) + staleAfterMs(grant);
    // The first start granted later than asked: the limit binds, and this key's asks go one at a time.
    const reserved = isLater ? { run, step, scope, startAt: grant.startAt, expiresAt } : undefined;
    const state = this.turns.granted(ask.state, spec.name, key, grant, reserved);
    if (scope === 'run') {
      run.rate = 'granted';
      run.rateHeld = true;
      run.rateStartAt = grant.startAt;
      run.rateExpiresAt = expiresAt;
      return state;
    }
    step.rate = 'granted';
    step.notBefore = grant.startAt;
    step.rateExpiresAt = expiresAt;
    const wakeAt = grant.startAt - leadMs(spec);
    if (wakeAt - this.clock.now() >= TIMER_RESOLUTION_MS && stillWaiting(run, step)) {
      const data = JSON.stringify({ limit: spec.name, key, startAt: grant.startAt });
      this.hooks.postpone(run, step, wakeAt, data);
    }
    return state;
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

/**
 * How long after its time (or after the answer came, if later) a granted start may still be used:
 * one emission interval of the limit in force, and never less than a timer's resolution. A step
 * that waits longer (its run paused, no execution slot free, a pool's gate) asks again: started on
 * its old grant it would bunch with the starts granted since. So each start begins within one
 * interval of its own grant, and a window of one period holds at most `limit` + 1 of them.
 */
function staleAfterMs(grant: Pick<RateLimitGrant, 'limit' | 'periodMs'>): number {
  return Math.max(TIMER_RESOLUTION_MS, grant.periodMs / grant.limit);
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
