/**
 * A run's steps as the API shows them, in DAG order: one function for the server (which knows the
 * workflow's definition) and for the CLI reading a database directly (which does not), so both
 * list the steps the same way.
 */
import type { Store } from '../store/store.js';
import type { EventRecord, StepRecord } from '../store/types.js';
import type { StepJson } from './schemas.js';
import { pendingStepView, stepView } from './views.js';

/** A step of the definition, as far as ordering needs it. */
export interface StepShape {
  name: string;
  parents: readonly string[];
}

/**
 * Parents before children. With the definition, its steps in declared order as far as the DAG
 * allows (the data form, defineWorkflow, may list a child before its parent), unreached ones
 * pending; stored steps it does not know (another version) come after. Without it (a database read
 * directly), the stored steps in the order they first appeared in the run's events: a step starts
 * only once its parents are done, so that order is one of the DAG's too. Parents are unknown then.
 */
export function stepsInDagOrder(
  stored: readonly StepRecord[],
  definition: readonly StepShape[] | undefined,
  events: readonly EventRecord[],
  now: number,
): StepJson[] {
  const byName = new Map(stored.map((s) => [s.name, s]));
  const firstSeen = firstEventOfEachStep(events);
  const known = new Set(definition?.map((d) => d.name));
  const extra = stored
    .filter((s) => !known.has(s.name))
    .sort((a, b) => (firstSeen.get(a.name) ?? Infinity) - (firstSeen.get(b.name) ?? Infinity));
  const shapes: StepShape[] = [...(definition ?? []), ...extra.map((s) => ({ name: s.name, parents: [] }))];
  return topologicalOrder(shapes).map((shape) => {
    const record = byName.get(shape.name);
    return record ? stepView(record, shape.parents, now) : pendingStepView(shape.name, shape.parents);
  });
}

/** Every event of one run (after `afterSeq`), in order, page by page. */
export async function readRunEvents(store: Store, runId: string, afterSeq = 0): Promise<EventRecord[]> {
  const pageSize = 1000;
  const events: EventRecord[] = [];
  for (;;) {
    const page = await store.listEvents({ runId, afterSeq: events.at(-1)?.seq ?? afterSeq, limit: pageSize });
    events.push(...page);
    if (page.length < pageSize) return events;
  }
}

function firstEventOfEachStep(events: readonly EventRecord[]): Map<string, number> {
  const first = new Map<string, number>();
  events.forEach((event, i) => {
    if (event.step !== null && !first.has(event.step)) first.set(event.step, i);
  });
  return first;
}

/**
 * Kahn's algorithm that always takes the earliest ready step in `shapes`' order, so an order that
 * already puts parents first comes back unchanged. Parents not in `shapes` are ignored; the model
 * refuses cycles, but a step caught in one would still be listed, last. Quadratic in the number of
 * steps, which is that of a definition (tens), never that of runs or children.
 */
function topologicalOrder(shapes: readonly StepShape[]): StepShape[] {
  const names = new Set(shapes.map((s) => s.name));
  const placed = new Set<string>();
  const out: StepShape[] = [];
  while (out.length < shapes.length) {
    const next =
      shapes.find((s) => !placed.has(s.name) && s.parents.every((p) => placed.has(p) || !names.has(p))) ??
      shapes.find((s) => !placed.has(s.name))!;
    placed.add(next.name);
    out.push(next);
  }
  return out;
}
