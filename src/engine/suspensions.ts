import { RunCancelledError } from '../model/errors.js';
import { isTerminalStep, type WaitRecord } from '../store/types.js';
import type { Clock } from './clock.js';
import type { Dispatcher } from './dispatcher.js';
import type { Journal } from './journal.js';
import {
  type ActiveRun,
  type ActiveStep,
  type Continuation,
  continuationsToWrite,
  isActive,
  NO_CONTINUATIONS,
  waitsToWrite,
} from './runState.js';

/** The wait of the step settled last (not a cancelled one): what woke it. */
function lastSettled(step: ActiveStep): WaitRecord | undefined {
  let last: WaitRecord | undefined;
  for (const w of step.waits.values()) {
    if (w.status === 'cancelled' || w.resolvedAt === null) continue;
    if (!last || w.resolvedAt > (last.resolvedAt ?? 0)) last = w;
  }
  return last;
}

/** A wait as a step asks for it: the parts of a WaitRecord the call decides. */
export type WaitRequest = Pick<
  WaitRecord,
  'key' | 'kind' | 'dueAt' | 'name' | 'eventKey' | 'match' | 'since' | 'afterSeq' | 'request'
>;

/**
 * Steps suspended on durable waits (sleep, an event, a person's input). A wait is a row: the step
 * gives its slot (and pool) back while it waits, and whatever settles the wait (its time, an
 * event, an input, a timeout, a cancel) settles it once, here or in the store's commit.
 *
 * While the run is in memory, the suspended call is a continuation: once its wait group settles,
 * the step is queued for a slot again and the call returns. When the run leaves memory (its waits
 * are long: see RunLifecycle's eviction) or the process restarts, continuations are gone: the step
 * is then queued to run again from its start (`resuming`, not a new attempt), and its wait calls
 * find their settled waits and return at once.
 */
export class Suspensions {
  constructor(
    private readonly journal: Journal,
    private readonly dispatcher: Dispatcher,
    private readonly hooks: {
      /** The run's set of waiting steps changed: its status (running or waiting) may too. */
      refreshStatus(run: ActiveRun): void;
      /** The run may now only wait: time to arm its wake-up, or let it leave memory. */
      waitsChanged(run: ActiveRun): void;
    },
    private readonly clock: Clock,
  ) {}

  /** The settled wait of a group, if the step has one: a re-run's call returns it at once. */
  settledOf(step: ActiveStep, group: string): WaitRecord | undefined {
    let cancelled: WaitRecord | undefined;
    for (const wait of step.waits.values()) {
      if (wait.group !== group) continue;
      if (wait.status === 'resolved' || wait.status === 'timed_out') return wait;
      if (wait.status === 'cancelled') cancelled = wait;
    }
    return cancelled;
  }

  /** Registers (or finds again) the waits of one call and suspends the step on them. */
  suspend(
    run: ActiveRun,
    step: ActiveStep,
    group: string,
    requests: readonly WaitRequest[],
    continuation: Continuation,
  ) {
    const now = this.clock.now();
    const created: WaitRecord[] = [];
    for (const request of requests) {
      if (step.waits.has(request.key)) continue;
      const wait: WaitRecord = {
        ...request,
        runId: run.rec.id,
        step: step.def.name,
        group,
        status: 'pending',
        value: null,
        createdAt: now,
        resolvedAt: null,
      };
      waitsToWrite(step).set(wait.key, wait);
      this.journal.queue.writeWait(wait);
      created.push(wait);
    }
    continuationsToWrite(step).set(group, continuation);
    if (step.rec.status !== 'waiting') {
      step.rec.status = 'waiting';
      this.journal.writeStep(step);
      // The slot, the pool unit and the database gates go back: a waiting step holds nothing.
      this.dispatcher.release(run, step);
    }
    if (created.length) {
      const data = created.map((w) => ({ key: w.key, kind: w.kind, name: w.name, dueAt: w.dueAt }));
      this.journal.event(run, step.def.name, 'step_waiting', step.rec.attempts, JSON.stringify(data));
    }
    this.hooks.refreshStatus(run);
    this.hooks.waitsChanged(run);
  }

  /**
   * Takes waits settled elsewhere (the store's commit: an event, an input, a wait it had settled
   * first) and wakes the steps whose wait groups are now settled.
   */
  apply(run: ActiveRun, settled: readonly WaitRecord[]): void {
    const woken = new Set<ActiveStep>();
    for (const wait of settled) {
      const step = run.steps.get(wait.step);
      const known = step?.waits.get(wait.key);
      if (!step || (known && known.status !== 'pending')) continue;
      if (known) Object.assign(known, wait);
      else waitsToWrite(step).set(wait.key, { ...wait });
      woken.add(step);
    }
    for (const step of woken) this.wakeIfSettled(run, step);
  }

  /** Settles the waits whose time has come: a sleep is over, an event or input wait times out. */
  expire(run: ActiveRun, now: number): void {
    for (const step of run.steps.values()) {
      if (step.rec.status !== 'waiting') continue;
      let changed = false;
      for (const wait of step.waits.values()) {
        if (wait.status !== 'pending' || wait.dueAt === null || wait.dueAt > now) continue;
        this.settleGroup(wait, step, wait.kind === 'sleep' ? 'resolved' : 'timed_out', now);
        if (wait.kind !== 'sleep') step.settledHere = true;
        changed = true;
      }
      if (changed) this.wakeIfSettled(run, step);
    }
  }

  /** The earliest time a pending wait of the run is due, or null. */
  nextDue(run: ActiveRun): number | null {
    let at: number | null = null;
    for (const step of run.steps.values()) {
      if (step.rec.status !== 'waiting') continue;
      for (const wait of step.waits.values()) {
        if (wait.status === 'pending' && wait.dueAt !== null && (at === null || wait.dueAt < at)) at = wait.dueAt;
      }
    }
    return at;
  }

  /**
   * The step is done (succeeded, failed for good, or its run ended): its pending waits are
   * cancelled, in the store too, and its suspended calls refused.
   */
  abandon(step: ActiveStep, reason: () => unknown): void {
    if (!step.waits.size && !step.continuations.size && !step.resuming) return;
    const now = this.clock.now();
    for (const wait of step.waits.values()) {
      if (wait.status !== 'pending') continue;
      Object.assign(wait, { status: 'cancelled', resolvedAt: now });
      this.journal.queue.writeWait(wait);
    }
    this.dropContinuations(step, reason);
  }

  /**
   * The step's attempt stopped (a failure to retry, a shutdown, a lost commit): its suspended calls
   * are refused, but its pending waits stay as they are in the store. A retry (or the next start)
   * finds them and waits on them again; what settles them meanwhile is kept.
   */
  dropContinuations(step: ActiveStep, reason: () => unknown): void {
    step.resuming = false;
    if (!step.continuations.size) return;
    const continuations = [...step.continuations.values()];
    step.continuations = NO_CONTINUATIONS;
    // Built only when a call is refused: an error (and its stack) per finished step that waited
    // cost 3 % of waking 20,000 sleepers.
    const error = reason();
    for (const c of continuations) c.reject(error);
  }

  /** Steps a load found woken while their run was out of memory: their history says so. */
  noteWokenOnLoad(run: ActiveRun): void {
    for (const step of run.steps.values()) {
      if (!step.resuming) continue;
      const last = lastSettled(step);
      const data = last ? JSON.stringify({ key: last.key, status: last.status }) : null;
      this.journal.event(run, step.def.name, 'step_woken', step.rec.attempts, data);
    }
  }

  /** The run leaves memory: its suspended calls are dropped (the steps run again when they wake). */
  forgetContinuations(run: ActiveRun): void {
    for (const step of run.steps.values()) step.continuations = NO_CONTINUATIONS;
  }

  private settleGroup(wait: WaitRecord, step: ActiveStep, status: WaitRecord['status'], now: number): void {
    Object.assign(wait, { status, resolvedAt: now });
    this.journal.queue.writeWait(wait);
    for (const other of step.waits.values()) {
      if (other.group !== wait.group || other.status !== 'pending') continue;
      Object.assign(other, { status: 'cancelled', resolvedAt: now });
      this.journal.queue.writeWait(other);
    }
  }

  /**
   * A step whose wait groups have all settled goes on: its suspended calls return once it has a
   * slot again, or, without them, it runs again from its start.
   */
  private wakeIfSettled(run: ActiveRun, step: ActiveStep): void {
    if (step.rec.status !== 'waiting' || isTerminalStep(step.rec.status)) return;
    for (const wait of step.waits.values()) if (wait.status === 'pending') return;
    const settled = [...step.waits.values()].filter((w) => w.resolvedAt !== null);
    const last = settled.reduce<WaitRecord | undefined>(
      (a, w) => (!a || (w.resolvedAt ?? 0) > (a.resolvedAt ?? 0) ? w : a),
      undefined,
    );
    this.journal.event(
      run,
      step.def.name,
      'step_woken',
      step.rec.attempts,
      last ? JSON.stringify({ key: last.key, status: last.status }) : null,
    );
    if (step.continuations.size === 0) step.resuming = true;
    step.rec.status = 'queued';
    this.journal.writeStep(step);
    this.hooks.refreshStatus(run);
    if (isActive(run)) this.dispatcher.enqueue(run, step);
  }

  /** The continuations of a step that has its slot again: its wait calls return. */
  resumeContinuations(step: ActiveStep): void {
    const continuations = [...step.continuations];
    step.continuations = NO_CONTINUATIONS;
    for (const [group, c] of continuations) {
      const wait = this.settledOf(step, group);
      if (wait && wait.status !== 'cancelled') c.resolve(wait);
      else c.reject(new RunCancelledError(step.rec.runId, `the wait of step "${step.def.name}" was cancelled`));
    }
  }
}
