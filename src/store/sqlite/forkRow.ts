import type { ForkRecord } from '../types.js';

/** The columns of a fork link as a ForkRecord's fields (the step lists still JSON text). */
export const FORK_SELECT_COLUMNS = `run_id AS runId, forked_from AS forkedFrom, from_step AS fromStep,
  reused_steps AS reusedSteps, overridden_steps AS overriddenSteps, created_at AS createdAt`;

/** A forks row as read: the step lists are JSON arrays of names. */
export type ForkRow = Omit<ForkRecord, 'reusedSteps' | 'overriddenSteps'> & {
  reusedSteps: string;
  overriddenSteps: string;
};

export function forkFromRow(row: ForkRow): ForkRecord {
  return {
    ...row,
    reusedSteps: JSON.parse(row.reusedSteps) as string[],
    overriddenSteps: JSON.parse(row.overriddenSteps) as string[],
  };
}
