import { RunNotFoundError, WorkflowNotRegisteredError } from '../model/errors.js';
import type { Store } from '../store/store.js';
import {
  type ChildLink,
  isTerminalRun,
  isTerminalStep,
  type RunRecord,
  type StepRef,
  type WaitRecord,
} from '../store/types.js';
import type { Clock } from './clock.js';
import type { Concurrency } from './concurrency.js';
import type { Dispatcher } from './dispatcher.js';
import type { RunLifecycle } from './lifecycle.js';
import type { RunObserver } from './observer.js';
import type { ClusterPort } from './ports.js';
import type { WorkflowRegistry } from './registry.js';
import type { RunSleep } from './runSleep.js';
import { type ActiveRun, isActive } from './runState.js';
import type { RunTable } from './runTable.js';
import type { Suspensions } from './suspensions.js';
import type { Wakeups } from './wakeups.js';

const NO_LINKS: readonly ChildLink[] = [];
const noLinks = () => NO_LINKS;
const linkKey = (runId: string, step: string) => `${runId}\u0000${step}`;

/** How many runs one read of their steps and waits brings back. */
const LOAD_BATCH = 500;

/**
 * How runs come back into memory from the store: every unfinished run at open (recovery), runs
 * asleep whose time has come (the wake-up scan), runs asleep whose waits a commit just settled, and
 * a run asked for by pause, resume or cancel. A run is loaded with its steps and waits and marked
 * awake; what it does next is the lifecycle's. In a cluster, workers claim runs instead (see
 * ClaimedRuns): only waits settled by another process reach a run held here.
 */
export class RunLoading {
  constructor(
    private readonly store: Store,
    private readonly registry: WorkflowRegistry,
    private readonly runs: RunTable,
    private readonly observer: RunObserver,
    private readonly dispatcher: Dispatcher,
    private readonly suspensions: Suspensions,
    private readonly concurrency: Concurrency,
    private readonly hooks: {
      lifecycle(): RunLifecycle;
      sleep(): RunSleep;
      wakeups(): Wakeups;
      cluster(): ClusterPort | undefined;
      isClosed(): boolean;
    },
    private readonly clock: Clock,
  ) {}

  /** Loads every unfinished run of the registered workflows that is not in memory and resumes it. */
  async recover(): Promise<string[]> {
    if (this.hooks.cluster()) return []; // in a cluster, workers claim unfinished runs instead
    // Runs asleep until a later time stay rows: the wake-up path loads them when they are due.
    const records = await this.store.listUnfinishedRuns(this.registry.names(), this.clock.now());
    const lifecycle = this.hooks.lifecycle();
    const resumed: string[] = [];
    for (const run of await this.loadMany(records)) {
      if (run.rec.status === 'queued') this.concurrency.requeue(run);
      else lifecycle.continueRun(run);
      resumed.push(run.rec.id);
    }
    // The runs left in the store still hold their workflow's maxRuns slots: those asleep, and
    // those paused after they started (a pause keeps the slot). Count them before queued runs are
    // admitted (the simulation's seeds 14 and 158).
    const loaded = new Set(records.map((r) => r.id));
    const unloaded = [...(await this.store.listUnfinishedRuns(this.registry.names())), ...(await this.pausedRuns())];
    for (const rec of unloaded) {
      if (loaded.has(rec.id) || rec.status === 'queued' || rec.startedAt === null) continue;
      this.concurrency.occupyUnloaded(rec, this.registry.find(rec.workflow)?.workflow.options.maxRuns);
    }
    for (const run of this.concurrency.startable()) lifecycle.startRun(run);
    this.dispatcher.pump();
    await this.hooks.wakeups().scanNow();
    return resumed;
  }

  /** Every paused run of a workflow with a `maxRuns` (recovery counts their slots). */
  private async pausedRuns(): Promise<RunRecord[]> {
    const out: RunRecord[] = [];
    for (const name of this.registry.names()) {
      if (this.registry.find(name)?.workflow.options.maxRuns === undefined) continue;
      let cursor: string | undefined;
      do {
        const page = await this.store.listRuns({
          workflow: name,
          status: 'paused',
          limit: 1000,
          ...(cursor ? { cursor } : {}),
        });
        out.push(...page.runs);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
    }
    return out;
  }

  /** Runs asleep in the store whose wake-up time has come: load and advance them. */
  async wakeStored(records: readonly RunRecord[]): Promise<void> {
    if (this.hooks.isClosed()) return;
    for (const run of await this.loadMany(records)) {
      if (this.hooks.isClosed()) continue;
      // A debounced run, due: it starts now (or queues behind its workflow's maxRuns).
      if (run.rec.status === 'queued') this.hooks.lifecycle().admitLoaded(run);
      else if (isActive(run)) this.hooks.lifecycle().continueRun(run);
    }
    this.dispatcher.pump();
  }

  /**
   * Waits the store settled in a commit: a run in memory takes them and its steps go on; a run
   * asleep in the store had its wake-up moved to now by the commit: it is loaded at once (the
   * wake-up scan would find it too, a timer tick and two queries later).
   */
  waitsSettled(waits: readonly WaitRecord[]): void {
    const byRun = new Map<string, WaitRecord[]>();
    for (const wait of waits) {
      const list = byRun.get(wait.runId);
      if (list) list.push(wait);
      else byRun.set(wait.runId, [wait]);
    }
    const asleep: string[] = [];
    for (const [runId, settled] of byRun) {
      const run = this.runs.get(runId);
      if (run) this.suspensions.apply(run, settled);
      else asleep.push(runId);
    }
    if (asleep.length && !this.hooks.cluster()) void this.wakeNow(asleep);
  }

  /** Another process settled waits of runs held here (a cluster's `braid_waits`): read and apply them. */
  waitsSettledElsewhere(runIds: readonly string[]): void {
    for (const runId of runIds) {
      const run = this.runs.get(runId);
      if (!run || ![...run.steps.values()].some((s) => s.rec.status === 'waiting')) continue;
      this.store.getWaits(runId).then(
        (waits) => {
          if (this.runs.get(runId) !== run || !isActive(run)) return;
          // Settled waits only: those this engine knows settled already are skipped by `apply`.
          this.suspensions.apply(
            run,
            waits.filter((w) => w.status !== 'pending'),
          );
          this.dispatcher.pump();
        },
        () => {}, // the worker's safety poll asks again
      );
    }
  }

  /** The run in memory, loading it from the store if this process may run it (pause, resume, cancel). */
  async activeRun(runId: string): Promise<ActiveRun | undefined> {
    const inMemory = this.runs.get(runId);
    if (inMemory) return inMemory;
    const rec = await this.store.getRun(runId);
    if (!rec) throw new RunNotFoundError(runId);
    if (isTerminalRun(rec.status)) return undefined;
    if (this.hooks.cluster()) return this.runs.get(runId); // another process owns it, or will
    if (!this.registry.has(rec.workflow)) throw new WorkflowNotRegisteredError(rec.workflow, this.registry.names());
    return (await this.loadMany([rec]))[0] ?? this.runs.get(runId);
  }

  /**
   * A run that left memory while steps of it waited for a rate limit, whose turn has come: loaded
   * and carried on, those steps due now. False if it cannot take the turn (ended, paused, gone).
   */
  async wakeForTurn(runId: string, steps: readonly string[]): Promise<boolean> {
    const rec = await this.store.getRun(runId);
    if (!rec || isTerminalRun(rec.status) || this.hooks.isClosed()) return false;
    const [run] = await this.loadMany([rec]);
    const lifecycle = this.hooks.lifecycle();
    if (!run) {
      // Loaded meanwhile (by a pause, its wake-up): it is carried on already.
      const inMemory = this.runs.get(runId);
      return inMemory !== undefined && lifecycle.wakeForTurn(inMemory, steps) === 'woken';
    }
    if (!isActive(run)) return false; // paused: it asks again once resumed
    const now = this.clock.now();
    for (const name of steps) {
      const step = run.steps.get(name);
      if (step?.rec.status === 'queued' && step.rec.nextAttemptAt !== null) step.rec.nextAttemptAt = now;
    }
    lifecycle.continueRun(run);
    this.dispatcher.pump();
    return true;
  }

  /** Loads runs asleep in the store whose waits were just settled; the scan is the fallback. */
  private async wakeNow(runIds: string[]): Promise<void> {
    try {
      const records = await Promise.all(runIds.map((id) => this.store.getRun(id)));
      const due = records.filter((rec): rec is RunRecord => rec !== undefined && !isTerminalRun(rec.status));
      if (due.length) await this.wakeStored(due);
    } catch {
      // The store is away (or closing): the wake-up scan retries, and its row says it is due.
      this.hooks.wakeups().expectStored(this.clock.now());
    }
  }

  /**
   * Reads runs, their steps and waits, and the children of the steps that will run again, from the
   * store into memory (not yet scheduled), a few statements per batch of runs however many runs: a
   * step that never spawned costs no read of its own. Runs already in memory, or of workflows not
   * registered here, are left out.
   */
  private async loadMany(records: readonly RunRecord[]): Promise<ActiveRun[]> {
    const loaded: ActiveRun[] = [];
    for (let i = 0; i < records.length; i += LOAD_BATCH) {
      const batch = records
        .slice(i, i + LOAD_BATCH)
        .filter((rec) => !this.runs.has(rec.id) && this.registry.has(rec.workflow));
      if (!batch.length) continue;
      const states = await this.store.getRunStates(batch.map((rec) => rec.id));
      const rerun: StepRef[] = [];
      for (const [runId, state] of states) {
        for (const s of state.steps)
          if (s.attempts > 0 && !isTerminalStep(s.status)) rerun.push({ runId, step: s.name });
      }
      const links = rerun.length ? await this.store.getChildLinksOfSteps(rerun) : [];
      // Only the steps that spawned (most woken steps did not): those get a registry (see restore).
      let spawned: Map<string, readonly ChildLink[]> | undefined;
      for (let j = 0; j < rerun.length; j++) {
        const found = links[j];
        if (!found?.length) continue;
        spawned ??= new Map();
        spawned.set(linkKey(rerun[j]!.runId, rerun[j]!.step), found);
      }
      for (const rec of batch) {
        if (this.runs.has(rec.id)) continue; // loaded meanwhile (by a pause, say)
        const state = states.get(rec.id);
        const linksOf = spawned ? (step: string) => spawned.get(linkKey(rec.id, step)) ?? NO_LINKS : noLinks;
        const run = this.runs.restore(
          rec,
          this.registry.find(rec.workflow)!,
          state?.steps ?? [],
          state?.waits,
          linksOf,
        );
        this.suspensions.noteWokenOnLoad(run);
        this.hooks.sleep().markAwake(run);
        this.observer.openRunSpan(run, undefined);
        loaded.push(run);
      }
    }
    return loaded;
  }
}
