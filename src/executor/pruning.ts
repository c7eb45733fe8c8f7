import { setTimeout as sleep } from 'node:timers/promises';
import type { Duration } from '../model/durations.js';
import { InvalidPruneOptionError } from '../model/errors.js';
import { olderThanMs, PRUNE_STATUSES, type PruneStatus, STORED_STATUSES } from '../model/retention.js';
import type { Store } from '../store/store.js';
import { emptyPruneCounts, type PruneCounts, type PruneSelection } from '../store/types.js';

/** What `executor.prune()` removes: finished run trees, chosen by their root. */
export interface PruneOptions {
  /** Only trees whose root finished at least this long ago (ms or text such as '30d'). Default 0: every finished tree. */
  olderThan?: Duration;
  /** Only trees whose root is a run of this workflow. */
  workflow?: string;
  /** Only roots that ended so; `failed` includes timed-out runs. Default: all three. */
  status?: PruneStatus | readonly PruneStatus[];
  /** Count what would be removed; change nothing. */
  dryRun?: boolean;
  /** Run trees per transaction. Default 500. */
  batchSize?: number;
}

/** What a prune removed (with `dryRun`: would remove). */
export interface PruneResult extends PruneCounts {
  dryRun: boolean;
  /** Transactions it took (0 for a dry run). */
  batches: number;
}

export const DEFAULT_PRUNE_BATCH = 500;
const MAX_PRUNE_BATCH = 10_000;
/**
 * After each batch the pruner waits this many times as long as the batch took, so it holds the
 * store (and, on SQLite, the process's event loop: better-sqlite3 is synchronous) about a ninth of
 * the time. Pruning 100,000 runs beside W1 on this 2-core machine cost W1 18-24 % with 4, 17 % with
 * 6 and 7 % with 9 (bench row `prune`, noisy); 8 keeps the 20 % target with room for the noise.
 */
const PAUSE_PER_BATCH_MS = 8;

/** Checks `options` (a typed error naming the field) and turns them into store selections. */
export function pruneSelections(options: PruneOptions, now: number): Omit<PruneSelection, 'limit'>[] {
  if (options === null || typeof options !== 'object') {
    throw new InvalidPruneOptionError('options', 'an object', options);
  }
  const olderThan = olderThanMs(options.olderThan);
  const workflow = options.workflow;
  if (workflow !== undefined && (typeof workflow !== 'string' || workflow === '')) {
    throw new InvalidPruneOptionError('workflow', 'a workflow name (a non-empty string)', workflow);
  }
  const statuses = options.status === undefined ? PRUNE_STATUSES : [options.status].flat();
  for (const status of statuses) {
    if (!(PRUNE_STATUSES as readonly unknown[]).includes(status)) {
      throw new InvalidPruneOptionError('status', `one of ${PRUNE_STATUSES.join(', ')}`, status);
    }
  }
  if (options.dryRun !== undefined && typeof options.dryRun !== 'boolean') {
    throw new InvalidPruneOptionError('dryRun', 'true or false', options.dryRun);
  }
  return [
    {
      statuses: statuses.flatMap((s) => STORED_STATUSES[s as PruneStatus]),
      // "At least olderThan ago" includes the boundary; the store compares finished_at < finishedBefore.
      finishedBefore: now - olderThan + 1,
      workflow: workflow ?? null,
      excludeWorkflows: [],
    },
  ];
}

export function checkBatchSize(value: unknown): number {
  if (value === undefined) return DEFAULT_PRUNE_BATCH;
  if (!(Number.isInteger(value) && (value as number) >= 1 && (value as number) <= MAX_PRUNE_BATCH)) {
    throw new InvalidPruneOptionError('batchSize', `a whole number from 1 to ${MAX_PRUNE_BATCH}`, value);
  }
  return value as number;
}

/**
 * Prunes finished run trees from `store` in batches of `batchSize` trees, each batch one short
 * transaction, pausing between batches so the engine sharing the store keeps going; then gives the
 * freed space back where the store can (SQLite's incremental vacuum). A dry run only counts.
 */
export async function pruneStore(store: Store, options: PruneOptions = {}, now = Date.now()): Promise<PruneResult> {
  const selections = pruneSelections(options, now);
  const batchSize = checkBatchSize(options.batchSize);
  if (options.dryRun) {
    const total = emptyPruneCounts();
    for (const s of selections) addCounts(total, await store.countPrunable(s, now));
    return { ...total, dryRun: true, batches: 0 };
  }
  return { ...(await pruneInBatches(store, selections, batchSize, now)), dryRun: false };
}

/** Hooks into a prune under way: the retention timer stops it on close; the bench holds it between batches. */
export interface PruneControl {
  /** Checked before each batch: true ends the prune there. */
  shouldStop?: () => boolean;
  /** Awaited before each batch. */
  beforeBatch?: () => Promise<void>;
}

/** Runs each selection's batches until a batch comes back short, or `control.shouldStop()`. */
export async function pruneInBatches(
  store: Store,
  selections: readonly Omit<PruneSelection, 'limit'>[],
  limit: number,
  now: number,
  control: PruneControl = {},
): Promise<PruneCounts & { batches: number }> {
  const shouldStop = control.shouldStop ?? (() => false);
  const total = { ...emptyPruneCounts(), batches: 0 };
  for (const selection of selections) {
    while (!shouldStop()) {
      await control.beforeBatch?.();
      // Real time, not the engine's clock: the pause paces real I/O so the engine sharing the store keeps going.
      const started = performance.now();
      const counts = await store.pruneRuns({ ...selection, limit }, now);
      total.batches++;
      addCounts(total, counts);
      await sleep((performance.now() - started) * PAUSE_PER_BATCH_MS);
      if (counts.roots < limit && counts.cache < limit) break;
    }
  }
  if (total.runs + total.cache > 0 && store.reclaimSpace) {
    while (!shouldStop()) {
      await control.beforeBatch?.();
      const started = performance.now();
      const hasMore = await store.reclaimSpace();
      await sleep((performance.now() - started) * PAUSE_PER_BATCH_MS);
      if (!hasMore) break;
    }
  }
  return total;
}

function addCounts(total: PruneCounts, counts: PruneCounts): void {
  for (const key of Object.keys(counts) as (keyof PruneCounts)[]) total[key] += counts[key];
}
