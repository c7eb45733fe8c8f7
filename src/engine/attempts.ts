import { isRouteDecision } from '../model/context.js';
import {
  InvalidRouteError,
  NonRetryableError,
  NotSerializableError,
  RunCancelledError,
  type SerializedError,
  StepTimeoutError,
  serializeError,
} from '../model/errors.js';
import { toJson } from '../model/json.js';
import type { StepDefinition } from '../model/workflow.js';
import type { Store } from '../store/store.js';
import { retryDelayMs } from './backoff.js';
import type { ChildRegistry } from './children.js';
import type { Clock } from './clock.js';
import type { ExecutionConfig } from './config.js';
import type { Dispatcher } from './dispatcher.js';
import { type Journal, newToken } from './journal.js';
import type { RunObserver } from './observer.js';
import { TIMER_RESOLUTION_MS } from './rateLimits.js';
import { type ActiveRun, type ActiveStep, isCurrentAttempt } from './runState.js';
import type { RunTable } from './runTable.js';
import { cacheEntryOf, cacheKeyOf } from './stepCache.js';
import { StepContextImpl } from './stepContext.js';
import type { StepHost } from './stepHost.js';
import type { Suspensions } from './suspensions.js';
import type { TimerQueue } from './timers.js';

/** Where an attempt's outcome goes: the run's lifecycle (src/engine/lifecycle.ts). */
export interface AttemptOutcomes {
  /** The step succeeded with `json` (its stored output) and, for a routing step, its route. */
  succeeded(run: ActiveRun, step: ActiveStep, json: string, route: string[] | null): void;
  /** The step failed for good (no retry left, no fallback, or the fallback failed). */
  failed(run: ActiveRun, step: ActiveStep, error: SerializedError): void;
  /** The step goes back to the queue until `rec.nextAttemptAt`. */
  retryScheduled(run: ActiveRun, step: ActiveStep): void;
}

/**
 * One attempt of a step, from its slot to its outcome: the start is recorded, its function runs
 * once that record is durable, and its result, error or timeout is turned into a success, a retry
 * with backoff, a fallback, or a failure. Everything late is fenced by the attempt's token.
 */
export class Attempts {
  constructor(
    private readonly store: Store,
    private readonly config: ExecutionConfig,
    private readonly runs: RunTable,
    private readonly journal: Journal,
    private readonly observer: RunObserver,
    private readonly dispatcher: Dispatcher,
    private readonly timers: TimerQueue,
    private readonly host: StepHost,
    private readonly suspensions: Suspensions,
    private readonly outcomes: () => AttemptOutcomes,
    private readonly clock: Clock,
  ) {}

  /**
   * A step the dispatcher has just given its slot: a suspended wait call goes on, a step whose wait
   * is over runs its function again (the same attempt), and any other step starts a new attempt.
   */
  start(run: ActiveRun, step: ActiveStep): void {
    const settledHere = step.settledHere;
    step.settledHere = false;
    if (step.continuations.size > 0) {
      step.rec.status = 'running';
      this.journal.writeStep(step);
      this.rearmTimeout(run, step);
      this.suspensions.resumeContinuations(step);
      return;
    }
    if (step.resuming) {
      step.resuming = false;
      step.rec.status = 'running';
      step.token = newToken();
      const token = step.token;
      this.journal.writeStep(step);
      const goOn = () => {
        if (!isCurrentAttempt(step, token)) return;
        this.rearmTimeout(run, step);
        if (step.children && !step.children.loaded) this.loadChildren(run, step, token, step.children);
        else this.invoke(run, step, token);
      };
      // Waits the store settled, and sleeps, are final: the step goes on at once (and its end rides
      // in the same commit: one write per woken sleeper, not two; one round trip less per event on
      // PostgreSQL). A timeout settled here may still lose to an event the store settled first
      // (CommitResult.settledWaits): that step goes on once the commit has said which won.
      if (settledHere) this.journal.afterCommit(goOn);
      else goOn();
      return;
    }
    const now = this.clock.now();
    const s = step.rec;
    s.status = 'running';
    s.attempts++;
    s.nextAttemptAt = null;
    if (s.startedAt === null) {
      s.startedAt = now;
      run.startOrder.push(step.def.name);
    }
    step.token = newToken();
    const token = step.token;
    this.journal.writeStep(step);
    this.journal.event(run, step.def.name, 'step_started', s.attempts, null, now);
    // A rate limit's start time (see RateLimits): the step was dispatched a little ahead of it so its
    // start commit is out of the way, and its function runs at that time, not before.
    const notBefore = step.notBefore;
    step.notBefore = undefined;
    const begin = () => {
      if (!isCurrentAttempt(step, token)) return;
      this.observer.attemptStarting(run, step);
      this.rearmTimeout(run, step);
      if (step.children && !step.children.loaded) this.loadChildren(run, step, token, step.children);
      else this.invoke(run, step, token);
    };
    // Durable before visible: the function runs once its start is committed.
    this.journal.afterCommit(() => {
      if (notBefore !== undefined && notBefore - this.clock.now() >= TIMER_RESOLUTION_MS)
        this.timers.schedule(notBefore, begin);
      else begin();
    });
  }

  /**
   * Arms the attempt's timeout. Time spent in a durable wait does not count: the timeout stops when
   * the step suspends (suspendTimeout) and starts again, in full, when it goes on.
   */
  private rearmTimeout(run: ActiveRun, step: ActiveStep): void {
    const timeoutSeconds = step.def.timeoutSeconds;
    if (timeoutSeconds === undefined || timeoutSeconds <= 0 || step.timeoutTimer !== undefined) return;
    const token = step.token;
    this.armTimeout(step, token, timeoutSeconds, step.def.name, (error) => this.failed(run, step, token, error));
  }

  /** The step suspends on a durable wait: its attempt timeout stops meanwhile. */
  suspendTimeout(step: ActiveStep): void {
    this.cancelTimeout(step);
  }

  /**
   * Stops the step's current attempt, if one runs: its token changes (so whatever it does late is
   * ignored), its signal fires with `reason`, its joins end, its timeout and span close.
   */
  stop(step: ActiveStep, reason: unknown): void {
    if (!isCurrentAttempt(step, step.token)) return;
    step.token = newToken();
    // Its pending waits stay as they are in the store: the run goes on from them (after a restart,
    // on another worker, or in a retry); only its suspended calls end.
    this.suspensions.dropContinuations(step, () => reason);
    this.cancelTimeout(step);
    step.controller?.abort(reason);
    step.children?.abortJoins(reason);
    this.observer.stepStopped(step);
  }

  cancelTimeout(step: ActiveStep): void {
    this.timers.cancel(step.timeoutTimer);
    step.timeoutTimer = undefined;
  }

  /** Before a re-run, reads the children an earlier attempt spawned, so spawns find them. */
  private loadChildren(run: ActiveRun, step: ActiveStep, token: number, registry: ChildRegistry): void {
    this.store.getChildLinks(run.rec.id, step.def.name).then(
      (links) => {
        registry.attach(links, (runId) => this.runs.get(runId)?.rec);
        if (isCurrentAttempt(step, token)) this.invoke(run, step, token);
      },
      (error) => this.failed(run, step, token, error),
    );
  }

  private invoke(run: ActiveRun, step: ActiveStep, token: number): void {
    step.controller = undefined; // created on first use of ctx.signal: most steps never read it
    step.children?.resetOrdinals();
    const ctx = new StepContextImpl(this.host, run, step, undefined);
    settle(
      () => step.def.run(ctx),
      (value) => this.succeeded(run, step, token, value),
      (error) => this.failed(run, step, token, error),
    );
  }

  private succeeded(run: ActiveRun, step: ActiveStep, token: number, out: unknown): void {
    if (!isCurrentAttempt(step, token)) return;
    const routed = routeOf(run, step, out);
    if (routed instanceof InvalidRouteError) {
      this.failed(run, step, token, routed, true);
      return;
    }
    const { value, route } = routed;
    let json: string;
    try {
      json = toJson(value, `The output of step "${step.def.name}" (workflow "${run.rec.workflow}")`);
    } catch (error) {
      this.failed(run, step, token, error, true);
      return;
    }
    const key = cacheKeyOf(run, step);
    if (key !== undefined) this.journal.queue.putCache(cacheEntryOf(run, step, key, json, route, this.clock.now()));
    this.finish(run, step);
    this.outcomes().succeeded(run, step, json, route);
  }

  /** An attempt failed: retry it after a backoff, run the fallback, or fail the step. */
  private failed(run: ActiveRun, step: ActiveStep, token: number, error: unknown, permanent = false): void {
    if (!isCurrentAttempt(step, token)) return;
    step.token = newToken(); // a late settle of this attempt is ignored from now on
    this.cancelTimeout(step);
    step.children?.abortJoins(error);
    // A retry waits on what this attempt waited for: its pending waits stay; its calls end.
    this.suspensions.dropContinuations(step, () => error);
    const serialized = serializeError(error);
    const s = step.rec;
    const used = s.attempts - step.interrupted;
    const retryable = !permanent && !isNonRetryable(error) && used <= this.retriesFor(run, step);
    this.observer.attemptFailed(run, step, serialized, retryable);
    if (retryable) {
      this.dispatcher.release(run, step);
      const delayMs = retryDelayMs(used, step.def.backoff ?? run.plan.workflow.options.backoff);
      s.status = 'queued';
      s.error = JSON.stringify(serialized);
      s.nextAttemptAt = this.clock.now() + delayMs;
      run.retries++;
      this.journal.writeStep(step);
      this.journal.event(
        run,
        step.def.name,
        'step_retrying',
        s.attempts,
        JSON.stringify({ delayMs, error: serialized }),
      );
      this.observer.stepRetrying(run, step, delayMs, serialized);
      this.outcomes().retryScheduled(run, step);
      return;
    }
    if (step.def.fallback) {
      this.runFallback(run, step, serialized);
      return;
    }
    this.finish(run, step);
    this.outcomes().failed(run, step, serialized);
  }

  /** The attempts are exhausted: the fallback's value, if it gives one, becomes the step's output. */
  private runFallback(run: ActiveRun, step: ActiveStep, error: SerializedError): void {
    const token = newToken();
    step.token = token;
    const spec = step.def.fallback as NonNullable<StepDefinition['fallback']>;
    const fallback = typeof spec === 'function' ? spec : spec.run;
    const name = typeof spec === 'function' ? undefined : spec.name;
    const timeoutSeconds = typeof spec === 'function' ? undefined : spec.timeoutSeconds;
    // A signal of its own: the primary's may already have fired (its timeout), and cancelling the
    // run must still reach the fallback.
    step.controller = undefined;
    const ctx = new StepContextImpl(this.host, run, step, undefined);
    const done = (out: unknown) => {
      if (!isCurrentAttempt(step, token)) return;
      // A fallback of a routing step chooses the children as the step would have.
      const routed = routeOf(run, step, out);
      if (routed instanceof InvalidRouteError) return fail(routed);
      const { value, route } = routed;
      let json: string;
      try {
        json = toJson(value, `The fallback output of step "${step.def.name}" (workflow "${run.rec.workflow}")`);
      } catch (e) {
        return fail(e);
      }
      step.rec.fallbackUsed = true;
      this.journal.event(
        run,
        step.def.name,
        'step_fallback',
        step.rec.attempts,
        JSON.stringify({ fallback: name, error }),
      );
      this.finish(run, step);
      this.outcomes().succeeded(run, step, json, route);
    };
    const fail = (e: unknown) => {
      if (!isCurrentAttempt(step, token)) return;
      const s = serializeError(e);
      const label = name ? `fallback "${name}"` : 'fallback';
      this.finish(run, step);
      this.outcomes().failed(run, step, { ...s, message: `${label} failed: ${s.message}`, cause: error });
    };
    if (timeoutSeconds !== undefined && timeoutSeconds > 0)
      this.armTimeout(step, token, timeoutSeconds, name ?? step.def.name, fail);
    settle(() => fallback(ctx, error), done, fail);
  }

  /** The attempt is over: no timeout, no slot, no wait of it left pending. */
  private finish(run: ActiveRun, step: ActiveStep): void {
    this.cancelTimeout(step);
    this.dispatcher.release(run, step);
    this.suspensions.abandon(step, () => new RunCancelledError(run.rec.id, `step "${step.def.name}" has ended`));
  }

  private armTimeout(
    step: ActiveStep,
    token: number,
    timeoutSeconds: number,
    label: string,
    fail: (error: StepTimeoutError) => void,
  ): void {
    step.timeoutTimer = this.timers.schedule(this.clock.now() + timeoutSeconds * 1000, () => {
      step.timeoutTimer = undefined;
      if (!isCurrentAttempt(step, token)) return;
      const error = new StepTimeoutError(label, timeoutSeconds);
      step.controller?.abort(error);
      fail(error);
    });
  }

  private retriesFor(run: ActiveRun, step: ActiveStep): number {
    return (
      step.def.retries ??
      run.plan.workflow.options.retries ??
      (this.config.retryFailedNodes ? this.config.maxRetries : 0)
    );
  }
}

/**
 * Calls a user function and routes its outcome, whether it returns, returns a promise, or throws
 * (a synchronous throw must not escape into the engine: it would leave the step running).
 */
function settle(fn: () => unknown, done: (value: unknown) => void, fail: (error: unknown) => void): void {
  let out: unknown;
  try {
    out = fn();
  } catch (error) {
    fail(error);
    return;
  }
  let then: unknown;
  try {
    then = out && (out as Promise<unknown>).then;
  } catch {
    // A value that cannot even be read (a revoked Proxy) is no promise: storing it fails it, clearly.
    then = undefined;
  }
  if (typeof then !== 'function') {
    done(out);
    return;
  }
  try {
    then.call(out, done, fail);
  } catch (error) {
    fail(error); // a thenable whose `then` throws
  }
}

function isNonRetryable(error: unknown): boolean {
  // Reading a thrown value may itself throw (a revoked Proxy): then it is an ordinary failure.
  try {
    for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
      if (e instanceof NonRetryableError || e instanceof NotSerializableError) return true;
    }
  } catch {}
  return false;
}

/**
 * A step's (or its fallback's) return value: the output, and the children it chose if it routed.
 * A step that declares `routes` may only choose among them; any step only among its children.
 */
function routeOf(
  run: ActiveRun,
  step: ActiveStep,
  out: unknown,
): { value: unknown; route: string[] | null } | InvalidRouteError {
  if (!isRouteDecision(out)) return { value: out, route: null };
  const children = step.def.routes ?? run.plan.children.get(step.def.name) ?? [];
  const bad = out.targets.find((t) => !children.includes(t));
  if (bad !== undefined) return new InvalidRouteError(run.rec.workflow, step.def.name, bad, children);
  return { value: out.value, route: [...out.targets] };
}
