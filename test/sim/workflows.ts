import { type ChildHandle, NonRetryableError, type StepContext, type Workflow, workflow } from '../../src/index.js';
import {
  CHILD_WORKFLOW,
  childInput,
  childOutput,
  POOL,
  parityKey,
  RATE_LIMIT,
  SIGNAL,
  type StepSpec,
  signalKey,
  stepValue,
  type WorkflowSpec,
  type Workload,
} from './workload.js';

/** What a simulated process's steps report to the simulation while they execute. */
export interface ExecutionHooks {
  /** A step attempt begins; returns a token for `ended`. */
  /** `signal`: the attempt's; once the engine stops it, its slot is free (the README's contract). */
  started(runId: string, step: string, attempt: number, pool: boolean, signal: AbortSignal): number;
  ended(token: number): void;
  /** The attempt waits in a join: it has given its execution slot (and pool unit) back. */
  suspended(token: number): void;
  /** The join is done and the attempt holds a slot again. */
  resumed(token: number): void;
  /** How long (in event-loop turns) this attempt's work takes: drawn from the timing stream. */
  workTurns(): Promise<void>;
  /** A step under the rate limit begins an attempt (its function runs now): for the limit's check. */
  rateLimitedStart(runId: string, step: string, attempt: number, key: string): void;
  /** A join's result broke its policy (a count or an output that is not what the children gave). */
  joinBroken(runId: string, step: string, message: string): void;
}

/**
 * The workload's workflows, built for one simulated process: their step functions report to that
 * process's hooks, so the work of a process that has died can be told apart from the living.
 */
/**
 * `looseBy` (a planted bug, to show the limit checks catch it): the engine is given limits this much
 * looser than the workload says (maxRuns, the rate limit), while the checks keep the workload's.
 */
export function buildWorkflows(load: Workload, hooks: ExecutionHooks, looseBy = 0): Array<Workflow<any, any, any>> {
  const child = workflow(CHILD_WORKFLOW).step('c', async (ctx) => {
    const token = hooks.started(ctx.runId, 'c', ctx.attempt, false, ctx.signal);
    try {
      await hooks.workTurns();
      const input = ctx.input as number;
      if (input < 0) throw new NonRetryableError(`planned failure of child input ${input}`);
      return childOutput(input);
    } finally {
      hooks.ended(token);
    }
  });
  return [child, ...load.workflows.map((spec) => buildWorkflow(spec, child, hooks, looseBy))];
}

function buildWorkflow(
  spec: WorkflowSpec,
  child: Workflow<any, any, any>,
  hooks: ExecutionHooks,
  looseBy: number,
): Workflow<any, any, any> {
  let wf: Workflow<any, any, any> = workflow(spec.name, {
    ...(spec.maxRuns === undefined ? {} : { maxRuns: spec.maxRuns + looseBy }),
    ...(spec.keyed ? { concurrencyKey: (input: number) => parityKey(input) } : {}),
  });
  for (const step of spec.steps) {
    wf = wf.step(
      step.name,
      {
        parents: step.parents,
        retries: step.retries,
        backoff: { initialMs: 5, factor: 2, jitter: 0 },
        ...(step.timeoutSeconds === undefined ? {} : { timeoutSeconds: step.timeoutSeconds }),
        ...(step.cache ? { cache: true } : {}),
        ...(step.rateLimited
          ? {
              rateLimit: {
                name: RATE_LIMIT.name,
                limit: RATE_LIMIT.limit + looseBy,
                period: RATE_LIMIT.periodMs,
                key: (input: number) => parityKey(input),
              },
            }
          : {}),
        ...(step.pool ? { pool: POOL } : {}),
        ...(step.routes ? { routes: step.routes } : {}),
        ...(step.fallback
          ? {
              fallback: (ctx: StepContext<any, any>) =>
                routed(ctx, step, stepValue(step, ctx.input as number, parentValues(ctx, step), [])),
            }
          : {}),
      },
      async (ctx: StepContext<any, any>) => {
        const input = ctx.input as number;
        if (step.rateLimited) hooks.rateLimitedStart(ctx.runId, step.name, ctx.attempt, parityKey(input));
        const token = hooks.started(ctx.runId, step.name, ctx.attempt, step.pool, ctx.signal);
        try {
          await hooks.workTurns();
          if (ctx.attempt <= step.failFirst) {
            if (step.failBy === 'hang') await aborted(ctx.signal); // until the step's timeout stops it
            throw new Error(`planned failure of attempt ${ctx.attempt}`);
          }
          if (step.sleepMs > 0) {
            hooks.suspended(token); // a sleeping step holds no slot and no pool unit
            await ctx.sleep(step.sleepMs);
            hooks.resumed(token);
          }
          let children: number[] = [];
          if (step.spawn > 0) {
            const handles = Array.from({ length: step.spawn }, (_, i) =>
              ctx.spawnWorkflow(child, childInput(step, input, i), { key: `c${i}` }),
            );
            hooks.suspended(token);
            children = await joined(ctx, step, handles, (message) => hooks.joinBroken(ctx.runId, step.name, message));
            hooks.resumed(token);
          }
          let signal: number | undefined;
          if (step.awaitsEvent) {
            hooks.suspended(token); // a waiting step holds no slot and no pool unit
            signal = (await ctx.waitForEvent<number>(SIGNAL, { match: signalKey(input) })) ?? undefined;
            hooks.resumed(token);
          }
          const value = stepValue(step, input, parentValues(ctx, step), children, signal);
          return routed(ctx, step, value);
        } finally {
          hooks.ended(token);
        }
      },
    );
  }
  return wf;
}

/** Waits until the signal fires (never, if nothing stops the attempt). */
function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/**
 * Joins a step's children by its policy and returns what the oracle (`joinedValues`) expects: each
 * output (-1 for a failed child) under 'all' and 'settled', the number counted under a quorum, whose
 * result is checked here too (each counted output is its child's, failures are the doomed ones).
 */
async function joined(
  ctx: StepContext<any, any>,
  step: StepSpec,
  handles: Array<ChildHandle<unknown>>,
  broken: (message: string) => void,
): Promise<number[]> {
  const input = ctx.input as number;
  if (step.join === 'all') return (await ctx.join(handles)) as number[];
  if (step.join === 'settled') {
    const outcomes = await ctx.joinSettled(handles);
    return outcomes.map((o) => (o.status === 'succeeded' ? (o.output as number) : -1));
  }
  const needed = step.join === 'any' ? 1 : step.join.atLeast;
  const result = await ctx.join(handles, { policy: step.join });
  if (result.counted.length !== needed) broken(`counted ${result.counted.length} children, the policy needs ${needed}`);
  for (const c of result.counted) {
    const want = childInput(step, input, c.index);
    if (want < 0 || c.output !== childOutput(want)) broken(`counted child ${c.index} with output ${c.output}`);
  }
  for (const f of result.failed) {
    if (!step.doomed.includes(f.index)) broken(`reports child ${f.index} failed, which cannot fail`);
  }
  return [result.counted.length];
}

function parentValues(ctx: StepContext<any, any>, step: StepSpec): number[] {
  return step.parents.map((p) => ctx.parent(p)).filter((v): v is number => typeof v === 'number');
}

/** A router's output goes to one of its two children, chosen by the value's parity (a fallback's too). */
function routed(ctx: StepContext<any, any>, step: StepSpec, value: number): unknown {
  return step.routes ? ctx.route(step.routes[value % 2] as string, value) : value;
}
