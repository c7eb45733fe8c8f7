import {
  ForkVersionMismatchError,
  InvalidForkOutputsError,
  RunNotEndedError,
  UnknownForkStepError,
} from '../model/errors.js';
import { toJson } from '../model/json.js';
import { isTerminalRun, type RunRecord, type StepRecord } from '../store/types.js';
import type { Clock } from './clock.js';
import type { ForkSeed, WorkflowPlan } from './runState.js';
import type { WriteQueue } from './writeQueue.js';

/** What `executor.fork(runId, options)` takes. */
export interface ForkOptions {
  /** The step to fork from: it and every step downstream of it run again in the new run. */
  from: string;
  /** The new run's input, in place of the original's (checked against the workflow's schema). */
  input?: unknown;
  /**
   * Outputs to use in place of the original's, by step: only steps the fork reuses (upstream of
   * `from`, or beside it). A step given here counts as succeeded with this output.
   */
  outputs?: Record<string, unknown>;
  /**
   * The workflow version the fork must run. An executor holds one version per workflow: a version
   * other than the registered one is refused (ForkVersionMismatchError). Left out: the registered one.
   */
  version?: string;
}

/**
 * Checks a fork request against the original run and decides what the fork reuses; returns how to
 * build its rows once the new run has an id. Throws, before anything is written, when the run has
 * not ended, the step is unknown, an output names an unknown step or one that runs again, or the
 * version is not the registered one.
 *
 * Reused: every step not downstream of `from` (nor `from` itself) that succeeded or was skipped in
 * the original, with its output and its routing decision, so a branch the original skipped stays
 * skipped. A step not downstream that had not finished (the original failed or was cancelled
 * before it ended) runs in the fork, as every step downstream of `from` does.
 */
export function planFork(
  plan: WorkflowPlan,
  original: RunRecord,
  stored: readonly StepRecord[],
  options: ForkOptions,
  clock: Clock,
): (runId: string) => ForkSeed {
  const wf = plan.workflow;
  if (!isTerminalRun(original.status)) throw new RunNotEndedError(original.id, original.status);
  if (options.version !== undefined && options.version !== wf.version) {
    throw new ForkVersionMismatchError(original.id, wf.name, options.version, wf.version);
  }
  const from = options.from;
  if (!plan.children.has(from)) {
    throw new UnknownForkStepError(
      original.id,
      wf.name,
      from,
      wf.steps.map((s) => s.name),
    );
  }
  const again = downstreamOf(plan, from);
  const overrides = new Map<string, string>();
  for (const [name, value] of Object.entries(options.outputs ?? {})) {
    if (!plan.children.has(name)) throw new InvalidForkOutputsError(original.id, name, 'unknown_step', from);
    if (again.has(name)) throw new InvalidForkOutputsError(original.id, name, 'runs_again', from);
    overrides.set(name, toJson(value, `The output given for step "${name}" of the fork of run "${original.id}"`));
  }
  const byName = new Map(stored.map((s) => [s.name, s]));
  const reused: Array<{ name: string; from: StepRecord | undefined; output: string | undefined }> = [];
  for (const def of wf.steps) {
    if (again.has(def.name)) continue;
    const prior = byName.get(def.name);
    const output = overrides.get(def.name);
    if (output !== undefined || prior?.status === 'succeeded' || prior?.status === 'skipped') {
      reused.push({ name: def.name, from: prior, output });
    }
  }
  return (runId) => {
    const now = clock.now();
    const steps = reused.map(({ name, from: prior, output }): StepRecord => {
      const given = output !== undefined;
      return {
        runId,
        name,
        status: given ? 'succeeded' : (prior?.status ?? 'succeeded'),
        // Never executed here: no attempt, no start time (it is not in the run's execution order).
        attempts: 0,
        output: given ? output : (prior?.output ?? null),
        error: null,
        startedAt: null,
        finishedAt: now,
        nextAttemptAt: null,
        // The original's routing decision stands, with a given output too: it was not run again.
        route: prior?.status === 'succeeded' ? prior.route : null,
        cacheHit: false,
        fallbackUsed: !given && (prior?.fallbackUsed ?? false),
      };
    });
    return {
      steps,
      record: {
        runId,
        forkedFrom: original.id,
        fromStep: from,
        reusedSteps: steps.map((s) => s.name),
        overriddenSteps: [...overrides.keys()],
        createdAt: now,
      },
    };
  };
}

/** `from` and every step that depends on it, directly or not. */
export function downstreamOf(plan: WorkflowPlan, from: string): Set<string> {
  const seen = new Set<string>([from]);
  const todo = [from];
  for (let name = todo.pop(); name !== undefined; name = todo.pop()) {
    for (const child of plan.children.get(name) ?? []) {
      if (!seen.has(child)) {
        seen.add(child);
        todo.push(child);
      }
    }
  }
  return seen;
}

/**
 * Puts a fork's rows into the batch that inserts its run (the caller does so in the same tick):
 * its reused steps, a `step_reused` event for each, and its link. One commit: whole or nothing.
 */
export function writeForkSeed(queue: WriteQueue, seed: ForkSeed): void {
  const { record } = seed;
  for (const step of seed.steps) {
    queue.writeStep(step);
    const overridden = record.overriddenSteps.includes(step.name);
    queue.appendEvent({
      runId: record.runId,
      step: step.name,
      type: 'step_reused',
      at: record.createdAt,
      attempt: null,
      data: JSON.stringify({ from: record.forkedFrom, ...(overridden ? { overridden: true } : {}) }),
    });
  }
  queue.insertFork(record);
}
