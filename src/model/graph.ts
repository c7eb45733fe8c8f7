import {
  CycleError,
  DuplicateStepError,
  InvalidRouteError,
  InvalidStepNameError,
  MissingStepFunctionError,
  UnknownParentError,
} from './errors.js';

/** The shape of a step as far as graph checks are concerned. */
export interface GraphNode {
  name: string;
  parents: readonly string[];
  routes?: readonly string[] | undefined;
  run?: unknown;
}

/**
 * Names a step cannot have: `__proto__`, `constructor`, `toString`... Results are keyed by step
 * name in plain objects (nodeResults), where `__proto__` sets the prototype instead of a key and
 * the others shadow what every object has.
 */
const RESERVED_NAMES: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));

/**
 * Checks a workflow's steps form a valid DAG: names that are non-empty, not reserved and unique, a
 * function each, known parents, no cycle, and declared routes that point at children. Throws the
 * first problem, naming the step.
 */
export function validateGraph(workflow: string, nodes: readonly GraphNode[]): void {
  const names = new Set<string>();
  for (const node of nodes) {
    if (typeof node.name !== 'string' || node.name === '' || RESERVED_NAMES.has(node.name)) {
      throw new InvalidStepNameError(workflow, node.name);
    }
    if (names.has(node.name)) throw new DuplicateStepError(workflow, node.name);
    names.add(node.name);
    if (typeof node.run !== 'function') throw new MissingStepFunctionError(workflow, node.name);
  }
  for (const node of nodes) {
    for (const parent of node.parents) {
      if (!names.has(parent)) throw new UnknownParentError(workflow, node.name, parent);
    }
  }
  const cycle = findCycle(nodes);
  if (cycle) throw new CycleError(workflow, cycle);
  const children = childrenOf(nodes);
  for (const node of nodes) {
    for (const target of node.routes ?? []) {
      const mine = children.get(node.name) ?? [];
      if (!mine.includes(target)) throw new InvalidRouteError(workflow, node.name, target, mine);
    }
  }
}

export function childrenOf(nodes: readonly GraphNode[]): Map<string, string[]> {
  const children = new Map<string, string[]>();
  for (const node of nodes) children.set(node.name, []);
  for (const node of nodes) for (const parent of node.parents) children.get(parent)?.push(node.name);
  return children;
}

/** Depth-first search with colours; returns the cycle's steps in order, first repeated last. */
function findCycle(nodes: readonly GraphNode[]): string[] | undefined {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    const seen = state.get(name);
    if (seen === 'done') return undefined;
    if (seen === 'visiting') return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, 'visiting');
    stack.push(name);
    for (const parent of byName.get(name)?.parents ?? []) {
      const cycle = visit(parent);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(name, 'done');
    return undefined;
  };
  for (const node of nodes) {
    const cycle = visit(node.name);
    if (cycle) return cycle.reverse();
  }
  return undefined;
}
