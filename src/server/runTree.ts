import type { Store } from '../store/store.js';
import type { RunRecord } from '../store/types.js';

/** Runs read while seeding; a bigger tree is completed lazily, one lookup per newly seen run. */
const SEED_LIMIT = 10_000;
/** Ids remembered as outside the tree before the memo is dropped (it only saves lookups). */
const MAX_OUTSIDE = 10_000;

/**
 * Which runs belong to the tree under one run (the run and all its descendants), for an event
 * stream filtered to that tree. Seeded from the store with every run sharing the run's root; a run
 * seen later (a child spawned while the stream is open) is looked up once: it is in the tree when
 * its parent is. Its record is committed before its first event is heard, so the lookup finds it.
 */
export class RunTree {
  private readonly inside = new Set<string>();
  private readonly outside = new Set<string>();

  private constructor(
    private readonly store: Store,
    private readonly top: RunRecord,
  ) {
    this.inside.add(top.id);
  }

  static async load(store: Store, top: RunRecord): Promise<RunTree> {
    const tree = new RunTree(store, top);
    await tree.seed();
    return tree;
  }

  async has(runId: string): Promise<boolean> {
    if (this.inside.has(runId)) return true;
    if (this.outside.has(runId)) return false;
    const run = await this.store.getRun(runId);
    if (!run) return false; // not committed (not expected): decide again next time
    let isInside = false;
    if (run.rootRunId === this.top.rootRunId && run.parentRunId !== null) {
      isInside = await this.has(run.parentRunId);
    }
    this.remember(runId, isInside);
    return isInside;
  }

  private async seed(): Promise<void> {
    const family: RunRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.store.listRuns({ rootRunId: this.top.rootRunId, order: 'asc', limit: 1000, cursor });
      family.push(...page.runs);
      cursor = page.nextCursor ?? undefined;
    } while (cursor && family.length < SEED_LIMIT);
    // Parents are usually created before their children, so one pass mostly suffices; repeat until
    // nothing changes in case two share a millisecond and sort the other way.
    let isGrowing = true;
    while (isGrowing) {
      isGrowing = false;
      for (const run of family) {
        if (!this.inside.has(run.id) && run.parentRunId !== null && this.inside.has(run.parentRunId)) {
          this.inside.add(run.id);
          isGrowing = true;
        }
      }
    }
  }

  private remember(runId: string, isInside: boolean): void {
    if (isInside) {
      this.inside.add(runId);
      return;
    }
    if (this.outside.size >= MAX_OUTSIDE) this.outside.clear();
    this.outside.add(runId);
  }
}
