import { type SimOptions, type SimOutcome, simulate } from './simulation.js';

/**
 * A failing seed, made small: the same seed re-run with fewer workflows, steps and runs and with
 * fewer faults, keeping the smallest variant that still fails. Its trace is the one to read: the
 * seed fixes every choice, so the smaller trace shows the same kind of failure in fewer lines.
 */
export async function shrink(failing: SimOutcome, budget = 40): Promise<SimOutcome> {
  let best = failing;
  let tries = 0;
  for (let improved = true; improved && tries < budget; ) {
    improved = false;
    for (const candidate of smaller(best.options)) {
      if (tries++ >= budget) break;
      const outcome = await simulate(failing.seed, candidate);
      if (outcome.violations.length > 0 && outcome.trace.length < best.trace.length) {
        best = outcome;
        improved = true;
        break;
      }
    }
  }
  return best;
}

/** One-step reductions of a simulation's size and faults, the boldest first. */
function smaller(options: SimOptions): SimOptions[] {
  const { size } = options;
  const out: SimOptions[] = [];
  if (size.runs > 1) out.push({ ...options, size: { ...size, runs: Math.floor(size.runs / 2) } });
  if (size.workflows > 1) out.push({ ...options, size: { ...size, workflows: size.workflows - 1 } });
  if (size.maxSteps > 1) out.push({ ...options, size: { ...size, maxSteps: size.maxSteps - 1 } });
  if (size.runs > 1) out.push({ ...options, size: { ...size, runs: size.runs - 1 } });
  if (options.maxCrashes > 0) out.push({ ...options, maxCrashes: options.maxCrashes - 1 });
  if (options.faultRate > 0.05) out.push({ ...options, faultRate: Math.round(options.faultRate * 50) / 100 });
  if (options.faultRate > 0) out.push({ ...options, faultRate: 0 });
  return out;
}
