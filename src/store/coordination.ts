import type { ChildLink, RunControl, RunRecord, StepRecord, WaitRecord } from './types.js';

/**
 * What a scale-out store adds to `Store` so that many processes can share it: worker leases,
 * claiming runs, semaphores held in the database, and notifications between processes. The
 * engine and the worker use only this interface; `PostgresStore` implements it.
 */
export interface Coordination {
  /** Registers a worker process that can run these workflows; returns its id. */
  registerWorker(workflows: readonly WorkflowRef[], leaseMs: number): Promise<string>;
  /** Renews the lease of every run the worker owns. False when the lease was lost (reaped). */
  heartbeat(workerId: string, leaseMs: number): Promise<boolean>;
  /** Removes the worker and hands back whatever it still owns (graceful shutdown). */
  deregisterWorker(workerId: string): Promise<void>;
  /**
   * Hands the runs of workers whose lease expired back to the queue and frees their semaphore
   * holds. Returns the ids of the workers it reaped.
   */
  reapExpiredWorkers(): Promise<string[]>;
  /**
   * Claims up to `limit` runs no worker holds, oldest first, of the given workflows only, with
   * their steps and waits. Runs asleep (handed back with a wake-up time) are claimable once that
   * time has come by the store's clock, or at once when an event or input settled one of their
   * waits (or a control request came). Runs of a workflow with `maxRuns` are admitted here, against
   * the slots held in the database; a run over the limit is claimed with `denied` set only under
   * cancel-newest.
   */
  claimRuns(workerId: string, workflows: readonly ClaimableWorkflow[], limit: number): Promise<ClaimedRun[]>;
  /**
   * How long, by the store's clock, until the earliest unowned run of these workflows that sleeps
   * until a time is due (0 if one is due now); null if none sleeps until a time.
   */
  nextWakeIn(workflows: readonly string[]): Promise<number | null>;
  /**
   * Cancels a queued run that no worker holds and whose steps never started, with its
   * run_cancelled event and settled notice; false when it is held, started or finished.
   */
  cancelUnstarted(runId: string, error: string): Promise<boolean>;
  /** The ids of the unfinished runs the database says this worker owns. */
  ownedRuns(workerId: string): Promise<string[]>;
  /**
   * Gives runs back to the queue (after a failed commit, or asleep: their row has a wake-up time),
   * so a worker claims them again, at once or when they are due. A run one of whose waiting steps
   * had its waits settled meanwhile is due at once.
   */
  releaseRuns(workerId: string, runIds: readonly string[]): Promise<void>;
  /** The cancel / pause / resume requests waiting on runs this worker owns; clears them. */
  takeControls(workerId: string, runIds: readonly string[]): Promise<RunControl[]>;
  /** Tells every process that a live event feed is open here (renew it while it is). */
  announceEventFeed(): Promise<void>;
  /** This process's commits announce their events until `untilMs` (epoch ms). */
  sendEventNotices(untilMs: number): void;
  /** The highest event seq committed so far (where a live feed starts). */
  latestEventSeq(): Promise<number>;
  /** The current records of these runs (finished children, waited-on runs). */
  getRuns(runIds: readonly string[]): Promise<RunRecord[]>;
  /** Unclaimed runs of these workflow names whose version no worker offers; see reportStranded. */
  findStrandedRuns(workflows: readonly WorkflowRef[], limit: number): Promise<RunRecord[]>;
  /** Records once, as a `run_queued` event, that a run waits for a worker with its version. */
  reportStranded(run: RunRecord, offered: readonly string[], workerId: string): Promise<boolean>;
  /**
   * Takes one unit of a semaphore for `holder`, if one is free and it is the holder's turn among
   * the waiters (by `priority`, then arrival, with the oldest's turn every OLDEST_EVERY grants);
   * held until `release` or the worker's death. A refused holder waits in line for a freed unit.
   */
  acquire(name: string, holder: string, capacity: number, workerId: string, priority?: number): Promise<boolean>;
  /**
   * Gives back `holder`'s unit (or its place in line) if `workerId` holds it: a worker that lost
   * its lease must not free the unit the run's new owner took under the same holder name.
   */
  release(name: string, holder: string, workerId: string): Promise<void>;
  /** Per gate: units held (busy) and steps waiting for one, across every worker. */
  gateUsage(names: readonly string[]): Promise<Map<string, { busy: number; waiting: number }>>;
  /**
   * Listens for notifications on a dedicated connection that reconnects by itself (with backoff)
   * when the database goes away; `onReconnect` fires after each reconnection, because
   * notifications sent meanwhile are lost. Resolves once listening; the returned function stops.
   */
  listen(handlers: NotificationHandlers): Promise<() => Promise<void>>;
  /** Tells every listening process of a step's progress (`payload`: what `progress` handlers get). */
  shareProgress?(payload: string): Promise<void>;
}

/** Semaphores named with this prefix are run concurrency slots (a workflow's maxRuns per key). */
export const RUN_SLOT_PREFIX = 'runs:';

export interface WorkflowRef {
  name: string;
  version: string;
}

export interface ClaimableWorkflow extends WorkflowRef {
  /** The workflow's maxRuns per concurrency key, if it has one. */
  maxRuns?: number;
  onConcurrencyLimit?: 'queue' | 'cancel-newest' | 'cancel-oldest';
}

export interface ClaimedRun {
  run: RunRecord;
  steps: StepRecord[];
  /** The waits of its steps, pending and settled. */
  waits: WaitRecord[];
  /**
   * The children each of its unfinished steps that ran before has spawned (possibly none), read
   * with the claim, so that the step, run again, needs no read of its own. Absent: not read (the
   * step reads them when it runs). Read before the claim was adopted: a child settled meanwhile
   * is told by its braid_settled notice, which the claimer keeps until it has adopted the run.
   */
  childLinks?: Array<{ step: string; links: ChildLink[] }>;
  /** A control asked for while no worker held the run. */
  control: RunControl | null;
  /**
   * Over its workflow's maxRuns under cancel-newest: the claimer cancels it. (Under
   * cancel-oldest the claim itself asks the oldest holder's owner to cancel it.)
   */
  denied: boolean;
  /** When denied: the maxRuns it was denied against (a run-time setting may differ from the definition). */
  maxRuns?: number;
}

export interface NotificationHandlers {
  /** New or released runs are waiting to be claimed. */
  ready(): void;
  /** These runs finished or paused. */
  settled(runIds: string[]): void;
  /** Another process settled waits of these runs (an event, an input): their owner applies them. */
  waits(runIds: string[]): void;
  /** Runs were handed back asleep: the earliest of them is due in `inMs` (by the store's clock). */
  asleep(inMs: number): void;
  /** These runs have a control request for their owner. */
  control(runIds: string[]): void;
  /** A unit of these semaphores was freed. */
  slots(names: string[]): void;
  /** Some process committed events (sent only while some process has a feed open). */
  events(): void;
  /** Some process has a live event feed open: this process's commits should announce events. */
  feedAnnounced(): void;
  /** Some process committed stream chunks of these runs (sent under the same rule as `events`). */
  streams?(runIds: string[]): void;
  /** A step reported progress in another process (see shareProgress). */
  progress?(payload: string): void;
  /** The listening connection came back after a loss: notifications may have been missed. */
  reconnected(): void;
  /** The listening connection was lost (it keeps retrying). */
  disconnected(error: unknown): void;
}
