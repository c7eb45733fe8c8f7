import type { ExecutionResult } from './result.js';
import type { RunWaiters } from './runState.js';

/** The run ended (or its callers are released with how it stands): every caller gets `result`. */
export function resolveAll(waiters: RunWaiters, result: ExecutionResult): void {
  for (const w of waiters.settle.splice(0)) w(result);
  for (const w of waiters.done.splice(0)) w(result);
}

/** The run paused: `execute()` callers get the paused result; `result()` callers wait on. */
export function resolvePaused(waiters: RunWaiters, result: ExecutionResult): void {
  for (const w of waiters.settle.splice(0)) w(result);
}

export function hasWaiters(waiters: RunWaiters): boolean {
  return waiters.settle.length > 0 || waiters.done.length > 0;
}

/**
 * Hands a run's callers over to a wait elsewhere (the run goes on in another process, or under
 * another id): `result()` callers always, `execute()` callers (who also want a pause) when
 * `settleToo`; the others get nothing more from this run.
 */
export function handOver(
  waiters: RunWaiters,
  settleToo: boolean,
  waitFor: (untilSettled: boolean) => Promise<ExecutionResult>,
): void {
  if (settleToo) for (const w of waiters.settle.splice(0)) waitFor(true).then(w, () => {});
  for (const w of waiters.done.splice(0)) waitFor(false).then(w, () => {});
}
