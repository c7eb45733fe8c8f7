import type { RateLimitGrant } from '../store/types.js';
import type { Clock } from './clock.js';
import { PriorityQueue, type QueueEntry } from './priorityQueue.js';
import { type ActiveRun, type ActiveStep, isActive } from './runState.js';

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

/** What the turns need of the engine. */
export interface RateTurnHooks {
  /** The step leaves the ready queue until `at` (the wake-up path queues it again). */
  postpone(run: ActiveRun, step: ActiveStep, at: number, data: string | null): void;
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

/** A start granted later than asked (the limit binds) and not yet used. */
export interface Reserved {
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
export interface KeyState {
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

/** What a waiting start's fallback time is computed from: its limit as configured, and its lead. */
export interface WaitSpec {
  limit: number;
  periodMs: number;
  leadMs: number;
}

/**
 * Whose turn it is to ask under each limit and key that binds in this process (RateLimits asks and
 * applies the store's answers; this orders the waiters). A key has state only once a grant came
 * back later than asked; then one start is reserved ahead at a time and the other waiters wait in
 * a PriorityQueue: when the start ahead is used, dropped or goes stale, the most urgent one is woken
 * to ask, so throughput stays at the limit and starts go by priority. Nothing of it is stored:
 * after a crash every waiter asks again at its fallback time.
 */
export class RateLimitTurns {
  /** Per limit and key (`name\0key`). */
  private readonly keys = new Map<string, KeyState>();
  /** Who holds a start reserved ahead (a step, or a run for its workflow's limit), and for which key. */
  private readonly holders = new Map<ActiveRun | ActiveStep, KeyState>();
  /** Runs with a waiter queued here, and how many. */
  private readonly waitingRuns = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly hooks: RateTurnHooks,
  ) {}

  /** The key's state, if its limit binds (no id is built while none does). */
  stateOf(name: string, key: string): KeyState | undefined {
    return this.keys.size === 0 ? undefined : this.keys.get(`${name}\0${key}`);
  }

  /**
   * A start of a key with state wants to ask. Returns false when it must wait for its turn (it is
   * queued and postponed); true when it may ask now (counted as asking until `answered`).
   */
  mayAsk(state: KeyState, run: ActiveRun, step: ActiveStep, scope: 'run' | 'step', spec: WaitSpec): boolean {
    const id = waiterId(run, step, scope);
    const hasTurn = state.turns.delete(id);
    if (!hasTurn && (state.entries.size > 0 || this.isHeldBack(state, this.clock.now()))) {
      this.wait(state, id, run, step, scope, spec);
      return false;
    }
    const entry = state.entries.get(id);
    if (entry) {
      this.unqueue(state, id);
      state.waiters?.remove(entry);
    }
    state.asking++;
    return true;
  }

  /** An ask of the key came back (answered or failed): it no longer holds the key back. */
  answered(state: KeyState): void {
    state.asking--;
  }

  /**
   * A grant came for a key: returns the key's state, made when this is the first start granted
   * later than asked (the limit binds), and records the start reserved ahead when it does.
   */
  granted(
    state: KeyState | undefined,
    name: string,
    key: string,
    grant: Pick<RateLimitGrant, 'limit' | 'periodMs'>,
    reserved: Reserved | undefined,
  ): KeyState | undefined {
    const isLater = reserved !== undefined;
    const found = state ?? (isLater ? this.keyState(name, key) : this.stateOf(name, key));
    if (!found) return undefined;
    // Granted under another limit or period than the last answer: it was changed elsewhere, and
    // what was reserved ahead under the old one holds no waiter back any more.
    const isChanged = found.limit !== undefined && (found.limit !== grant.limit || found.periodMs !== grant.periodMs);
    if (isChanged) this.release(found);
    found.limit = grant.limit;
    found.periodMs = grant.periodMs;
    found.isBinding = isLater;
    if (reserved) {
      found.reserved.push(reserved);
      this.holders.set(reserved.scope === 'run' ? reserved.run : reserved.step, found);
    }
    return found;
  }

  /**
   * The step starts: a start it (or its run) reserved ahead is used, and the most urgent waiter of
   * its key asks next, so its start is reserved one interval after this one. (After this dispatch:
   * waking it dispatches too.)
   */
  used(run: ActiveRun, step: ActiveStep): void {
    if (this.holders.size === 0) return;
    for (const holder of [step, run]) {
      const state = this.holders.get(holder);
      if (!state) continue;
      this.holders.delete(holder);
      queueMicrotask(() => this.nextTurn(state));
    }
  }

  /** A limit's setting changed in this process: every waiter of its keys asks again at once. */
  settingChanged(name: string): void {
    for (const state of this.keys.values()) if (state.name === name) this.release(state);
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

  /**
   * Hands the key's turn on: while the limit binds, to the most urgent waiter (by priority, then
   * arrival, with the PriorityQueue's turn for the oldest), once nothing is reserved ahead; when it
   * does not bind, to every waiter. Otherwise it looks again when what holds the key back expires.
   */
  nextTurn(state: KeyState): void {
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
    scope: 'run' | 'step',
    spec: WaitSpec,
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
    const fallback = Math.max(now + MIN_WAIT_MS, ahead + state.entries.size * intervalMs - spec.leadMs);
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
