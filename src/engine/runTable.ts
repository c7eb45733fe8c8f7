import { fromJson } from '../model/json.js';
import {
  type ChildLink,
  isTerminalRun,
  isTerminalStep,
  type RunRecord,
  type StepRecord,
  type StepStatus,
  type WaitRecord,
} from '../store/types.js';
import { inStartOrder } from './buildResult.js';
import { ChildRegistry } from './children.js';
import {
  type ActiveRun,
  type ActiveStep,
  emptyHold,
  NO_CONTINUATIONS,
  NO_WAITS,
  type RunWaiters,
  type WorkflowPlan,
  waitsToWrite,
} from './runState.js';

/**
 * The runs held in memory, and the index from a child run to the step that spawned it. A run
 * enters by `hydrate` (new, loaded or claimed) and leaves by `remove`; callers waiting on a run that
 * left memory while it waits (evicted) are parked here and handed back when it is loaded again.
 */
export class RunTable {
  private readonly runs = new Map<string, ActiveRun>();
  /** Child run id → the registry of the step in memory that spawned it. */
  readonly childIndex = new Map<string, ChildRegistry>();
  private readonly parked = new Map<string, RunWaiters>();

  get(id: string): ActiveRun | undefined {
    return this.runs.get(id);
  }

  has(id: string): boolean {
    return this.runs.has(id);
  }

  ids(): string[] {
    return [...this.runs.keys()];
  }

  /** Whether a step in memory awaits the run `childId`, a child it spawned that has not ended. */
  awaitsChild(childId: string): boolean {
    const status = this.childIndex.get(childId)?.byRunId.get(childId)?.status;
    return status !== undefined && !isTerminalRun(status);
  }

  /** The children that steps in memory await (not ended yet). */
  awaitedChildren(): string[] {
    return [...this.childIndex.keys()].filter((childId) => this.awaitsChild(childId));
  }

  values(): IterableIterator<ActiveRun> {
    return this.runs.values();
  }

  get size(): number {
    return this.runs.size;
  }

  /** Builds a run's state from its record and stored steps and holds it (not yet scheduled). */
  hydrate(
    rec: RunRecord,
    plan: WorkflowPlan,
    input: unknown,
    globals: Record<string, unknown>,
    stored: readonly StepRecord[],
  ): ActiveRun {
    // A new run has no stored steps: no index to build; a few are found by a scan, with no Map.
    const byName = stored.length > FEW_STEPS ? new Map(stored.map((s) => [s.name, s])) : undefined;
    const steps = new Map<string, ActiveStep>();
    for (const def of plan.workflow.steps) {
      const rec0 =
        (byName ? byName.get(def.name) : stored.length ? stored.find((s) => s.name === def.name) : undefined) ??
        blankStep(rec.id, def.name);
      steps.set(def.name, {
        def,
        rec: rec0,
        value: rec0.status === 'succeeded' ? fromJson(rec0.output) : undefined,
        token: 0,
        controller: undefined,
        timeoutTimer: undefined,
        hold: emptyHold(),
        inQueue: false,
        interrupted: 0,
        children: undefined,
        span: undefined,
        waits: NO_WAITS,
        continuations: NO_CONTINUATIONS,
        resuming: false,
        settledHere: false,
      });
    }
    const run: ActiveRun = {
      rec,
      resident: true,
      plan,
      input,
      globals,
      steps,
      running: 0,
      maxParallel: plan.workflow.options.maxParallelNodes ?? Number.POSITIVE_INFINITY,
      startOrder: stored.length ? startOrderOf(stored, plan) : [],
      completedSinceCheckpoint: 0,
      retries: 0,
      cacheHits: 0,
      waiters: this.unpark(rec.id),
      deadlineTimer: undefined,
      wakeTimer: undefined,
      wakeTimerAt: null,
      span: undefined,
      waitingForConcurrency: false,
      error: undefined,
    };
    this.runs.set(rec.id, run);
    return run;
  }

  /**
   * Builds a stored run: steps that were running when their process died go again (at-least-once
   * for those), and steps that ran before read their children's links before they run again.
   *
   * `childLinks`, when the caller read them already (the links of each unfinished step that ran):
   * a step whose list is empty gets no registry at all, since a spawn creates a fresh one (loaded:
   * nothing to read); a step with links gets them attached. Waking 20,000 one-step sleepers, the
   * registries of steps that never spawned were ~730 of the ~16,000 bytes allocated per wake-up
   * (four Maps and a Set each). Without `childLinks` (a claimed run) every step that ran gets a
   * registry to be attached later.
   */
  restore(
    rec: RunRecord,
    plan: WorkflowPlan,
    stored: readonly StepRecord[],
    waits: readonly WaitRecord[] = [],
    childLinks?: (step: string) => readonly ChildLink[],
  ): ActiveRun {
    const run = this.hydrate(rec, plan, fromJson(rec.input), fromJson(rec.globals) ?? {}, stored);
    for (const wait of waits) {
      const step = run.steps.get(wait.step);
      if (step) waitsToWrite(step).set(wait.key, wait);
    }
    if (rec.concurrencyKey !== null) run.waitingForConcurrency = rec.status === 'queued';
    for (const step of run.steps.values()) {
      const s = step.rec;
      // Read by the caller for the steps that ran and have not ended (see RunLoading.loadMany).
      const links = childLinks && s.attempts > 0 && !isTerminalStep(s.status) ? childLinks(step.def.name) : undefined;
      if (s.status === 'running') {
        step.interrupted++;
        s.status = 'queued';
      } else if (s.status === 'waiting' && ![...step.waits.values()].some((w) => w.status === 'pending')) {
        // Its wait was settled while the run was out of memory: it goes on where it waited.
        s.status = 'queued';
        step.resuming = true;
      }
      if (s.attempts === 0 || links?.length === 0) continue;
      step.children = new ChildRegistry(false, this.childIndex);
      if (links) step.children.attach(links, (runId) => this.runs.get(runId)?.rec);
    }
    return run;
  }

  /** Takes the run out of memory; its children leave the index. (Timers are the caller's.) */
  remove(run: ActiveRun): void {
    run.resident = false;
    if (this.runs.get(run.rec.id) === run) this.runs.delete(run.rec.id);
    for (const step of run.steps.values()) step.children?.unindex();
  }

  /** Keeps the run's callers while it is out of memory, for when it is loaded again. */
  park(run: ActiveRun): void {
    const { settle, done } = run.waiters;
    if (!settle.length && !done.length) return;
    const parked = this.parked.get(run.rec.id);
    if (parked) {
      parked.settle.push(...settle);
      parked.done.push(...done);
    } else this.parked.set(run.rec.id, { settle: [...settle], done: [...done] });
    run.waiters = { settle: [], done: [] };
  }

  /** Callers waiting on a run that is out of memory: added to its parked waiters. */
  parkedWaiters(runId: string): RunWaiters {
    let parked = this.parked.get(runId);
    if (!parked) {
      parked = { settle: [], done: [] };
      this.parked.set(runId, parked);
    }
    return parked;
  }

  private unpark(runId: string): RunWaiters {
    const parked = this.parked.get(runId);
    if (!parked) return { settle: [], done: [] };
    this.parked.delete(runId);
    return parked;
  }

  /** Every parked caller, by run, taken out (on close). */
  takeParked(): Array<[string, RunWaiters]> {
    const all = [...this.parked];
    this.parked.clear();
    return all;
  }

  clear(): void {
    for (const run of this.runs.values()) run.resident = false;
    this.runs.clear();
  }
}

/** Up to this many stored steps, hydrate finds each by a scan instead of building a Map. */
const FEW_STEPS = 8;

/** The stored steps that started, in start order (ties in declaration order). */
function startOrderOf(stored: readonly StepRecord[], plan: WorkflowPlan): string[] {
  const started: Array<[string, number]> = [];
  for (const s of stored) if (s.startedAt !== null) started.push([s.name, s.startedAt]);
  // One step cannot tie: no declaration order to build.
  if (started.length < 2) return started.map(([name]) => name);
  return inStartOrder(
    started,
    plan.workflow.steps.map((d) => d.name),
  );
}

function blankStep(runId: string, name: string): StepRecord {
  return {
    runId,
    name,
    status: 'pending' satisfies StepStatus,
    attempts: 0,
    output: null,
    error: null,
    startedAt: null,
    finishedAt: null,
    nextAttemptAt: null,
    route: null,
    cacheHit: false,
    fallbackUsed: false,
  };
}
