import { isDeepStrictEqual } from 'node:util';
import { MemoryStore } from '../../src/index.js';
import type { Store } from '../../src/store/store.js';
import type { RunRecord, WriteBatch } from '../../src/store/types.js';
import type { Trace } from './trace.js';

/**
 * The store's whole state against its log: every batch that landed, copied as it was handed over,
 * is committed again, in order, into an empty memory store, and each run's record, its steps
 * (status, attempts, output, error, times, fallback, cache hit, route), its waits, its event log and
 * its children must come out the same. A store that kept a reference to a batch the engine changed
 * later, lost or reordered a write, or took a write from outside the commit path breaks it.
 * A store that `usesDatabaseClock` stamps the waits a commit settles with the database's time, not
 * the batch's: their `resolvedAt` is left out of the comparison there.
 */
export async function checkReplay(
  durable: Store,
  log: readonly WriteBatch[],
  trace: Trace,
  /**
   * Runs a scale-out store ended outside any commit (`cancelUnstarted`: a queued run no worker
   * held, cancelled with its run_cancelled event in one statement): their record and events are
   * not the log's to replay (checkStore still holds them to their event log).
   */
  endedOutsideLog: ReadonlySet<string> = new Set(),
): Promise<string[]> {
  const waitsOf = async (store: Store, runId: string) => {
    const waits = withoutSeqs(await store.getWaits(runId));
    if (!durable.usesDatabaseClock) return waits;
    return waits.map((w) => ({ ...(w as object), resolvedAt: (w as { resolvedAt: unknown }).resolvedAt !== null }));
  };
  const replayed = new MemoryStore();
  await replayed.open();
  const problems: string[] = [];
  try {
    for (const batch of log) await replayed.commit(structuredClone(batch));
    const stored = await allRuns(durable);
    const again = new Map((await allRuns(replayed)).map((r) => [r.id, r]));
    if (again.size !== stored.length)
      problems.push(`the store has ${stored.length} runs, its log replays ${again.size}`);
    for (const run of stored) {
      const name = trace.name(run.id);
      const other = again.get(run.id);
      if (!other) {
        problems.push(`${name} is in the store but not in what its log replays`);
        continue;
      }
      const differs = (what: string, a: unknown, b: unknown) => {
        if (!isDeepStrictEqual(a, b))
          problems.push(`${name}: its ${what} in the store differ from its log's: ${difference(a, b)}`);
      };
      const outside = endedOutsideLog.has(run.id);
      if (!outside) differs('record', run, other);
      differs('steps', await durable.getSteps(run.id), await replayed.getSteps(run.id));
      differs('waits', await waitsOf(durable, run.id), await waitsOf(replayed, run.id));
      if (!outside)
        differs(
          'events',
          withoutSeqs(await durable.listEvents({ runId: run.id, limit: 100_000 })),
          withoutSeqs(await replayed.listEvents({ runId: run.id, limit: 100_000 })),
        );
      differs(
        'children',
        await childrenOf(durable, run.id, endedOutsideLog),
        await childrenOf(replayed, run.id, endedOutsideLog),
      );
      if (problems.length > 10) break;
    }
  } finally {
    await replayed.close();
  }
  return problems;
}

/** Where two values first differ, in a few words: the element, the field, and both values. */
function difference(a: unknown, b: unknown, path = ''): string {
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return `${path || 'the list'} has ${a.length} entries vs ${b.length}`;
    const i = a.findIndex((x, j) => !isDeepStrictEqual(x, b[j]));
    return difference(a[i], b[i], `${path}[${i}]`);
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const x = (a as Record<string, unknown>)[key];
      const y = (b as Record<string, unknown>)[key];
      if (!isDeepStrictEqual(x, y)) return difference(x, y, `${path}.${key}`);
    }
  }
  return `${path || 'the value'} is ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
}

/**
 * Sequence numbers a store assigns (an event's, an inbox event's inside a resolved wait's value)
 * keep their order but may skip values (a SQL store's rolled-back insert): they are left out.
 */
function withoutSeqs<T extends object>(records: T[]): unknown[] {
  return records.map((record) => {
    const { seq: _seq, ...rest } = record as T & { seq?: number };
    const value = (rest as { value?: unknown }).value;
    if (typeof value !== 'string' || !value.startsWith('{')) return rest;
    const { seq: _valueSeq, ...parsed } = JSON.parse(value) as { seq?: number };
    return { ...rest, value: parsed };
  });
}

async function allRuns(store: Store): Promise<RunRecord[]> {
  return pageRuns(store, {});
}

async function childrenOf(store: Store, parentRunId: string, endedOutsideLog: ReadonlySet<string>): Promise<unknown[]> {
  return (await pageRuns(store, { parentRunId })).map((r) => [
    r.parentStep,
    r.spawnKey,
    r.id,
    endedOutsideLog.has(r.id) ? 'ended outside the log' : r.status,
  ]);
}

async function pageRuns(store: Store, filter: { parentRunId?: string }): Promise<RunRecord[]> {
  const runs: RunRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listRuns({ ...filter, limit: 1000, order: 'asc', ...(cursor ? { cursor } : {}) });
    runs.push(...page.runs);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return runs;
}
