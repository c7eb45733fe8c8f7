import { type SimOptions, type SimOutcome, simulate } from './simulation.js';

/**
 * A failing seed, made small: the same seed re-run with fewer workflows, steps and runs, a lower
 * fault rate, and then with single faults, single pauses / resumes / cancels and single second
 * sends of an event left out of its plan, keeping each change after which it still fails the same
 * way with a shorter trace. The seed fixes every other choice, so the trace left is the shortest
 * one found that shows the failure.
 */
export async function shrink(failing: SimOutcome, budget = 60): Promise<SimOutcome> {
  const kinds = new Set(failing.violations.map(kindOf));
  let best = failing;
  let tries = 0;
  for (let improved = true; improved && tries < budget; ) {
    improved = false;
    for (const candidate of smaller(best)) {
      if (tries++ >= budget) break;
      const outcome = await simulate(failing.seed, candidate);
      const same = outcome.violations.some((v) => kinds.has(kindOf(v)));
      if (same && outcome.trace.length < best.trace.length) {
        best = outcome;
        improved = true;
        break;
      }
    }
  }
  return best;
}

/** A violation without its names and numbers: another run or count, the same kind of failure. */
export function kindOf(violation: string): string {
  return violation
    .replace(/\bR\d+\b/g, 'R')
    .replace(/\bp\d+\b/g, 'p')
    .replace(/-?\d+(\.\d+)?/g, '#')
    .slice(0, 60);
}

/** One-step reductions, the boldest first: the workload's size, the fault rate, then single parts of the plan. */
function smaller(outcome: SimOutcome): SimOptions[] {
  const { options, planned } = outcome;
  const { size } = options;
  const out: SimOptions[] = [];
  // A smaller workload is another plan altogether: what was left out of this one does not carry over.
  const fresh = { ...options, skip: {} };
  if (size.runs > 1) out.push({ ...fresh, size: { ...size, runs: Math.floor(size.runs / 2) } });
  if (size.workflows > 1) out.push({ ...fresh, size: { ...size, workflows: size.workflows - 1 } });
  if (size.maxSteps > 1) out.push({ ...fresh, size: { ...size, maxSteps: size.maxSteps - 1 } });
  if (size.runs > 1) out.push({ ...fresh, size: { ...size, runs: size.runs - 1 } });
  if (options.maxCrashes > 0) out.push({ ...fresh, maxCrashes: options.maxCrashes - 1 });
  if (options.faultRate > 0.05) out.push({ ...fresh, faultRate: Math.round(options.faultRate * 50) / 100 });
  if (options.faultRate > 0) out.push({ ...fresh, faultRate: 0 });
  const skip = options.skip ?? {};
  const without = (list: readonly number[] | undefined, n: number) => [...(list ?? []), n];
  for (let n = 0; n < planned.faults; n++) {
    if (!skip.faults?.includes(n)) out.push({ ...options, skip: { ...skip, faults: without(skip.faults, n) } });
  }
  for (let n = 0; n < planned.controls; n++) {
    if (!skip.controls?.includes(n)) out.push({ ...options, skip: { ...skip, controls: without(skip.controls, n) } });
  }
  for (const index of planned.duplicateEvents) {
    out.push({ ...options, skip: { ...skip, duplicateEvents: without(skip.duplicateEvents, index) } });
  }
  return out;
}
