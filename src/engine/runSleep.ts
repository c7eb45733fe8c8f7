import { isTerminalStep } from '../store/types.js';
import type { Clock } from './clock.js';
import type { RunEnding } from './ending.js';
import type { Journal } from './journal.js';
import type { RunObserver } from './observer.js';
import type { ClusterPort } from './ports.js';
import { type ActiveRun, isActive } from './runState.js';
import type { RunTable } from './runTable.js';
import type { Suspensions } from './suspensions.js';
import { nextRetryOf, type Wakeups } from './wakeups.js';

/**
 * A run with nothing to do for this long (its steps wait for a retry) leaves memory and is only its
 * row until then: a run that waits holds no slot, no timer and no memory. Shorter waits stay in
 * memory, where waking costs nothing.
 */
export const EVICT_AFTER_MS = 1000;

/**
 * A run that only waits: its `waiting` status (and the deadline it stops, when the workflow says
 * so), and leaving memory while it waits long enough - its row is all that is left of it, with the
 * time the wake-up path loads it again (alone) or a worker claims it (in a cluster).
 */
export class RunSleep {
  constructor(
    private readonly runs: RunTable,
    private readonly journal: Journal,
    private readonly observer: RunObserver,
    private readonly ending: RunEnding,
    private readonly wakeups: Wakeups,
    private readonly suspensions: Suspensions,
    private readonly cluster: () => ClusterPort | undefined,
    private readonly hooks: {
      /** Hands a run's callers over to its end elsewhere (`settleToo`: `execute()` callers too). */
      handOver(run: ActiveRun, settleToo: boolean): void;
      /** A step of the run waits for its turn under a rate limit in this process (see RateLimits). */
      isRateWaiter(runId: string): boolean;
    },
    private readonly clock: Clock,
  ) {}

  /**
   * A run whose every unfinished step waits for a time at least EVICT_AFTER_MS away (or for an
   * event or an input) leaves memory once that is durable: its row carries `wakeAt` (the earliest
   * wake-up, or its deadline), and the wake-up path loads it again then. In a cluster it leaves its
   * worker too: it goes back to the queue with its `wakeAt`, and whichever worker claims it when it
   * is due (or when an event settles its wait) carries it on; its callers here wait for its end.
   */
  sleepIfIdle(run: ActiveRun): void {
    // `running` first: it is the cheap test, and a run with a step running is never idle.
    if (run.running > 0 || !isIdle(run)) return;
    const next = this.nextWakeOf(run);
    // Its deadline wakes it too; with nothing due at a time, only an event or an input wakes it.
    const deadline = run.rec.pausedAt === null ? run.rec.deadlineAt : null; // a stopped deadline wakes nothing
    const wakeAt = Math.min(next ?? NO_WAKE_TIME, deadline ?? NO_WAKE_TIME);
    if (wakeAt - this.clock.now() < EVICT_AFTER_MS) return; // near enough: waited for in memory
    if (next === null && !hasWaitingStep(run)) return; // nothing waits: the run is about to end
    // A worker orders its own rate-limit waiters: handed back, one would lose its turn here and ask
    // again only at its fallback time, on whichever worker claims it. (Alone, it is loaded back.)
    if (this.cluster() && this.hooks.isRateWaiter(run.rec.id)) return;
    run.rec.wakeAt = wakeAt;
    this.journal.writeRun(run);
    this.journal.afterCommit(() => {
      if (!run.resident || run.rec.wakeAt !== wakeAt) return;
      if (!isActive(run) || !isIdle(run)) {
        // Something happened meanwhile (a pause, an event): it stays awake, and its row says so.
        this.markAwake(run);
        return;
      }
      const cluster = this.cluster();
      if (!cluster) this.runs.park(run);
      this.suspensions.forgetContinuations(run);
      this.observer.runAsleep(run);
      this.ending.forget(run);
      if (!cluster) {
        this.wakeups.expectStored(wakeAt);
        return;
      }
      // An event settling its wait from now on finds it unowned and wakes it for any worker; one
      // that did so since the commit above is seen by the hand-back (see releaseRuns).
      this.hooks.handOver(run, true);
      cluster.handBack([run.rec.id]);
    });
  }

  /** The earliest time the run has something to do by itself: a retry, a delay, a wait due. */
  nextWakeOf(run: ActiveRun): number | null {
    const retry = nextRetryOf(run);
    const due = this.suspensions.nextDue(run);
    if (retry === null) return due;
    return due === null ? retry : Math.min(retry, due);
  }

  /**
   * Keeps the run's status in step with its steps: `waiting` while nothing of it runs or is ready
   * and at least one step waits (for a time, an event, an input), `running` otherwise.
   */
  refreshStatus(run: ActiveRun): void {
    if (!isActive(run) || !run.resident) return;
    const waiting = run.running === 0 && isIdle(run) && hasWaitingStep(run);
    if (waiting && run.rec.status === 'running') {
      run.rec.status = 'waiting';
      if (run.plan.workflow.options.timeoutIncludesWaiting === false) {
        // The deadline stops while the run waits, as for a pause (see setRunning).
        run.rec.pausedAt = this.clock.now();
        this.ending.disarmDeadline(run);
      }
      this.journal.writeRun(run);
      this.journal.event(run, null, 'run_waiting', null, null);
    } else if (!waiting && run.rec.status === 'waiting') this.setRunning(run);
  }

  /** A waiting run has something to do again: `running`, its stopped deadline moved on by the wait. */
  setRunning(run: ActiveRun): void {
    if (run.rec.status !== 'waiting') return;
    run.rec.status = 'running';
    const rec = run.rec;
    if (rec.pausedAt !== null) {
      if (rec.deadlineAt !== null) rec.deadlineAt += Math.max(0, this.clock.now() - rec.pausedAt);
      rec.pausedAt = null;
      this.ending.armDeadline(run);
    }
    this.journal.writeRun(run);
    this.journal.event(run, null, 'run_woken', null, null);
  }

  /** A waiting step's waits changed: arm the run's wake-up, or let the run leave memory. */
  waitsChanged(run: ActiveRun): void {
    this.wakeups.arm(run);
    this.sleepIfIdle(run);
  }

  /** A run loaded from the store is awake: it is no longer a row waiting for its wake-up. */
  markAwake(run: ActiveRun): void {
    if (run.rec.wakeAt === null) return;
    run.rec.wakeAt = null;
    this.journal.writeRun(run);
  }
}

/** Epoch ms "never": the wake-up time of a run that only an event or an input can wake. */
export const NO_WAKE_TIME = Number.MAX_SAFE_INTEGER;

/**
 * Nothing of the run executes, is ready, or is being decided: every unfinished step waits (for a
 * retry time, or on a durable wait) or waits for its parents.
 */
function isIdle(run: ActiveRun): boolean {
  if (run.running > 0 || run.waitingForConcurrency) return false;
  // A start granted by a rate limit lives in memory until it is used (see RateLimits).
  if (run.rateHeld || run.rate === 'asking') return false;
  for (const step of run.steps.values()) {
    const s = step.rec;
    if (isTerminalStep(s.status) || s.status === 'pending' || s.status === 'waiting') continue;
    if (step.rate !== undefined) return false;
    if (s.status !== 'queued' || step.inQueue || s.nextAttemptAt === null || step.hold.gateState !== 'none') {
      return false;
    }
  }
  return true;
}

function hasWaitingStep(run: ActiveRun): boolean {
  for (const step of run.steps.values()) if (step.rec.status === 'waiting') return true;
  return false;
}
