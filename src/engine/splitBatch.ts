import type { RunRecord, WriteBatch } from '../store/types.js';

/** The group of the step cache's entries: they belong to no run, and a lost entry only costs a recompute. */
export const CACHE_GROUP = '\0cache';
/** The group of the inbox's new events. */
export const INBOX_GROUP = '\0inbox';

/**
 * Splits a batch into one batch per group of runs (a run tree, as `groupOf` says), keeping the
 * order of records within each. Used only when the store refused a whole batch for its data: the
 * groups are then committed one by one and only the guilty ones fail.
 */
export function splitBatch(batch: WriteBatch, groupOf: (runId: string) => string): WriteBatch[] {
  const groups = new Map<string, WriteBatch>();
  // A run created in this batch may not be known to `groupOf` yet: its record names its tree.
  const rootOf = new Map<string, string>();
  for (const run of batch.newRuns) rootOf.set(run.id, run.rootRunId);
  for (const run of batch.runUpdates as Array<Partial<RunRecord>>) {
    if (run.id !== undefined && run.rootRunId !== undefined) rootOf.set(run.id, run.rootRunId);
  }
  const group = (runId: string): WriteBatch => {
    const key = rootOf.get(runId) ?? groupOf(runId);
    let out = groups.get(key);
    if (!out) {
      out = { newRuns: [], runUpdates: [], steps: [], events: [], cache: [], controls: [] };
      if (batch.localRuns) out.localRuns = batch.localRuns;
      groups.set(key, out);
    }
    return out;
  };
  for (const run of batch.newRuns) group(run.id).newRuns.push(run);
  for (const run of batch.runUpdates) group(run.id).runUpdates.push(run);
  for (const step of batch.steps) group(step.runId).steps.push(step);
  for (const event of batch.events) group(event.runId).events.push(event);
  for (const control of batch.controls ?? []) group(control.runId).controls?.push(control);
  for (const wait of batch.waits ?? []) {
    const g = group(wait.runId);
    g.waits = [...(g.waits ?? []), wait];
  }
  for (const chunk of batch.chunks ?? []) {
    const g = group(chunk.runId);
    if (!g.chunks) g.chunks = [];
    g.chunks.push(chunk);
  }
  for (const input of batch.inputs ?? []) {
    const g = group(input.runId);
    g.inputs = [...(g.inputs ?? []), input];
  }
  for (const fork of batch.forks ?? []) {
    const g = group(fork.runId);
    g.forks = [...(g.forks ?? []), fork];
  }
  for (const write of batch.schedules ?? []) {
    // A tick goes with the run it starts: the two land together or not at all.
    const runId = write.ticks.find((t) => t.runId !== null)?.runId;
    const g = runId ? group(runId) : group(`\0schedule:${write.schedule.id}`);
    g.schedules = [...(g.schedules ?? []), write];
  }
  if (batch.inbox?.length) {
    // Events belong to no run: together, apart (a bad one fails only the sends of this batch).
    groups.set(INBOX_GROUP, { newRuns: [], runUpdates: [], steps: [], events: [], cache: [], inbox: batch.inbox });
  }
  if (batch.cache.length) {
    const cache: WriteBatch = { newRuns: [], runUpdates: [], steps: [], events: [], cache: batch.cache };
    groups.set(CACHE_GROUP, cache);
  }
  return [...groups.values()];
}
