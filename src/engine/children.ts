import type { ChildLink, RunStatus } from '../store/types.js';
import { isTerminalRun } from '../store/types.js';

/** One spawned child as its parent step tracks it: identity and, once finished, its outcome. */
export interface ChildEntry {
  key: string;
  runId: string;
  workflow: string;
  status: RunStatus;
  /** JSON text of the output (succeeded) or the SerializedError (otherwise). */
  output: string | null;
  error: string | null;
}

/** A join in progress: a set of children still running, not one promise per child. */
export interface JoinWaiter {
  pending: Set<string>;
  onChildDone(entry: ChildEntry): void;
  abort(reason: unknown): void;
}

/**
 * The children of one step run. Keys make spawning idempotent: a retried or recovered step that
 * spawns the same key gets the existing child back. Ordinals count identical inputs within one
 * attempt, so two spawns with the same input are two children, and the same two on a re-run.
 */
export class ChildRegistry {
  readonly byKey = new Map<string, ChildEntry>();
  readonly byRunId = new Map<string, ChildEntry>();
  private ordinals = new Map<string, number>();
  private readonly joins = new Set<JoinWaiter>();
  /** Outcomes that arrived while the links were still being read from the store. */
  private readonly early = new Map<string, Pick<ChildEntry, 'status' | 'output' | 'error'>>();
  /** True once the links of earlier attempts have been read (always true for a fresh step). */
  loaded: boolean;

  /**
   * @param index the engine's map from child run id to registry, so a child's end heard from
   *   another process finds its parent's join without a scan.
   */
  constructor(
    loaded: boolean,
    private readonly index?: Map<string, ChildRegistry>,
  ) {
    this.loaded = loaded;
  }

  add(entry: ChildEntry): void {
    this.index?.set(entry.runId, this);
    const early = this.early.get(entry.runId);
    if (early) {
      Object.assign(entry, early);
      this.early.delete(entry.runId);
    }
    this.byKey.set(entry.key, entry);
    this.byRunId.set(entry.runId, entry);
  }

  /**
   * Takes the children earlier attempts spawned, read from the store, so spawns find them; a child
   * in memory (`live`) gives its current state. The registry is loaded after this.
   */
  attach(
    links: readonly ChildLink[],
    live: (runId: string) => Pick<ChildEntry, 'status' | 'output' | 'error'> | undefined,
  ): void {
    for (const link of links) {
      if (this.byKey.has(link.spawnKey)) continue;
      const state = live(link.runId) ?? link;
      this.add({
        key: link.spawnKey,
        runId: link.runId,
        workflow: link.workflow,
        status: state.status,
        output: state.output,
        error: state.error,
      });
    }
    this.loaded = true;
  }

  /** Points an entry at the run that really holds its identity (another process created it first). */
  rename(fromRunId: string, toRunId: string): void {
    const entry = this.byRunId.get(fromRunId);
    if (!entry) return;
    this.byRunId.delete(fromRunId);
    this.index?.delete(fromRunId);
    entry.runId = toRunId;
    this.byRunId.set(toRunId, entry);
    this.index?.set(toRunId, this);
    for (const join of this.joins) {
      if (join.pending.delete(fromRunId)) join.pending.add(toRunId);
    }
  }

  /** The next ordinal for this content hash in the current attempt. */
  nextOrdinal(hash: string): number {
    const n = this.ordinals.get(hash) ?? 0;
    this.ordinals.set(hash, n + 1);
    return n;
  }

  /** A new attempt counts identical inputs from zero again. */
  resetOrdinals(): void {
    this.ordinals = new Map();
  }

  settle(runId: string, status: RunStatus, output: string | null, error: string | null): void {
    const entry = this.byRunId.get(runId);
    if (!entry) {
      if (!this.loaded) this.early.set(runId, { status, output, error });
      return;
    }
    if (isTerminalRun(entry.status)) return;
    entry.status = status;
    entry.output = output;
    entry.error = error;
    // Copied only when a join may end here and leave the set while it is walked: most children of
    // a fan-out end with one join waiting, which needs no copy (one array per child ended, before).
    if (this.joins.size === 1) {
      for (const join of this.joins) if (join.pending.delete(runId)) join.onChildDone(entry);
      return;
    }
    for (const join of [...this.joins]) {
      if (join.pending.delete(runId)) join.onChildDone(entry);
    }
  }

  addJoin(join: JoinWaiter): void {
    this.joins.add(join);
  }

  removeJoin(join: JoinWaiter): void {
    this.joins.delete(join);
  }

  abortJoins(reason: unknown): void {
    for (const join of [...this.joins]) join.abort(reason);
    this.joins.clear();
  }

  /** Removes this registry's children from the engine's index (its run leaves memory). */
  unindex(): void {
    if (this.index) for (const runId of this.byRunId.keys()) this.index.delete(runId);
  }

  *unfinished(): Iterable<ChildEntry> {
    for (const entry of this.byRunId.values()) if (!isTerminalRun(entry.status)) yield entry;
  }

  statusCounts(): Partial<Record<RunStatus, number>> {
    const counts: Partial<Record<RunStatus, number>> = {};
    for (const entry of this.byRunId.values()) counts[entry.status] = (counts[entry.status] ?? 0) + 1;
    return counts;
  }
}
