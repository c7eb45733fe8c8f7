import { durationMs } from '../model/durations.js';
import { RateLimitedError, RunCancelledError, type SerializedError, serializeError } from '../model/errors.js';
import { fromJson } from '../model/json.js';
import type { Store } from '../store/store.js';
import { isTerminalRun, isTerminalStep, type RunRecord } from '../store/types.js';
import type { AttemptOutcomes, Attempts } from './attempts.js';
import { stepFailure } from './buildResult.js';
import type { Clock } from './clock.js';
import type { Concurrency } from './concurrency.js';
import type { ExecutionConfig } from './config.js';
import type { Dispatcher } from './dispatcher.js';
import type { RunEnding } from './ending.js';
import { writeForkSeed } from './forking.js';
import type { Journal } from './journal.js';
import type { RunObserver } from './observer.js';
import type { ClusterPort } from './ports.js';
import type { RunSleep } from './runSleep.js';
import { type ActiveRun, type ActiveStep, isActive, type NewRunSpec } from './runState.js';
import type { RunTable } from './runTable.js';
import { cacheKeyOf, readCacheEntry } from './stepCache.js';
import { StepContextImpl } from './stepContext.js';
import type { StepHost } from './stepHost.js';
import type { Suspensions } from './suspensions.js';
import { resolvePaused } from './waiters.js';
import type { Wakeups } from './wakeups.js';

const NEVER_ABORTED = new AbortController().signal;

/**
 * The state machine of a run: created and admitted, started, its steps decided (run, skip, or
 * served from the cache) as their parents finish, paused and resumed, put to sleep while it
 * only waits (RunSleep), and finished when every step is done. Every transition is applied to memory at once,
 * written into the current batch, and acted on only after that batch commits.
 */
export class RunLifecycle implements AttemptOutcomes {
  constructor(
    private readonly store: Store,
    private readonly config: ExecutionConfig,
    private readonly runs: RunTable,
    private readonly journal: Journal,
    private readonly observer: RunObserver,
    private readonly dispatcher: Dispatcher,
    private readonly attempts: Attempts,
    private readonly ending: RunEnding,
    private readonly wakeups: Wakeups,
    private readonly suspensions: Suspensions,
    private readonly concurrency: Concurrency,
    private readonly host: StepHost,
    private readonly sleep: RunSleep,
    private readonly cluster: () => ClusterPort | undefined,
    private readonly hooks: {
      /** Hands a run's callers over to its end elsewhere (`settleToo`: `execute()` callers too). */
      handOver(run: ActiveRun, settleToo: boolean): void;
    },
    private readonly clock: Clock,
  ) {}

  /**
   * Puts a new run into memory and the current batch, and admits it (or queues it behind its
   * workflow's concurrency limit). Synchronous, so a fan-out of N spawns lands in one batch.
   * In a cluster, runs this process does not run go into the batch only, for a worker to claim.
   */
  addRun(spec: NewRunSpec): RunRecord {
    const wf = spec.plan.workflow;
    const rec = this.recordOf(spec);
    // A fork's reused steps and link go into the batch that inserts the run: one commit.
    if (spec.fork) writeForkSeed(this.journal.queue, spec.fork);
    // In a cluster, this worker runs a new run itself when it has the workflow and, for a child,
    // a free slot; the rest wait in the store for whichever worker claims them first.
    const cluster = this.cluster();
    if (cluster && (!cluster.runsLocally(wf) || (spec.parent !== null && this.dispatcher.spareCapacity <= 0))) {
      this.journal.queue.insertRun(rec, false);
      return rec;
    }
    const run = this.runs.hydrate(rec, spec.plan, spec.input, spec.globals, spec.fork?.steps ?? []);
    this.journal.queue.insertRun(rec);
    this.observer.openRunSpan(run, spec.parent?.step.span ?? spec.parent?.run.span);
    this.admit(run, spec.parent?.run);
    return rec;
  }

  /** The stored record of a new run, status queued (also what a debounce trigger stores). */
  recordOf(spec: NewRunSpec): RunRecord {
    const wf = spec.plan.workflow;
    const groupKey = this.concurrency.groupOf(wf, spec.input);
    return {
      id: spec.id,
      workflow: wf.name,
      version: wf.version,
      status: 'queued',
      input: spec.inputJson,
      output: null,
      error: null,
      globals: spec.globalsJson ?? JSON.stringify(spec.globals),
      idempotencyKey: spec.idempotencyKey,
      parentRunId: spec.parent?.run.rec.id ?? null,
      parentStep: spec.parent?.step.def.name ?? null,
      spawnKey: spec.parent?.key ?? null,
      rootRunId: spec.parent?.run.rec.rootRunId ?? spec.id,
      concurrencyKey: groupKey?.key ?? null,
      replayOf: spec.replayOf,
      createdAt: this.clock.now(),
      startedAt: null,
      finishedAt: null,
      deadlineAt: null,
      checkpointSeq: 0,
      wakeAt: null,
      pausedAt: null,
      priority: spec.priority ?? wf.options.priority ?? spec.parent?.run.rec.priority ?? 0,
    };
  }

  /** A queued run loaded from the store when its time came (a debounced run): start or queue it. */
  admitLoaded(run: ActiveRun): void {
    this.admit(run, undefined);
  }

  /** Starts the run now, or queues / cancels it per its workflow's concurrency strategy. */
  private admit(run: ActiveRun, parent: ActiveRun | undefined): void {
    const decision = this.concurrency.admit(run, parent, (r) => this.runs.get(r));
    if (decision.kind === 'start') this.startRun(run);
    else if (decision.kind === 'queue') {
      run.waitingForConcurrency = true;
      const data = JSON.stringify({ reason: 'concurrency', group: run.rec.concurrencyKey });
      this.journal.event(run, null, 'run_queued', null, data);
    } else if (decision.kind === 'cancel-self') {
      this.ending.finalize(run, 'cancelled', { error: serializeError(decision.error) });
    } else {
      const oldest = this.runs.get(decision.cancelRunId);
      if (oldest) {
        const error = new RunCancelledError(oldest.rec.id, `a newer run (${run.rec.id}) replaced it (cancel-oldest)`);
        this.ending.finalize(oldest, 'cancelled', { error: serializeError(error) });
      }
      this.startRun(run);
    }
  }

  startRun(run: ActiveRun): void {
    const now = this.clock.now();
    run.waitingForConcurrency = false;
    run.rec.wakeAt = null; // a debounced run waited for its due time as a queued row
    run.rec.status = 'running';
    run.rec.startedAt ??= now;
    const timeoutSeconds = run.plan.workflow.options.timeoutSeconds ?? this.config.timeoutSeconds;
    if (timeoutSeconds > 0 && run.rec.deadlineAt === null) run.rec.deadlineAt = now + timeoutSeconds * 1000;
    this.journal.writeRun(run);
    this.journal.event(run, null, 'run_started', null, null, now);
    this.ending.armDeadline(run);
    this.observer.runStarted(run);
    this.advance(run, now);
  }

  /** Carries on a running run loaded from the store (recovered, woken, claimed). */
  continueRun(run: ActiveRun): void {
    this.concurrency.occupy(run);
    this.ending.armDeadline(run);
    this.advance(run);
  }

  /**
   * Dispatches every step of the run whose parents are done and whose time has come; arms the
   * wake-up for those that wait; finishes the run when every step is done. Also the wake-up path:
   * a run whose wait is over is advanced.
   */
  advance(run: ActiveRun, now = this.clock.now()): void {
    if (!isActive(run) || !run.resident) return;
    this.suspensions.expire(run, now);
    // Every step that became ready is queued before any is dispatched, so a free slot goes to the
    // one of highest priority, not to the first declared.
    this.dispatcher.holdWhile(() => {
      for (const step of run.steps.values()) {
        const s = step.rec.status;
        if (s === 'pending') this.evaluate(run, step);
        else if (
          s === 'queued' &&
          !step.inQueue &&
          (step.rec.nextAttemptAt === null || step.rec.nextAttemptAt <= now)
        ) {
          this.sleep.setRunning(run);
          // A delayed first start may be served from the cache; a retry or a resumption is queued.
          if (step.rec.attempts === 0 && step.rec.nextAttemptAt !== null) this.queueStep(run, step);
          else this.dispatcher.enqueue(run, step);
        }
      }
    });
    this.sleep.refreshStatus(run);
    this.wakeups.arm(run);
    this.maybeFinish(run);
    this.sleep.sleepIfIdle(run);
  }

  /** Decides a pending step once its parents are all done: run it, skip it, or serve it from the cache. */
  private evaluate(run: ActiveRun, step: ActiveStep): void {
    if (step.rec.status !== 'pending') return;
    let chosen = 0;
    let skipped = 0;
    for (const parentName of step.def.parents) {
      const parent = run.steps.get(parentName) as ActiveStep;
      const ps = parent.rec.status;
      if (!isTerminalStep(ps)) return;
      if (ps === 'failed' || ps === 'cancelled') return; // the run is ending
      const route = ps === 'succeeded' && parent.rec.route ? fromJson<string[]>(parent.rec.route) : undefined;
      if (ps === 'skipped' || (route && !route.includes(step.def.name))) skipped++;
      else chosen++;
    }
    const hasParents = step.def.parents.length > 0;
    if (hasParents && (chosen === 0 || (step.def.requireAllParents && skipped > 0))) {
      this.skip(run, step, chosen === 0 ? 'no parent chose this step' : 'a parent was skipped');
      return;
    }
    if (step.def.when) {
      let go: boolean;
      try {
        go = step.def.when(new StepContextImpl(this.host, run, step, NEVER_ABORTED));
      } catch (error) {
        this.failed(run, step, serializeError(error));
        return;
      }
      if (!go) {
        this.skip(run, step, 'its `when` condition was false');
        return;
      }
    }
    step.rec.status = 'queued';
    const delay = step.def.delay;
    if (delay !== undefined && step.rec.attempts === 0) {
      const ms = durationMs(delay, `The delay of step "${step.def.name}"`);
      if (ms > 0) {
        // The not-before time is stored, like a retry's: it holds across restarts.
        step.rec.nextAttemptAt = this.clock.now() + ms;
        this.journal.writeStep(step);
        this.wakeups.arm(run); // the wake-up path queues the step when its time comes
        return;
      }
    }
    this.queueStep(run, step);
  }

  /**
   * A rate limit gave the step a start at `at`: it leaves the ready queue holding nothing, with `at`
   * as its not-before time (stored, like a retry's), and the run's wake-up queues it then.
   */
  postpone(run: ActiveRun, step: ActiveStep, at: number, data: string | null): void {
    step.inQueue = false;
    step.rec.nextAttemptAt = at;
    this.journal.writeStep(step);
    if (data !== null) this.journal.event(run, step.def.name, 'step_throttled', null, data);
    this.wakeups.arm(run);
  }

  /**
   * A rate limit's turn came for steps postponed behind it (see RateLimits): they are due now, and
   * the run's wake-up path queues them. A paused run keeps its place; an ended one gives it up.
   */
  wakeForTurn(run: ActiveRun, steps: readonly string[]): 'woken' | 'paused' | 'gone' {
    if (!run.resident || isTerminalRun(run.rec.status)) return 'gone';
    if (!isActive(run)) return 'paused';
    const now = this.clock.now();
    let isWaiting = false;
    for (const name of steps) {
      const step = run.steps.get(name);
      if (step?.rec.status !== 'queued') continue;
      isWaiting = true; // in the ready queue already (its fallback time came): it asks when dispatched
      if (!step.inQueue && step.rec.nextAttemptAt !== null) step.rec.nextAttemptAt = now;
    }
    if (!isWaiting) return 'gone';
    this.advance(run);
    return 'woken';
  }

  /** A step's rate limit dropped its start (it is skipped, the reason recorded), or its key function threw (it fails). */
  dropStep(run: ActiveRun, step: ActiveStep, error: Error): void {
    step.inQueue = false;
    if (error instanceof RateLimitedError) this.skip(run, step, error.message);
    else this.failed(run, step, serializeError(error));
  }

  /** A step whose time has come: served from the cache when it has an entry, else queued for a slot. */
  private queueStep(run: ActiveRun, step: ActiveStep): void {
    step.rec.nextAttemptAt = null;
    const cacheKey = step.rec.attempts === 0 ? cacheKeyOf(run, step) : undefined;
    if (cacheKey === undefined) {
      this.dispatcher.enqueue(run, step);
      return;
    }
    const token = step.token;
    this.store.getCache(cacheKey, this.clock.now()).then(
      (entry) => {
        if (step.token !== token || step.rec.status !== 'queued' || isTerminalRun(run.rec.status)) return;
        if (!entry) return this.dispatcher.enqueue(run, step);
        run.cacheHits++;
        step.rec.cacheHit = true;
        this.journal.event(run, step.def.name, 'step_cache_hit', null, JSON.stringify({ key: cacheKey }));
        this.observer.cacheHit(run, step, cacheKey);
        const { json, route } = readCacheEntry(entry);
        this.succeeded(run, step, json, route);
      },
      (error) => this.failed(run, step, serializeError(error)),
    );
  }

  private skip(run: ActiveRun, step: ActiveStep, reason: string): void {
    step.rec.status = 'skipped';
    step.rec.finishedAt = this.clock.now();
    this.journal.writeStep(step);
    this.journal.event(run, step.def.name, 'step_skipped', null, JSON.stringify({ reason }));
    this.observer.stepSkipped(run, step, reason);
    this.afterStepDone(run, step);
  }

  /** AttemptOutcomes: the step succeeded (or was served from the cache). */
  succeeded(run: ActiveRun, step: ActiveStep, json: string, route: string[] | null): void {
    const s = step.rec;
    s.status = 'succeeded';
    s.output = json;
    s.error = null;
    s.route = route ? JSON.stringify(route) : null;
    s.finishedAt = this.clock.now();
    s.startedAt ??= s.finishedAt;
    // Every reader sees the stored JSON form, as a recovered run or a cache hit does.
    step.value = fromJson(json);
    this.journal.writeStep(step);
    this.journal.event(
      run,
      step.def.name,
      'step_succeeded',
      s.attempts || null,
      s.fallbackUsed ? '{"fallback":true}' : null,
      s.finishedAt,
    );
    this.observer.stepSucceeded(run, step, json.length);
    run.completedSinceCheckpoint++;
    if (this.config.enableCheckpoints && run.completedSinceCheckpoint >= this.config.checkpointInterval) {
      this.checkpoint(run);
      this.journal.writeRun(run);
    }
    this.afterStepDone(run, step);
  }

  /** AttemptOutcomes: the step failed for good, and so does the run. */
  failed(run: ActiveRun, step: ActiveStep, error: SerializedError): void {
    this.dispatcher.release(run, step);
    const s = step.rec;
    s.status = 'failed';
    s.error = JSON.stringify(error);
    s.finishedAt = this.clock.now();
    this.journal.writeStep(step);
    this.journal.event(run, step.def.name, 'step_failed', s.attempts || null, JSON.stringify({ error, final: true }));
    this.ending.finalize(run, 'failed', { error: stepFailure(run.rec.id, step.def.name, error) });
  }

  /** AttemptOutcomes: the step waits for its retry. */
  retryScheduled(run: ActiveRun, _step: ActiveStep): void {
    if (isActive(run)) this.advance(run);
    // A paused run waits for its running steps; this one now waits for `resume` instead.
    else this.maybeSettlePaused(run);
    this.dispatcher.pump();
  }

  /** A step reached a final state: decide its children, then see if the run is done. */
  private afterStepDone(run: ActiveRun, step: ActiveStep): void {
    if (isActive(run)) {
      // All children are queued before any is dispatched: the slot goes by priority (see advance).
      this.dispatcher.holdWhile(() => {
        for (const child of run.plan.children.get(step.def.name) ?? []) {
          this.evaluate(run, run.steps.get(child) as ActiveStep);
        }
      });
    }
    this.maybeFinish(run);
    this.maybeSettlePaused(run);
    this.sleep.sleepIfIdle(run);
    this.dispatcher.pump();
  }

  private maybeFinish(run: ActiveRun): void {
    if (!isActive(run)) return;
    for (const step of run.steps.values()) if (!isTerminalStep(step.rec.status)) return;
    const sinks = run.plan.sinks.map((n) => run.steps.get(n) as ActiveStep).filter((s) => s.rec.status === 'succeeded');
    // One sink: the run's output is that step's, whose stored JSON is at hand (no second walk and
    // serialisation of the same value).
    const only = sinks.length === 1 ? sinks[0] : undefined;
    if (only) {
      this.ending.finalize(run, 'succeeded', { output: only.value, outputJson: only.rec.output ?? undefined });
      return;
    }
    const output = Object.fromEntries(sinks.map((s) => [s.def.name, s.value]));
    this.ending.finalize(run, 'succeeded', { output });
  }

  // ---------------------------------------------------------------------------------------------
  // Pause and resume

  applyPause(run: ActiveRun): void {
    run.rec.status = 'paused';
    run.rec.wakeAt = null; // a paused run is not asleep: only `resume` wakes it
    // Time spent paused does not count against the run's deadline: resume moves it on by as much.
    run.rec.pausedAt ??= this.clock.now(); // already set if the run was waiting with its deadline stopped
    this.ending.disarmDeadline(run);
    this.wakeups.disarm(run);
    this.checkpoint(run, true);
    this.journal.writeRun(run);
    this.journal.event(run, null, 'run_paused', null, null);
    this.observer.runPaused(run);
    this.maybeSettlePaused(run);
  }

  applyResume(run: ActiveRun): void {
    const rec = run.rec;
    if (rec.pausedAt !== null && rec.deadlineAt !== null)
      rec.deadlineAt += Math.max(0, this.clock.now() - rec.pausedAt);
    rec.pausedAt = null;
    // A run paused while it waited for its maxRuns slot and loaded from the store since (a restart)
    // has lost that mark, but it never started: it still needs a slot (the simulation's seed 287).
    if (rec.startedAt === null && rec.concurrencyKey !== null) run.waitingForConcurrency = true;
    rec.status = run.waitingForConcurrency ? 'queued' : 'running';
    this.journal.writeRun(run);
    this.journal.event(run, null, 'run_resumed', null, null);
    if (run.waitingForConcurrency) {
      if (!this.concurrency.isQueued(run)) this.concurrency.requeue(run);
      // Its turn may have come and gone while it was paused (release passes over paused runs).
      for (const next of this.concurrency.startable()) this.startRun(next);
    } else {
      this.continueRun(run);
      this.dispatcher.pump();
    }
  }

  /** A paused run whose running steps have all finished: `execute()` callers get the paused result. */
  maybeSettlePaused(run: ActiveRun): void {
    if (run.rec.status !== 'paused' || run.running > 0) return;
    this.journal.afterCommit(() => {
      if (run.rec.status !== 'paused' || run.running > 0 || !run.resident) return;
      if (run.waiters.settle.length) resolvePaused(run.waiters, this.ending.resultOf(run));
      // In a cluster a paused run is nobody's: `resume`, from any process, makes it claimable again.
      if (this.cluster()) this.handBackPaused(run);
    });
  }

  /** In a cluster: a paused run goes back to the store, its `result()` callers wait on for its end. */
  handBackPaused(run: ActiveRun): void {
    if (!run.resident) return;
    this.ending.forget(run);
    this.hooks.handOver(run, false);
    this.cluster()?.handBack([run.rec.id]);
  }

  /** Stores the run's global variables (periodically with enableCheckpoints; always at a pause). */
  private checkpoint(run: ActiveRun, always = false): void {
    if (!this.config.enableCheckpoints && !always) return;
    run.rec.globals = JSON.stringify(run.globals);
    run.rec.checkpointSeq += run.completedSinceCheckpoint;
    run.completedSinceCheckpoint = 0;
  }
}
