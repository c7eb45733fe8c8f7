import type { RunUpdate, WriteBatch } from '../store/types.js';

/**
 * How each list of a batch takes in a later batch's. Live records (a run, a step, a wait: the
 * engine's own objects, changed in place) are added once, as their latest state already is in the
 * object; appended writes (events, chunks, sends...) are added in order. Typed over every list of
 * WriteBatch, so a new kind of write cannot be forgotten here.
 */
const HOW: Record<Exclude<keyof WriteBatch, 'at' | 'localRuns'>, 'live' | 'append'> = {
  newRuns: 'live',
  runUpdates: 'live',
  steps: 'live',
  waits: 'live',
  events: 'append',
  cache: 'append',
  controls: 'append',
  inbox: 'append',
  inputs: 'append',
  forks: 'append',
  chunks: 'append',
  schedules: 'append',
};

/**
 * Takes the writes of `more` (made after `batch`) into `batch`, in order: a retried commit then
 * lands a record with the events that its later changes wrote (see WriteQueue's absorbPending).
 */
export function mergeBatch(batch: WriteBatch, more: WriteBatch): void {
  batch.at = more.at;
  // An update of a run the batch inserts is part of that insert (the record is live).
  const inserted = new Set<RunUpdate>([...batch.newRuns, ...more.newRuns]);
  more.runUpdates = more.runUpdates.filter((rec) => !inserted.has(rec));
  const into = batch as unknown as Record<string, unknown[] | undefined>;
  const from = more as unknown as Record<string, unknown[] | undefined>;
  for (const [field, how] of Object.entries(HOW)) {
    const added = from[field];
    if (!added?.length) continue;
    const list = into[field] ?? [];
    into[field] = list;
    if (how === 'append') list.push(...added);
    else {
      const held = new Set(list);
      for (const rec of added) if (!held.has(rec)) list.push(rec);
    }
  }
  if (more.localRuns) batch.localRuns = new Set([...(batch.localRuns ?? []), ...more.localRuns]);
}
