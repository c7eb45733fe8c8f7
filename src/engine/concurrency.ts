import { BraidError } from '../model/errors.js';
import type { Workflow } from '../model/workflow.js';
import type { RunRecord } from '../store/types.js';
import { PriorityQueue, type QueueEntry } from './priorityQueue.js';
import type { ActiveRun } from './runState.js';

export class ConcurrencyLimitError extends BraidError {
  readonly code = 'concurrency_limit';
  constructor(
    readonly workflow: string,
    readonly key: string,
    readonly maxRuns: number,
  ) {
    super(
      `Workflow "${workflow}"${key ? ` (concurrency key "${key}")` : ''} already has ${maxRuns} active run(s) and uses ` +
        `the cancel-newest strategy, so this run was cancelled. Use \`onConcurrencyLimit: 'queue'\` to wait instead.`,
    );
  }
}

export type Admission =
  | { kind: 'start' }
  | { kind: 'queue' }
  | { kind: 'cancel-self'; error: Error }
  | { kind: 'cancel-oldest'; cancelRunId: string };

interface Group {
  active: Set<string>;
  /** Waiting runs, taken by priority then arrival (PriorityQueue). */
  queue: PriorityQueue<ActiveRun>;
  /** Each waiting run's place in `queue`. */
  queued: Map<ActiveRun, QueueEntry<ActiveRun>>;
}

/**
 * A workflow's `maxRuns` per concurrency key. Runs over the limit queue, and are admitted by
 * priority then arrival (with PriorityQueue's turn for the oldest), or cancel the newest / the oldest. A run spawned by a run that already holds a slot of the same
 * group is admitted without one, so a parent can never deadlock waiting on its own children.
 */
export class Concurrency {
  private readonly groups = new Map<string, Group>();
  private readonly groupOfRun = new Map<string, string>();
  /** maxRuns changed at run time (executor.setMaxRuns), by workflow name: they win over the definition's. */
  private readonly settings = new Map<string, number>();

  /** The workflow's maxRuns in force: its run-time setting, else its definition's. */
  limitOf(workflow: Workflow<any, any, any>): number | undefined {
    if (workflow.options.maxRuns === undefined) return undefined;
    return this.settings.get(workflow.name) ?? workflow.options.maxRuns;
  }

  /**
   * Applies a run-time maxRuns (undefined: back to the definition's) and returns the queued runs
   * of the workflow that fit under it now, already holding their slots: raising the limit admits
   * them at once. Lowering it takes no slot back; running runs finish, and no queued run is
   * admitted until the group is under the new limit.
   */
  setLimit(workflow: string, maxRuns: number | undefined): ActiveRun[] {
    if (maxRuns === undefined) this.settings.delete(workflow);
    else this.settings.set(workflow, maxRuns);
    return this.admitQueued((run) => run.rec.workflow === workflow);
  }

  /** The user-facing concurrency key of a new run, or undefined when its workflow has no limit. */
  groupOf(workflow: Workflow<any, any, any>, input: unknown): { key: string } | undefined {
    if (workflow.options.maxRuns === undefined) return undefined;
    const fn = workflow.options.concurrencyKey;
    return { key: fn ? String(fn(input)) : '' };
  }

  admit(run: ActiveRun, parent: ActiveRun | undefined, lookup: (id: string) => ActiveRun | undefined): Admission {
    const max = this.limitOf(run.plan.workflow);
    if (max === undefined || run.rec.concurrencyKey === null) return { kind: 'start' };
    const id = groupId(run);
    for (let p = parent; p; p = p.rec.parentRunId ? lookup(p.rec.parentRunId) : undefined) {
      if (this.groupOfRun.get(p.rec.id) === id) return { kind: 'start' };
    }
    const group = this.group(id);
    if (group.active.size < max) {
      this.take(group, id, run);
      return { kind: 'start' };
    }
    const strategy = run.plan.workflow.options.onConcurrencyLimit ?? 'queue';
    if (strategy === 'cancel-newest') {
      return { kind: 'cancel-self', error: new ConcurrencyLimitError(run.rec.workflow, run.rec.concurrencyKey, max) };
    }
    if (strategy === 'cancel-oldest') {
      const oldest = group.active.values().next().value as string;
      this.take(group, id, run);
      return { kind: 'cancel-oldest', cancelRunId: oldest };
    }
    enqueue(group, run);
    return { kind: 'queue' };
  }

  /** Records a recovered running run as holding its slot (even if that exceeds a lowered limit). */
  occupy(run: ActiveRun): void {
    if (run.rec.concurrencyKey === null || run.plan.workflow.options.maxRuns === undefined) return;
    const id = groupId(run);
    const group = this.group(id);
    if (!group.active.has(run.rec.id)) this.take(group, id, run);
  }

  /**
   * Records a run that holds its slot while it stays a row (asleep in the store until a later time,
   * or paused), which recovery does not load: a queued run must not take that slot.
   * Its slot goes back when it ends, once woken and loaded, like any other.
   */
  occupyUnloaded(rec: RunRecord, maxRuns: number | undefined): void {
    if (rec.concurrencyKey === null || maxRuns === undefined) return;
    const id = `${rec.workflow}\0${rec.concurrencyKey}`;
    const group = this.group(id);
    if (!group.active.has(rec.id)) {
      group.active.add(rec.id);
      this.groupOfRun.set(rec.id, id);
    }
  }

  /** Puts a recovered queued run back in line (recovery reads runs oldest first). */
  requeue(run: ActiveRun): void {
    if (run.rec.concurrencyKey === null || run.plan.workflow.options.maxRuns === undefined) return;
    run.waitingForConcurrency = true;
    enqueue(this.group(groupId(run)), run);
  }

  /** Queued runs that fit under their limits now (after recovery re-filled the queues). */
  startable(): ActiveRun[] {
    return this.admitQueued(() => true);
  }

  /** Admits queued runs of the groups whose first queued run passes `of`, while they have room. */
  private admitQueued(of: (run: ActiveRun) => boolean): ActiveRun[] {
    const out: ActiveRun[] = [];
    for (const [id, group] of this.groups) {
      const first = group.queue.items()[0];
      if (!first || !of(first)) continue;
      const max = this.limitOf(first.plan.workflow) ?? 0;
      for (let next = nextQueued(group, max); next; next = nextQueued(group, max)) {
        this.take(group, id, next);
        out.push(next);
      }
    }
    return out;
  }

  isQueued(run: ActiveRun): boolean {
    if (run.rec.concurrencyKey === null) return false;
    return this.groups.get(groupId(run))?.queued.has(run) ?? false;
  }

  /** Frees the run's slot; returns the next queued run of its group to start, if one may. */
  release(run: ActiveRun, wasWaiting: boolean): ActiveRun | undefined {
    if (run.rec.concurrencyKey === null) return undefined;
    const id = groupId(run);
    const group = this.groups.get(id);
    if (!group) return undefined;
    const entry = group.queued.get(run);
    if (wasWaiting && entry) {
      group.queue.remove(entry);
      group.queued.delete(run);
    }
    if (group.active.delete(run.rec.id)) this.groupOfRun.delete(run.rec.id);
    const max = this.limitOf(run.plan.workflow) ?? Number.POSITIVE_INFINITY;
    const next = nextQueued(group, max);
    if (next) {
      this.take(group, id, next);
      return next;
    }
    if (!group.active.size && !group.queue.size) this.groups.delete(id);
    return undefined;
  }

  private group(id: string): Group {
    let group = this.groups.get(id);
    if (!group) {
      group = { active: new Set(), queue: new PriorityQueue(), queued: new Map() };
      this.groups.set(id, group);
    }
    return group;
  }

  private take(group: Group, id: string, run: ActiveRun): void {
    group.active.add(run.rec.id);
    this.groupOfRun.set(run.rec.id, id);
  }
}

function enqueue(group: Group, run: ActiveRun): void {
  if (!group.queued.has(run)) group.queued.set(run, group.queue.push(run, run.rec.priority));
}

/** The next waiting run to admit while the group has room (runs no longer queued are dropped). */
function nextQueued(group: Group, max: number): ActiveRun | undefined {
  if (group.active.size >= max) return undefined;
  let next: ActiveRun | undefined;
  group.queue.drain((run) => {
    if (next) return 'stop';
    group.queued.delete(run);
    if (run.rec.status !== 'queued') return 'drop';
    next = run;
    return 'take';
  });
  return next;
}

function groupId(run: ActiveRun): string {
  return `${run.rec.workflow}\0${run.rec.concurrencyKey}`;
}
