import type { RunJson, StepJson, StepProgressJson, WaitJson } from '../../server/schemas.js';
import { isTerminalRun, isTerminalStep, type RunStatus, type StatusCounts } from '../../store/types.js';
import type { RunListQuery, RunPageJson } from '../apiClient.js';

export interface ChildCounts {
  total: number;
  counts: StatusCounts;
}

/**
 * Everything `braid show` and the progress display show of one run; `show --json` prints it.
 * Runs and steps have the API's shapes (GET /api/runs/:id), whichever source they came from.
 */
export interface RunReport {
  run: RunJson;
  steps: StepJson[];
  /** The run's waits (sleeps, events, inputs), pending and settled, oldest first. */
  waits: WaitJson[];
  /** All children of the run, and per step the children that step spawned (steps with none are left out). */
  children: ChildCounts & { byStep: Record<string, ChildCounts> };
  parent: { runId: string; step: string | null } | null;
  replayOf: string | null;
  /** The latest `ctx.progress` per step, when the source knows it (a server running the steps). */
  progress?: Record<string, StepProgressJson>;
}

/** Where `runs` and `show` read from: a server's API, or the SQLite file itself. */
export interface RunSource {
  /** A URL, or `sqlite:<file>`. */
  readonly description: string;
  listRuns(query: RunListQuery): Promise<RunPageJson>;
  /**
   * The run's report. With `previous` (the last report of the same run), the children counts of
   * steps that had settled are reused instead of asked again: the progress display refreshes often.
   */
  getReport(runId: string, previous?: RunReport): Promise<RunReport>;
  close(): Promise<void>;
}

/**
 * Splits the steps that may have spawned children into those whose counts must be read now and
 * those whose counts in `previous` are final: the step had ended and none of its children was
 * still going. A step that never started spawned nothing.
 */
export function planChildCounts(
  steps: readonly StepJson[],
  previous: RunReport | undefined,
): { toCount: string[]; settled: Record<string, ChildCounts> } {
  const toCount: string[] = [];
  const settled: Record<string, ChildCounts> = {};
  const before = new Map(previous?.steps.map((s) => [s.name, s]));
  for (const step of steps) {
    if (step.attempts === 0) continue;
    const old = before.get(step.name);
    const oldCounts = previous?.children.byStep[step.name];
    const hadSettled = old !== undefined && isTerminalStep(old.status) && (!oldCounts || allTerminal(oldCounts.counts));
    if (!hadSettled) toCount.push(step.name);
    else if (oldCounts) settled[step.name] = oldCounts;
  }
  return { toCount, settled };
}

export function allTerminal(counts: StatusCounts): boolean {
  return Object.entries(counts).every(([status, n]) => !n || isTerminalRun(status as RunStatus));
}

export function sumCounts(counts: StatusCounts): number {
  return Object.values(counts).reduce<number>((a, b) => a + (b ?? 0), 0);
}
