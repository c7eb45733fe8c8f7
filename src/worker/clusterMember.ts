import type { ClusterPort, EngineControl, SlotGates } from '../engine/ports.js';
import { InvalidConfigError, LeaseLostError } from '../model/errors.js';
import type { Workflow } from '../model/workflow.js';
import { type ClaimableWorkflow, type Coordination, RUN_SLOT_PREFIX, type WorkflowRef } from '../store/coordination.js';
import type { Store } from '../store/store.js';
import { type EventRecord, isTerminalRun, type RunRecord } from '../store/types.js';
import { EventFeed } from './eventFeed.js';
import { ProgressSharing, readProgressNotice } from './progressSharing.js';

export interface WorkerOptions {
  /**
   * Claim and run unfinished runs of the registered workflows (a worker). False makes a process
   * that only starts runs and waits for their results (an API server, a script). Default true.
   */
  claim?: boolean;
  /** How long a worker's hold on its runs lasts without a heartbeat. Default 30 s. */
  leaseMs?: number;
  /** Heartbeat period. Default a third of the lease. */
  heartbeatMs?: number;
  /**
   * Safety poll: claims, reaps expired workers and re-checks waits even if a notification was
   * lost. Notifications do the real work; this is a backstop. Default 5 s.
   */
  pollMs?: number;
  /** On shutdown, how long running steps may take to finish before they are stopped. Default 30 s. */
  shutdownGraceMs?: number;
  /**
   * Steps executing at once across ALL workers (a semaphore in the database), on top of each
   * worker's own `maxParallelNodes`. Every worker of the cluster should set the same value.
   * It costs a few database round trips per step start, so leave it unset unless you need it:
   * a resource pool (`pools`, `step.pool`) limits just the steps that use a scarce resource.
   */
  globalMaxParallelNodes?: number;
  /** Where the worker reports what it does (lease lost, stranded runs...). Default console.error. */
  log?: (line: string) => void;
}

const MAX_CLAIM = 500;
/** How long commits announce their events after a feed's announcement (feeds renew it more often). */
const FEED_NOTICE_MS = 60_000;

interface SettleWait {
  orPaused: boolean;
  /** With the run's record once it has settled; undefined if there is no such run. */
  resolve: (rec: RunRecord | undefined) => void;
}

/**
 * One process's membership in a cluster sharing a scale-out store: it claims runs for its engine
 * (when it is a worker), renews its lease, hears other processes' notifications, and waits for
 * runs that other processes run. The engine sees it through its ClusterPort; it sees the engine
 * through the engine's EngineControl port.
 *
 * Real time throughout (Date.now, Node's timers), not the engine's clock: leases and wake-up times
 * are judged by the database's clock, and an executor on a scale-out store always runs on the
 * system clock (a custom one is refused: see Store.usesDatabaseClock).
 */
export class ClusterMember implements ClusterPort {
  private workerId: string | null = null;
  private readonly claims: boolean;
  private readonly leaseMs: number;
  private readonly heartbeatMs: number;
  private readonly pollMs: number;
  private readonly graceMs: number;
  readonly gates: SlotGates;
  private readonly log: (line: string) => void;
  private readonly waits = new Map<string, SettleWait[]>();
  private readonly toRecheck = new Set<string>();
  private recheckScheduled = false;
  private readonly poolWaits = new Map<string, Array<() => void>>();
  private readonly pendingHandBacks = new Set<string>();
  private readonly reportedStranded = new Set<string>();
  private suspectedOrphans = new Set<string>();
  private unlisten: (() => Promise<void>) | undefined;
  private readonly feed: EventFeed;
  private readonly streamListeners = new Set<(runIds: readonly string[]) => void>();
  private readonly progressSharing: ProgressSharing;
  private readonly progressListeners = new Set<
    (notice: { runId: string; step: string; at: number; value: unknown }) => void
  >();
  private readonly settledListeners = new Set<(runIds: readonly string[]) => void>();
  private stopLocalEvents: (() => void) | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private claiming = false;
  /** Cleared when a claim comes back short; set by every sign that runs may be waiting. */
  private queueMayHaveWork = true;
  private readySignals = 0;
  private claimAgain = false;
  private claimScheduled = false;
  /** braid_waits notices heard while a claim was under way: the claimed runs may be among them. */
  private readonly waitNoticesInClaim = new Set<string>();
  /**
   * braid_settled notices heard while a claim was under way, of runs nothing here awaited then: a
   * claimed run may await them (the claim read its steps' child links with a snapshot from before
   * they settled), and it is not held until the claim is adopted.
   */
  private readonly settledNoticesInClaim = new Set<string>();
  /** One timer for the earliest run asleep in the store (handed back by any worker). */
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeTimerAt = Number.POSITIVE_INFINITY;
  /** Set by every sign that runs may sleep in the store until a time we have no timer for. */
  private sleepersMayExist = true;
  private handBackScheduled = false;
  private stopping = false;
  private registering = false;
  private lastHeartbeat = Date.now();
  private databaseDown = false;

  constructor(
    private readonly engine: EngineControl,
    private readonly store: Store,
    private readonly coordination: Coordination,
    options: WorkerOptions = {},
  ) {
    this.claims = options.claim ?? true;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.heartbeatMs = options.heartbeatMs ?? Math.max(100, Math.floor(this.leaseMs / 3));
    this.pollMs = options.pollMs ?? 5_000;
    this.graceMs = options.shutdownGraceMs ?? 30_000;
    const global = options.globalMaxParallelNodes;
    if (global !== undefined && (!Number.isInteger(global) || global < 1)) {
      throw new InvalidConfigError('worker.globalMaxParallelNodes', `must be a whole number >= 1, got ${global}.`);
    }
    for (const key of ['leaseMs', 'heartbeatMs', 'pollMs', 'shutdownGraceMs'] as const) {
      const value = options[key];
      if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
        throw new InvalidConfigError(`worker.${key}`, `must be a number of milliseconds > 0, got ${value}.`);
      }
    }
    this.gates = {
      globalMaxParallelNodes: global,
      acquire: (gate, holder, capacity, priority) => this.acquireGate(gate, holder, capacity, priority),
      release: (gate, holder) => this.releaseGate(gate, holder),
    };
    this.log = options.log ?? ((line) => console.error(line));
    this.feed = new EventFeed(store, coordination);
    this.progressSharing = new ProgressSharing(coordination);
  }

  /** Tells the other processes of a step's progress here (throttled; see ProgressSharing). */
  shareProgress(runId: string, step: string, value: unknown, at: number): void {
    this.progressSharing.report(runId, step, value, at);
  }

  /** Hears the progress steps report in other processes, and the runs that settled anywhere. */
  onProgressNotices(
    progress: (notice: { runId: string; step: string; at: number; value: unknown }) => void,
    settled: (runIds: readonly string[]) => void,
  ): () => void {
    this.progressListeners.add(progress);
    this.settledListeners.add(settled);
    return () => {
      this.progressListeners.delete(progress);
      this.settledListeners.delete(settled);
    };
  }

  /** Every process's committed events (see EventFeed): `executor.onEvents` in a cluster. */
  onEvents(listener: (events: readonly EventRecord[]) => void): () => void {
    this.stopLocalEvents ??= this.engine.onCommitted((events) => this.feed.committedHere(events));
    return this.feed.subscribe(listener);
  }

  /**
   * Runs whose stream chunks another process committed (braid_streams). Commits announce them only
   * while a live feed is open somewhere, so a stream reader also holds one (`onEvents`).
   */
  onStreamNotices(listener: (runIds: readonly string[]) => void): () => void {
    this.streamListeners.add(listener);
    return () => this.streamListeners.delete(listener);
  }

  get runsSteps(): boolean {
    return this.claims;
  }

  /** The worker's id in the store (null for a process that does not claim). */
  get id(): string | null {
    return this.workerId;
  }

  async start(): Promise<void> {
    this.unlisten = await this.coordination.listen({
      ready: () => this.workMayWait(),
      settled: (ids) => this.onSettled(ids),
      waits: (ids) => this.onWaits(ids),
      asleep: (inMs) => this.expectWake(inMs),
      control: (ids) => this.onControl(ids),
      slots: (names) => this.onSlots(names),
      events: () => this.feed.committedElsewhere(),
      feedAnnounced: () => this.coordination.sendEventNotices(Date.now() + FEED_NOTICE_MS),
      streams: (ids) => {
        for (const listener of this.streamListeners) listener(ids);
      },
      progress: (payload) => {
        const notice = readProgressNotice(payload);
        if (notice) for (const listener of this.progressListeners) listener(notice);
      },
      reconnected: () => this.onReconnected(),
      disconnected: (error) => this.onDisconnected(error),
    });
    if (this.claims) {
      await this.register();
      this.heartbeatTimer = setInterval(() => this.heartbeat(), this.heartbeatMs);
    }
    this.pollTimer = setInterval(() => this.poll(), this.pollMs);
    if (!this.claims) this.pollTimer.unref();
    this.workMayWait();
  }

  /**
   * Graceful stop: claim nothing more, let running steps finish within the grace period, stop the
   * rest, commit, and hand every run still held back to the queue for the other workers.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.engine.stopDispatching();
    const deadline = Date.now() + this.graceMs;
    while (this.engine.runningSteps > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    clearInterval(this.heartbeatTimer);
    clearInterval(this.pollTimer);
    clearTimeout(this.wakeTimer);
    this.progressSharing.stop();
    await this.engine.close();
    if (this.workerId) {
      await this.coordination.deregisterWorker(this.workerId).catch((error) => {
        this.log(`[braid] could not hand runs back on shutdown (they return when the lease expires): ${error}`);
      });
    }
    this.store.setWorker?.(null);
    for (const waiters of this.poolWaits.values()) for (const wake of waiters) wake();
    this.poolWaits.clear();
    this.stopLocalEvents?.();
    this.feed.stop();
    await this.unlisten?.();
  }

  // -------------------------------------------------------------------------------------------
  // Cluster (what the engine asks)

  runsLocally(workflow: Workflow<any, any, any>): boolean {
    if (!this.claims || this.stopping || this.workerId === null) return false;
    // Runs under a concurrency limit are admitted against the slots in the database, at claim.
    return workflow.options.maxRuns === undefined;
  }

  waitUntilSettled(runId: string, orPaused: boolean): Promise<RunRecord | undefined> {
    return new Promise((resolve) => {
      const list = this.waits.get(runId);
      const wait = { orPaused, resolve };
      if (list) list.push(wait);
      else this.waits.set(runId, [wait]);
      // It may have settled before we started listening for it.
      this.recheck([runId]);
    });
  }

  private async acquireGate(pool: string, holder: string, capacity: number, priority = 0): Promise<boolean> {
    // A wait belongs to one lease: once it is lost, the run may be another worker's, which holds
    // this holder's unit; asking under a new id would take that unit over (acquire's `mine`).
    const workerId = this.workerId;
    while (!this.stopping && workerId !== null && this.workerId === workerId) {
      // Listen before asking, so a release between the refusal and the wait is not missed.
      const freed = new Promise<void>((resolve) => {
        const list = this.poolWaits.get(pool);
        if (list) list.push(resolve);
        else this.poolWaits.set(pool, [resolve]);
      });
      if (await this.coordination.acquire(pool, holder, capacity, workerId, priority)) return true;
      await freed;
    }
    return false;
  }

  private releaseGate(pool: string, holder: string): void {
    // Without a lease (lost: the reaper freed our holds) there is nothing of ours to give back, and
    // the run's new owner may hold this very holder's unit now.
    const workerId = this.workerId;
    if (workerId === null) return;
    this.coordination.release(pool, holder, workerId).catch((error) => {
      // The hold dies with this worker's lease at the latest.
      this.log(`[braid] could not release a slot of pool "${pool}": ${error}`);
    });
  }

  cancelUnstarted(runId: string, error: string): Promise<boolean> {
    return this.coordination.cancelUnstarted(runId, error);
  }

  handBack(runIds: readonly string[]): void {
    if (!this.workerId || !runIds.length) return;
    for (const id of runIds) this.pendingHandBacks.add(id);
    // Coalesced: the runs that fall asleep after one commit go back in one statement.
    if (this.handBackScheduled) return;
    this.handBackScheduled = true;
    setImmediate(() => {
      this.handBackScheduled = false;
      this.flushHandBacks();
    });
  }

  capacityFreed(): void {
    // Only when runs may be waiting: a claim per finished run would double the queries of a
    // worker that runs what it starts (measured: PostgreSQL CPU per W4 run halved without it).
    if (this.queueMayHaveWork) this.scheduleClaim();
  }

  /** Runs may be waiting in the queue (a notification, a start, a reconnection, the poll). */
  private workMayWait(): void {
    this.readySignals++;
    this.queueMayHaveWork = true;
    this.scheduleClaim();
  }

  // -------------------------------------------------------------------------------------------
  // Claiming

  private scheduleClaim(): void {
    if (!this.claims || this.stopping || this.claimScheduled) return;
    this.claimScheduled = true;
    setImmediate(() => {
      this.claimScheduled = false;
      this.claim();
    });
  }

  private claim(): void {
    if (this.claiming) {
      this.claimAgain = true;
      return;
    }
    const workerId = this.workerId;
    const limit = Math.min(this.engine.spareCapacity, MAX_CLAIM);
    if (!workerId || this.stopping || this.engine.isClosed || limit <= 0) return;
    this.claiming = true;
    this.claimAgain = false;
    const signalsBefore = this.readySignals;
    this.coordination.claimRuns(workerId, this.claimable(), limit).then(
      (claimed) => {
        this.claiming = false;
        this.databaseIsBack();
        // A short claim emptied the queue, unless a notification came in the meantime.
        const isShort = claimed.length < limit;
        if (isShort && this.readySignals === signalsBefore) this.queueMayHaveWork = false;
        if (this.stopping || this.workerId !== workerId) {
          this.coordination
            .releaseRuns(
              workerId,
              claimed.map((c) => c.run.id),
            )
            .catch(() => {});
          return;
        }
        for (const c of claimed) this.engine.adopt(c);
        this.noticesHeardInClaim();
        if (claimed.length === limit || this.claimAgain) this.scheduleClaim();
        else if (isShort) this.armForNextSleeper();
      },
      (error) => {
        this.claiming = false;
        this.noticesHeardInClaim();
        this.databaseIsDown(error);
      },
    );
  }

  /**
   * The queue is empty of due runs: arm the one wake-up timer for the earliest run asleep in the
   * store. Asked only when runs may sleep there unbeknown to the timer (at start, after the timer
   * fired, on the poll, after a reconnection); a hand-back's braid_asleep notice arms it directly.
   * So a worker with no sleeping runs in its database pays no query per claim.
   */
  private armForNextSleeper(): void {
    if (!this.sleepersMayExist || this.stopping) return;
    this.sleepersMayExist = false;
    this.coordination.nextWakeIn(this.claimable().map((w) => w.name)).then(
      (inMs) => {
        if (inMs !== null) this.expectWake(inMs);
      },
      (error) => {
        this.sleepersMayExist = true;
        this.databaseIsDown(error);
      },
    );
  }

  /** A run asleep in the store is due in `inMs` (by the database's clock): claim then. */
  private expectWake(inMs: number): void {
    if (!this.claims || this.stopping || !Number.isFinite(inMs)) return;
    // Not sooner than 5 ms: a run due by this host's clock but not yet by the database's would
    // otherwise be asked for in a tight loop.
    const delayMs = Math.max(5, inMs);
    const at = Date.now() + delayMs;
    if (this.wakeTimer !== undefined && this.wakeTimerAt <= at) return;
    clearTimeout(this.wakeTimer);
    this.wakeTimerAt = at;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined;
      this.wakeTimerAt = Number.POSITIVE_INFINITY;
      // After these are claimed, the next claim that comes back short arms the timer again.
      this.sleepersMayExist = true;
      this.workMayWait();
    }, delayMs);
  }

  private claimable(): ClaimableWorkflow[] {
    return this.engine.claimableWorkflows();
  }

  private async register(): Promise<void> {
    const refs: WorkflowRef[] = this.claimable().map(({ name, version }) => ({ name, version }));
    this.workerId = await this.coordination.registerWorker(refs, this.leaseMs);
    this.store.setWorker?.(this.workerId);
    this.lastHeartbeat = Date.now();
  }

  private heartbeat(): void {
    const workerId = this.workerId;
    if (!workerId || this.stopping) return;
    this.coordination.heartbeat(workerId, this.leaseMs).then(
      (alive) => {
        this.databaseIsBack();
        if (alive) {
          this.lastHeartbeat = Date.now();
          return;
        }
        this.leaseLost('another worker reaped its lease');
      },
      (error) => {
        this.databaseIsDown(error);
        // Without a heartbeat for a whole lease, other workers may have taken our runs: stop
        // working on them rather than race the new owners (whose results would win anyway).
        if (Date.now() - this.lastHeartbeat > this.leaseMs) this.leaseLost('no heartbeat for a whole lease');
      },
    );
  }

  private leaseLost(why: string): void {
    if (this.stopping || this.workerId === null) return;
    const workerId = this.workerId;
    this.log(`[braid] worker ${workerId} lost its lease (${why}); dropping its runs and registering again.`);
    this.workerId = null;
    // The store keeps committing as the old id, which owns nothing now: whatever the dropped runs
    // still had queued for commit is refused rather than written over their new owners' state.
    this.engine.dropAll(new LeaseLostError(workerId, why));
    this.pendingHandBacks.clear();
    this.rejoin();
  }

  /** Registers again under a new id; if the database is away, the safety poll tries again. */
  private rejoin(): void {
    if (this.registering) return;
    this.registering = true;
    this.register().then(
      () => {
        this.registering = false;
        this.databaseIsBack();
        this.workMayWait();
      },
      (error) => {
        this.registering = false;
        this.databaseIsDown(error);
      },
    );
  }

  // -------------------------------------------------------------------------------------------
  // Notifications and the safety poll

  private onSettled(ids: readonly string[]): void {
    for (const listener of this.settledListeners) listener(ids);
    const interesting = ids.filter((id) => this.waits.has(id) || this.engine.awaitsChild(id));
    if (interesting.length) this.recheck(interesting);
    if (this.claiming && interesting.length < ids.length) {
      const taken = new Set(interesting);
      for (const id of ids) if (!taken.has(id)) this.settledNoticesInClaim.add(id);
    }
  }

  /** Reads the runs and resolves the waits (and parents' joins) of those that have settled. */
  private recheck(ids: readonly string[]): void {
    // Coalesced: the settles of one tick (a fan-out's children, many waiting callers) are one read.
    for (const id of ids) this.toRecheck.add(id);
    if (this.recheckScheduled) return;
    this.recheckScheduled = true;
    setImmediate(() => {
      this.recheckScheduled = false;
      const batch = [...this.toRecheck];
      this.toRecheck.clear();
      if (batch.length) this.readAndSettle(batch);
    });
  }

  private readAndSettle(ids: readonly string[]): void {
    this.coordination.getRuns(ids).then(
      (records) => {
        this.engine.childrenSettled(records);
        const found = new Set<string>();
        for (const rec of records) {
          found.add(rec.id);
          const list = this.waits.get(rec.id);
          if (!list) continue;
          const ended = isTerminalRun(rec.status);
          const keep = list.filter((w) => {
            if (ended || (w.orPaused && rec.status === 'paused')) {
              w.resolve(rec);
              return false;
            }
            return true;
          });
          if (keep.length) this.waits.set(rec.id, keep);
          else this.waits.delete(rec.id);
        }
        for (const id of ids) {
          if (found.has(id)) continue;
          for (const w of this.waits.get(id) ?? []) w.resolve(undefined);
          this.waits.delete(id);
        }
      },
      (error) => this.databaseIsDown(error), // the poll or the reconnection re-checks
    );
  }

  /** Another process settled waits of runs: those this engine holds take them. */
  private onWaits(ids: readonly string[]): void {
    if (this.claiming) {
      // A run being claimed now is not held yet: heard again once the claim is adopted.
      for (const id of ids) this.waitNoticesInClaim.add(id);
      return;
    }
    const held = ids.filter((id) => this.engine.holds(id));
    if (held.length) this.engine.waitsSettledElsewhere(held);
  }

  /** The notices a claim's runs may have missed while it was under way, now that they are held. */
  private noticesHeardInClaim(): void {
    if (this.settledNoticesInClaim.size) {
      const settled = [...this.settledNoticesInClaim].filter((id) => this.engine.awaitsChild(id));
      this.settledNoticesInClaim.clear();
      if (settled.length) this.recheck(settled);
    }
    if (!this.waitNoticesInClaim.size) return;
    const ids = [...this.waitNoticesInClaim];
    this.waitNoticesInClaim.clear();
    this.onWaits(ids);
  }

  private onControl(ids: readonly string[]): void {
    const workerId = this.workerId;
    const mine = ids.filter((id) => this.engine.holds(id));
    if (!workerId || !mine.length) return;
    this.coordination.takeControls(workerId, mine).then(
      (controls) => this.engine.applyControls(controls),
      (error) => this.databaseIsDown(error),
    );
  }

  private onSlots(names: readonly string[]): void {
    // A run's concurrency slot was freed: a queued run of its group may be admitted now.
    if (names.some((name) => name.startsWith(RUN_SLOT_PREFIX))) this.workMayWait();
    for (const name of names) {
      const waiters = this.poolWaits.get(name);
      if (!waiters) continue;
      this.poolWaits.delete(name);
      for (const wake of waiters) wake();
    }
  }

  private onDisconnected(error: unknown): void {
    this.databaseIsDown(error);
  }

  /** Notifications sent while the listener was away are lost: catch up on everything. */
  private onReconnected(): void {
    this.log('[braid] reconnected to the database; catching up.');
    this.databaseIsBack();
    this.catchUp();
  }

  private poll(): void {
    if (this.stopping) return;
    // The lease was lost while the database was away: join again once it answers.
    if (this.claims && this.workerId === null) this.rejoin();
    this.catchUp();
    if (this.claims) {
      this.reconcileOwnership();
      this.coordination.reapExpiredWorkers().then(
        (dead) => {
          if (dead.length)
            this.log(`[braid] reaped expired worker(s) ${dead.join(', ')}; their runs are back in the queue.`);
        },
        () => {},
      );
      this.reportStranded();
    }
  }

  /**
   * Backstop: runs the database says this worker owns but its engine does not hold (a claim whose
   * answer was lost with the connection, say) go back to the queue. Skipped while a claim is under
   * way, and a run must look orphaned on two polls in a row, so one being adopted is left alone.
   */
  private reconcileOwnership(): void {
    const workerId = this.workerId;
    if (!workerId || this.claiming) return;
    this.coordination.ownedRuns(workerId).then(
      (ids) => {
        if (this.claiming || this.workerId !== workerId) return;
        const orphans = ids.filter((id) => !this.engine.holds(id));
        const twice = orphans.filter((id) => this.suspectedOrphans.has(id));
        this.suspectedOrphans = new Set(orphans);
        if (twice.length) this.handBack(twice);
      },
      () => {},
    );
  }

  private catchUp(): void {
    if (this.waits.size) this.recheck([...this.waits.keys()]);
    const children = this.engine.awaitedChildren();
    if (children.length) this.recheck(children);
    const held = this.engine.heldRunIds();
    this.onControl(held);
    // A braid_waits notice may have been lost: runs held here that wait read their waits again.
    this.engine.waitsSettledElsewhere(held);
    this.sleepersMayExist = true;
    this.onSlots([...this.poolWaits.keys()]);
    this.feed.committedElsewhere();
    this.flushHandBacks();
    this.engine.dispatch();
    this.workMayWait();
  }

  private flushHandBacks(): void {
    const workerId = this.workerId;
    if (!workerId || !this.pendingHandBacks.size) return;
    // Runs this process picked up again meanwhile are not handed back.
    const ids = [...this.pendingHandBacks].filter((id) => !this.engine.holds(id));
    this.pendingHandBacks.clear();
    this.coordination.releaseRuns(workerId, ids).then(
      () => this.databaseIsBack(),
      (error) => {
        for (const id of ids) this.pendingHandBacks.add(id);
        this.databaseIsDown(error);
      },
    );
  }

  /** Says, once per run, that a run waits for a version of its workflow this worker lacks. */
  private reportStranded(): void {
    const workerId = this.workerId;
    if (!workerId) return;
    const refs = this.claimable().map(({ name, version }) => ({ name, version }));
    this.coordination.findStrandedRuns(refs, 50).then(
      async (runs) => {
        for (const run of runs) {
          if (this.reportedStranded.has(run.id)) continue;
          this.reportedStranded.add(run.id);
          const offered = refs.filter((r) => r.name === run.workflow).map((r) => r.version);
          // The event first: whoever reads the log line finds it on the run.
          await this.coordination.reportStranded(run, offered, workerId);
          this.log(
            `[braid] run ${run.id} needs workflow "${run.workflow}" version "${run.version}"; this worker has ` +
              `${offered.map((v) => `"${v}"`).join(', ')}. It stays queued until a worker with that version starts.`,
          );
        }
      },
      () => {},
    );
  }

  private databaseIsDown(error: unknown): void {
    if (this.databaseDown || this.stopping) return;
    this.databaseDown = true;
    this.log(`[braid] lost the database (${(error as Error)?.message ?? error}); retrying with backoff.`);
  }

  private databaseIsBack(): void {
    if (!this.databaseDown) return;
    this.databaseDown = false;
  }
}
