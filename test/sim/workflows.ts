import { type StepContext, type Workflow, workflow } from '../../src/index.js';
import {
  CHILD_WORKFLOW,
  childInput,
  childOutput,
  POOL,
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
}

/**
 * The workload's workflows, built for one simulated process: their step functions report to that
 * process's hooks, so the work of a process that has died can be told apart from the living.
 */
export function buildWorkflows(load: Workload, hooks: ExecutionHooks): Array<Workflow<any, any, any>> {
  const child = workflow(CHILD_WORKFLOW).step('c', async (ctx) => {
    const token = hooks.started(ctx.runId, 'c', ctx.attempt, false, ctx.signal);
    try {
      await hooks.workTurns();
      return childOutput(ctx.input as number);
    } finally {
      hooks.ended(token);
    }
  });
  return [child, ...load.workflows.map((spec) => buildWorkflow(spec, child, hooks))];
}

function buildWorkflow(
  spec: WorkflowSpec,
  child: Workflow<any, any, any>,
  hooks: ExecutionHooks,
): Workflow<any, any, any> {
  let wf: Workflow<any, any, any> = workflow(spec.name);
  for (const step of spec.steps) {
    wf = wf.step(
      step.name,
      {
        parents: step.parents,
        retries: step.retries,
        backoff: { initialMs: 5, factor: 2, jitter: 0 },
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
        const token = hooks.started(ctx.runId, step.name, ctx.attempt, step.pool, ctx.signal);
        try {
          await hooks.workTurns();
          if (ctx.attempt <= step.failFirst) throw new Error(`planned failure of attempt ${ctx.attempt}`);
          const input = ctx.input as number;
          let children: number[] = [];
          if (step.spawn > 0) {
            const handles = Array.from({ length: step.spawn }, (_, i) =>
              ctx.spawnWorkflow(child, childInput(step, input, i), { key: `c${i}` }),
            );
            hooks.suspended(token);
            children = (await ctx.join(handles)) as number[];
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

function parentValues(ctx: StepContext<any, any>, step: StepSpec): number[] {
  return step.parents.map((p) => ctx.parent(p)).filter((v): v is number => typeof v === 'number');
}

/** A router's output goes to one of its two children, chosen by the value's parity (a fallback's too). */
function routed(ctx: StepContext<any, any>, step: StepSpec, value: number): unknown {
  return step.routes ? ctx.route(step.routes[value % 2] as string, value) : value;
}
