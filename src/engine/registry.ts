import {
  DuplicateWorkflowError,
  InvalidWorkflowError,
  UnknownPoolError,
  WorkflowNotRegisteredError,
} from '../model/errors.js';
import type { Workflow } from '../model/workflow.js';
import type { ClaimableWorkflow } from '../store/coordination.js';
import type { WorkflowPlan } from './runState.js';

/**
 * The workflows an engine can run, each checked once and planned once (children and sinks of
 * every step). A name has one definition per engine: a second, different definition under the
 * same name is refused rather than silently ignored. "Different" is judged by the definition's
 * text (steps, parents, options and the source of its functions), so the same definition built
 * twice (a factory, a module loaded twice) is one workflow.
 */
export class WorkflowRegistry {
  private readonly plans = new Map<string, WorkflowPlan>();

  constructor(
    private readonly pools: Readonly<Record<string, number>>,
    /** False in a process that only starts runs (in a cluster): it needs no pools, workers do. */
    private readonly runsSteps: () => boolean,
  ) {}

  register(workflow: Workflow<any, any, any>): WorkflowPlan {
    const known = this.plans.get(workflow.name);
    if (known) {
      if (known.workflow === workflow || fingerprintOf(known.workflow) === fingerprintOf(workflow)) return known;
      if (known.workflow.version !== workflow.version) {
        throw new InvalidWorkflowError(
          workflow.name,
          undefined,
          `version "${workflow.version}" cannot be registered next to version "${known.workflow.version}" in one executor. ` +
            'Run each version on its own worker.',
        );
      }
      throw new DuplicateWorkflowError(workflow.name, workflow.version, stepNames(known.workflow), stepNames(workflow));
    }
    workflow.validate();
    if (this.runsSteps()) {
      for (const step of workflow.steps) {
        if (step.pool !== undefined && this.pools[step.pool] === undefined) {
          throw new UnknownPoolError(workflow.name, step.name, step.pool);
        }
      }
    }
    const children = new Map<string, string[]>(workflow.steps.map((s) => [s.name, []]));
    for (const s of workflow.steps) for (const p of s.parents) children.get(p)?.push(s.name);
    const plan: WorkflowPlan = {
      workflow,
      children,
      roots: workflow.steps.filter((s) => s.parents.length === 0).map((s) => s.name),
      sinks: workflow.steps.filter((s) => (children.get(s.name) ?? []).length === 0).map((s) => s.name),
    };
    this.plans.set(workflow.name, plan);
    return plan;
  }

  planFor(name: string): WorkflowPlan {
    const plan = this.plans.get(name);
    if (!plan) throw new WorkflowNotRegisteredError(name, this.names());
    return plan;
  }

  find(name: string): WorkflowPlan | undefined {
    return this.plans.get(name);
  }

  /** The steps of a registered workflow, in the order it declares them (undefined if not registered). */
  stepOrder(name: string): string[] | undefined {
    return this.plans.get(name)?.workflow.steps.map((s) => s.name);
  }

  has(name: string): boolean {
    return this.plans.has(name);
  }

  names(): string[] {
    return [...this.plans.keys()];
  }

  workflows(): Array<Workflow<any, any, any>> {
    return [...this.plans.values()].map((p) => p.workflow);
  }

  /** What a worker claims: every registered workflow with its version and run limits. */
  claimable(): ClaimableWorkflow[] {
    return this.workflows().map((workflow) => ({
      name: workflow.name,
      version: workflow.version,
      ...(workflow.options.maxRuns !== undefined ? { maxRuns: workflow.options.maxRuns } : {}),
      ...(workflow.options.onConcurrencyLimit ? { onConcurrencyLimit: workflow.options.onConcurrencyLimit } : {}),
    }));
  }
}

const fingerprints = new WeakMap<Workflow<any, any, any>, string>();

/** The definition as text: what must be equal for two workflow objects to be one workflow. */
function fingerprintOf(workflow: Workflow<any, any, any>): string {
  let text = fingerprints.get(workflow);
  if (text === undefined) {
    // Functions by their source; an object met again (a schema's internal links) by a marker.
    const seen = new WeakSet<object>();
    text = JSON.stringify([workflow.version, workflow.options, workflow.steps], (_key, value: unknown) => {
      if (typeof value === 'function') return `fn:${value.toString()}`;
      if (typeof value === 'bigint' || typeof value === 'symbol') return String(value);
      if (value !== null && typeof value === 'object') {
        if (seen.has(value)) return '[seen]';
        seen.add(value);
      }
      return value;
    });
    fingerprints.set(workflow, text);
  }
  return text;
}

function stepNames(workflow: Workflow<any, any, any>): string[] {
  return workflow.steps.map((s) => s.name);
}
