import type { Workflow } from '../model/workflow.js';
import type { ClaimableWorkflow, ClaimedRun } from '../store/coordination.js';
import type { EventRecord, RunControl, RunRecord } from '../store/types.js';

/**
 * The engine's two ports to a cluster of processes sharing a scale-out store. The engine owns both
 * interfaces and never names what implements them (src/worker does); the executor, the composition
 * root, plugs one into the other. Without a cluster the engine owns every run in its store.
 */

/** What the engine needs from the cluster it belongs to. */
export interface ClusterPort {
  /** Whether this process runs steps (a worker) rather than only starting runs and waiting. */
  readonly runsSteps: boolean;
  /** Whether a new top-level run of this workflow runs here at once, rather than waiting for a claim. */
  runsLocally(workflow: Workflow<any, any, any>): boolean;
  /**
   * Resolves with the run's record once it has ended (or paused, with `orPaused`) in whichever
   * process ran it; with undefined if there is no such run.
   */
  waitUntilSettled(runId: string, orPaused: boolean): Promise<RunRecord | undefined>;
  /**
   * Cancels a run no worker holds and none has started (no step ran), in the store; false if it
   * is held or has started meanwhile (then its owner must cancel it). `error`: JSON text.
   */
  cancelUnstarted(runId: string, error: string): Promise<boolean>;
  /**
   * Runs this process dropped from memory but may still own in the store: give them back to the
   * queue (a run asleep goes with its wake-up time in its row, and is claimable when it is due).
   */
  handBack(runIds: readonly string[]): void;
  /** Execution slots were freed: a worker may claim more runs. */
  capacityFreed(): void;
  /** Semaphores held in the database, shared by every worker (pools, the cluster step limit). */
  readonly gates: SlotGates;
}

/** Semaphores in the database: a step takes a unit of each gate it needs before it starts. */
export interface SlotGates {
  /** Steps executing at once across every worker of the cluster, if the workers set a limit. */
  readonly globalMaxParallelNodes: number | undefined;
  /**
   * Takes a unit of `gate` for `holder`, waiting for its turn by `priority` then arrival across
   * every worker; resolves false if the wait was given up (shutdown).
   */
  acquire(gate: string, holder: string, capacity: number, priority?: number): Promise<boolean>;
  release(gate: string, holder: string): void;
}

/** What a worker may ask of the engine: runs to adopt, controls to apply, what it holds. */
export interface EngineControl {
  /** The workflows (name, version and run limits) this engine can run: what a worker claims. */
  claimableWorkflows(): ClaimableWorkflow[];
  /** Takes over a run the worker has just claimed. */
  adopt(claimed: ClaimedRun): void;
  /** Carries out control requests (cancel, pause, resume) for runs this engine holds. */
  applyControls(controls: readonly RunControl[]): void;
  /**
   * Another process settled waits of these runs (an event, an input it recorded): the runs held
   * here read their waits from the store and the steps whose waits are settled go on.
   */
  waitsSettledElsewhere(runIds: readonly string[]): void;
  /** Runs that ended in other processes: their parents' joins here hear of it. */
  childrenSettled(records: readonly RunRecord[]): void;
  /** Whether a step held here waits on this run as its child. */
  awaitsChild(runId: string): boolean;
  /** The unfinished children that steps held here wait on (re-checked after a lost notification). */
  awaitedChildren(): string[];
  /** Whether this engine holds the run in memory. */
  holds(runId: string): boolean;
  /** The ids of every run this engine holds. */
  heldRunIds(): string[];
  /** Free execution slots not yet spoken for: how many more runs the worker may take. */
  readonly spareCapacity: number;
  /** Steps executing now. */
  readonly runningSteps: number;
  readonly isClosed: boolean;
  /** Starts whatever can start now (after the database came back, say). */
  dispatch(): void;
  /** Graceful shutdown begins: running steps finish, no new step starts. */
  stopDispatching(): void;
  /** The worker lost its lease: every run it held belongs to others now. */
  dropAll(reason: Error): void;
  /** Hears every event this process commits, right after its commit. */
  onCommitted(listener: (events: readonly EventRecord[]) => void): () => void;
  close(): Promise<void>;
}
