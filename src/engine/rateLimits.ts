import { RateLimitedError } from '../model/errors.js';
import { type RateLimitSpec, rateLimitSpec } from '../model/rateLimit.js';
import type { Store } from '../store/store.js';
import type { RateLimitGrant, RateLimitRequest } from '../store/types.js';
import { isTerminalStep } from '../store/types.js';
import type { Clock } from './clock.js';
import { PriorityQueue, type QueueEntry } from './priorityQueue.js';
import { type ActiveRun, type ActiveStep, isActive } from './runState.js';

/**
 * Starts asked of the store in one call at most. Asks wait while one call is in flight, so asking
 * for every ready step at once (330 in the PostgreSQL test) does not fill the connection pool: the
 * commits that start granted steps would wait behind them and functions would run late, bunched
 * with the next ones (14 starts in a second under a limit of 10). A bounded batch answers well
 * within a lead (a few ms on PostgreSQL, one statement each), and the rest are asked as it returns.
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

/**
 * How long a waiter woken for its turn has to ask before the turn goes to the next one. It asks at
 * once when it is in memory and a slot is free; this covers loading it back from the store, and a
 * waiter that cannot ask (no execution slot free, paused meanwhile) then holds no one up for long.
 */
const TURN_GRACE_MS = 1000;

/**
 * The least time a waiter is postponed by. Its time is only a fallback (it is woken when its turn
 * comes): a fallback due at once would wake it to be postponed again, in a loop.
 */
const MIN_WAIT_MS = 20;

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
  /**
   * A waiter's turn came: its postponed steps are due now, by the engine's wake-up path (loading the
   * run back if it left memory). 'woken': it will ask; 'loading': it will once loaded (`lost` is
   * called if it cannot); 'paused': it keeps its place; 'gone': ended, or not this process's any more.
   */
  wake(waiter: RateWaiter, lost: () => void): 'woken' | 'loading' | 'paused' | 'gone';
  /** Calls `fn` at `at` on the engine's timer heap; returns an id for `cancel`. */
  schedule(at: number, fn: () => void): number;
  cancel(timer: number): void;
}

/**
 * A start held back behind the one this process reserved ahead for its limit and key: a run (its
 * workflow's limit: the steps that asked for it) or one of its steps. Named by ids, not by its
 * ActiveRun: the run may leave memory while it waits, and is loaded again when its turn comes.
 */
export interface RateWaiter {
  runId: string;
  scope: 'run' | 'step';
  /** The steps postponed while it waits (for a workflow's limit, each of the run's first steps that asked). */
  steps: string[];
}

/** A start granted later than asked (the limit binds) and not yet used. */
interface Reserved {
  run: ActiveRun;
  step: ActiveStep;
  scope: 'run' | 'step';
  startAt: number;
  expiresAt: number;
}

/**
 * One limit and key, as this process sees it. While the limit binds, the process keeps one start
 * reserved ahead (asked or granted) and its other waiters in a PriorityQueue: each time the start
 * ahead is used or dropped, the most urgent waiter asks next. Reserving a start for each waiter as
 * it came (the store's GCRA answers in the order it is asked) would grant a later, more urgent one
 * after all of them.
 */
interface KeyState {
  readonly id: string;
  readonly name: string;
  /** The last answer for this key granted a start later than asked: asks go one at a time. */
  isBinding: boolean;
  /** Asks pending or in flight. */
  asking: number;
  reserved: Reserved[];
  /** Waiters woken for their turn (by `waiterId`), and until when the turn is theirs. */
  turns: Map<string, number>;
  /** Made when a first waiter comes: a limit that never binds makes none. */
  waiters: PriorityQueue<RateWaiter> | undefined;
  /** The queued waiters by `waiterId` (as many as `waiters` holds). */
  readonly entries: Map<string, QueueEntry<RateWaiter>>;
  /** The limit and period of the last grant: one that differs means the limit changed elsewhere. */
  limit: number | undefined;
  periodMs: number | undefined;
  timer: number | undefined;
  timerAt: number;
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
 * While a limit binds, starts go by priority (see KeyState): one is reserved ahead per key, the
 * other waiters wait in a PriorityQueue, and the most urgent asks when the one ahead is used.
 * Nothing of it is stored: after a crash every waiter asks again at its fallback time.
 */
export class RateLimits {
  readonly counts = new Map<string, RateLimitCounts>();
  /** Asks made since the last call to the store, sent together when it returns (or on the next microtask). */
  private pending: Ask[] = [];
  private asking = false;
  /** Per limit and key (`name\0key`), under 'queue'. */
  private readonly keys = new Map<string, KeyState>();
  /** Who holds a start reserved ahead (a step, or a run for its workflow's limit), and for which key. */
  private readonly holders = new Map<ActiveRun | ActiveStep, KeyState>();
  /** Runs with a waiter queued here, and how many. */
  private readonly waitingRuns = new Map<string, number>();

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
    // A start reserved ahead is used: the most urgent waiter of its key asks next, so its start is
    // reserved one interval after this one. (After this dispatch: waking it dispatches too.)
    if (this.holders.size === 0) return;
    for (const holder of [step, run]) {
      const state = this.holders.get(holder);
      if (!state) continue;
      this.holders.delete(holder);
      queueMicrotask(() => this.nextTurn(state));
    }
  }

  /**
   * A limit's setting changed in this process (setRateLimit / resetRateLimit): the starts reserved
   * ahead under the old one stop holding its waiters back, and every waiter asks again at once,
   * under the new limit (the starts already granted keep their times).
   */
  settingChanged(name: string): void {
    for (const state of this.keys.values()) if (state.name === name) this.release(state);
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
    const state = spec.onLimit === 'queue' ? this.stateOf(spec.name, key) : undefined;
    if (state) {
      const id = waiterId(run, step, scope);
      const hasTurn = state.turns.delete(id);
      if (!hasTurn && (state.entries.size > 0 || this.isHeldBack(state, this.clock.now()))) {
        this.wait(state, id, run, step, spec, scope);
        return;
      }
      const entry = state.entries.get(id);
      if (entry) {
        this.unqueue(state, id);
        state.waiters?.remove(entry);
      }
      state.asking++;
    }
    if (scope === 'run') run.rate = 'asking';
    else step.rate = 'asking';
    this.pending.push({ run, step, spec, scope, key, state });
    // Sent once the dispatch that asked has finished: all its asks in one call.
    if (!this.asking && this.pending.length === 1) queueMicrotask(() => this.send());
  }

  /**
   * The start waits for its turn: it joins its key's queue (once) and leaves the ready queue
   * holding nothing, postponed to a fallback time - when its turn would come in arrival order - on
   * the run's wake-up path. It is woken earlier when its turn comes (see nextTurn); the fallback
   * only matters if it is not (its run left this process, or the process restarted), and then it
   * simply asks again.
   */
  private wait(
    state: KeyState,
    id: string,
    run: ActiveRun,
    step: ActiveStep,
    spec: RateLimitSpec,
    scope: 'run' | 'step',
  ): void {
    const existing = state.entries.get(id);
    if (existing) {
      if (!existing.item.steps.includes(step.def.name)) existing.item.steps.push(step.def.name);
    } else {
      const priority = scope === 'run' ? run.rec.priority : (step.def.priority ?? run.rec.priority);
      state.waiters ??= new PriorityQueue<RateWaiter>();
      this.enqueue(state, id, state.waiters.push({ runId: run.rec.id, scope, steps: [step.def.name] }, priority));
    }
    const now = this.clock.now();
    const intervalMs = (state.periodMs ?? spec.periodMs) / (state.limit ?? spec.limit);
    let ahead = now;
    for (const reserved of state.reserved) ahead = Math.max(ahead, reserved.startAt);
    const fallback = Math.max(now + MIN_WAIT_MS, ahead + state.entries.size * intervalMs - leadMs(spec));
    // No event yet: its step_throttled event says when its start is, once it is granted.
    this.hooks.postpone(run, step, fallback, null);
    if (!this.isHeldBack(state, now)) queueMicrotask(() => this.nextTurn(state));
  }

  /**
   * Whether a new ask of this key must wait: the limit binds, and a start is being asked, is
   * reserved ahead and not yet used (nor stale, nor its run gone), or was handed to a waiter that
   * has not asked yet.
   */
  private isHeldBack(state: KeyState, now: number): boolean {
    state.reserved = state.reserved.filter((reserved) => isHeld(reserved, now) || !this.letGo(state, reserved));
    if (!state.isBinding) return false;
    if (state.asking > 0) return true;
    if (state.reserved.length > 0) return true;
    for (const [id, until] of state.turns) {
      if (until >= now) return true;
      state.turns.delete(id);
    }
    return false;
  }

  /**
   * Hands the key's turn on: while the limit binds, to the most urgent waiter (by priority, then
   * arrival, with the PriorityQueue's turn for the oldest), once nothing is reserved ahead; when it
   * does not bind, to every waiter. Otherwise it looks again when what holds the key back expires.
   */
  private nextTurn(state: KeyState): void {
    const now = this.clock.now();
    if (this.isHeldBack(state, now)) {
      let next = Number.POSITIVE_INFINITY;
      for (const reserved of state.reserved) next = Math.min(next, reserved.expiresAt);
      for (const until of state.turns.values()) next = Math.min(next, until);
      // An ask in flight looks again when it is answered.
      if (next !== Number.POSITIVE_INFINITY && state.entries.size > 0) this.lookAgainAt(state, next + 1);
      return;
    }
    if (state.entries.size === 0 || !state.waiters) {
      if (state.asking === 0 && state.turns.size === 0 && state.reserved.length === 0) this.forget(state);
      return;
    }
    const all = !state.isBinding;
    let woken = false;
    state.waiters.drain((waiter) => {
      if (woken && !all) return 'stop';
      const id = idOf(waiter);
      const entry = state.entries.get(id);
      // Out of the queue before it is woken: a waiter in memory asks at once, from inside `wake`.
      this.unqueue(state, id);
      const until = now + TURN_GRACE_MS;
      state.turns.set(id, until);
      const outcome = this.hooks.wake(waiter, () => {
        if (state.turns.get(id) !== until) return;
        state.turns.delete(id);
        this.nextTurn(state);
      });
      if (outcome === 'woken' || outcome === 'loading') {
        woken = true;
        return 'take';
      }
      state.turns.delete(id);
      if (outcome !== 'paused') return 'drop';
      if (entry) this.enqueue(state, id, entry);
      return 'keep';
    });
    if (woken && !all) this.lookAgainAt(state, now + TURN_GRACE_MS + 1);
  }

  /** Starts waiting for their turn here, per limit and key (`name\0key`): the API adds them to `queued`. */
  waiting(): Map<string, number> {
    const out = new Map<string, number>();
    for (const state of this.keys.values()) if (state.entries.size > 0) out.set(state.id, state.entries.size);
    return out;
  }

  /** Whether a step of the run waits for its turn here (in a cluster, such a run is not handed back: see RunLifecycle). */
  isWaiting(runId: string): boolean {
    return this.waitingRuns.has(runId);
  }

  private enqueue(state: KeyState, id: string, entry: QueueEntry<RateWaiter>): void {
    state.entries.set(id, entry);
    const runId = entry.item.runId;
    this.waitingRuns.set(runId, (this.waitingRuns.get(runId) ?? 0) + 1);
  }

  private unqueue(state: KeyState, id: string): void {
    const entry = state.entries.get(id);
    if (!entry) return;
    state.entries.delete(id);
    const runId = entry.item.runId;
    const left = (this.waitingRuns.get(runId) ?? 1) - 1;
    if (left > 0) this.waitingRuns.set(runId, left);
    else this.waitingRuns.delete(runId);
  }

  /** A start reserved ahead no longer holds its key back (used, stale, its run gone, or a setting changed). */
  private letGo(state: KeyState, reserved: Reserved): boolean {
    const holder = reserved.scope === 'run' ? reserved.run : reserved.step;
    if (this.holders.get(holder) === state) this.holders.delete(holder);
    return true;
  }

  /** Every waiter of the key asks again now (a setting changed): nothing reserved ahead holds them back. */
  private release(state: KeyState): void {
    state.isBinding = false;
    for (const reserved of state.reserved) this.letGo(state, reserved);
    state.reserved = [];
    state.limit = undefined;
    state.periodMs = undefined;
    this.nextTurn(state);
  }

  /** One timer per key at most, for the earliest time what holds it back expires. */
  private lookAgainAt(state: KeyState, at: number): void {
    if (state.timer !== undefined && state.timerAt <= at) return;
    if (state.timer !== undefined) this.hooks.cancel(state.timer);
    state.timerAt = at;
    state.timer = this.hooks.schedule(at, () => {
      state.timer = undefined;
      state.timerAt = Number.POSITIVE_INFINITY;
      this.nextTurn(state);
    });
  }

  /** The key's state, if its limit binds (no id is built while none does). */
  private stateOf(name: string, key: string): KeyState | undefined {
    return this.keys.size === 0 ? undefined : this.keys.get(`${name}\0${key}`);
  }

  private keyState(name: string, key: string): KeyState {
    const id = `${name}\0${key}`;
    let state = this.keys.get(id);
    if (!state) {
      state = {
        id,
        name,
        isBinding: false,
        asking: 0,
        reserved: [],
        turns: new Map(),
        waiters: undefined,
        entries: new Map(),
        limit: undefined,
        periodMs: undefined,
        timer: undefined,
        timerAt: Number.POSITIVE_INFINITY,
      };
      this.keys.set(id, state);
    }
    return state;
  }

  /** A key with nothing asked, reserved or waiting: dropped, so idle keys cost no memory. */
  private forget(state: KeyState): void {
    if (state.timer !== undefined) this.hooks.cancel(state.timer);
    state.timer = undefined;
    if (this.keys.get(state.id) === state) this.keys.delete(state.id);
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
          if (ask.state) ask.state.asking--;
          const state = this.answer(ask, grants[i] as RateLimitGrant, (requests[i] as RateLimitRequest).now);
          if (state) answered.add(state);
        }
        for (const state of answered) this.nextTurn(state);
        this.send();
        this.hooks.pump();
      },
      (error) => {
        this.asking = false;
        console.error('[braid] could not take rate limit starts; trying again in 1 s:', error);
        for (const { run, step, scope, state } of batch) {
          if (state) state.asking--;
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
    const state = ask.state ?? (isLater ? this.keyState(spec.name, key) : this.stateOf(spec.name, key));
    if (state) {
      // Granted under another limit or period than the last answer: it was changed elsewhere, and
      // what was reserved ahead under the old one holds no waiter back any more.
      const isChanged = state.limit !== undefined && (state.limit !== grant.limit || state.periodMs !== grant.periodMs);
      if (isChanged) this.release(state);
      state.limit = grant.limit;
      state.periodMs = grant.periodMs;
      state.isBinding = isLater;
      if (isLater) {
        state.reserved.push({ run, step, scope, startAt: grant.startAt, expiresAt });
        this.holders.set(scope === 'run' ? run : step, state);
      }
    }
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

/** Whether a start reserved ahead may still be used by its holder (not used, not stale, its run live here). */
function isHeld(reserved: Reserved, now: number): boolean {
  const { run, step, scope } = reserved;
  if (now > reserved.expiresAt || !run.resident || !isActive(run)) return false;
  return scope === 'run' ? run.rateHeld === true : step.rate === 'granted';
}

/** A waiter's name in its key's queue: the run, for its workflow's limit, else the run's step. */
function waiterId(run: ActiveRun, step: ActiveStep, scope: 'run' | 'step'): string {
  return scope === 'run' ? run.rec.id : `${run.rec.id}\0${step.def.name}`;
}

function idOf(waiter: RateWaiter): string {
  return waiter.scope === 'run' ? waiter.runId : `${waiter.runId}\0${waiter.steps[0]}`;
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
