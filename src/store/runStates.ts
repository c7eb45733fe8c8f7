import type { StepRecord, StoredRunState, WaitRecord } from './types.js';

/** Groups steps and waits read for many runs by run, keeping the order they were read in. */
export function groupRunStates(
  steps: readonly StepRecord[],
  waits: readonly WaitRecord[],
): Map<string, StoredRunState> {
  const states = new Map<string, StoredRunState>();
  const stateOf = (runId: string) => {
    let state = states.get(runId);
    if (!state) {
      state = { steps: [], waits: [] };
      states.set(runId, state);
    }
    return state;
  };
  for (const step of steps) stateOf(step.runId).steps.push(step);
  for (const wait of waits) stateOf(wait.runId).waits.push(wait);
  return states;
}
