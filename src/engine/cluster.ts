import type { Workflow } from '../model/workflow.js';
import type { RunRecord } from '../store/types.js';

/**
 * What the engine needs from the cluster when several processes share a scale-out store
 * (src/worker implements it). Without one, the engine owns every run in its store.
 */
export interface Cluster {
  /** Whether this process runs steps (a worker) rather than only starting runs and waiting. */
  readonly runsSteps: boolean;
  /** Steps executing at once across every worker of the cluster, if the workers set a limit. */
  readonly globalMaxParallelNodes: number | undefined;
  /** Whether a new top-level run of this workflow runs here at once, rather than waiting for a claim. */
  runsLocally(workflow: Workflow<any, any, any>): boolean;
  /**
   * Resolves with the run's record once it has ended (or paused, with `orPaused`) in whichever
   * process ran it; with undefined if there is no such run.
   */
  waitUntilSettled(runId: string, orPaused: boolean): Promise<RunRecord | undefined>;
  /** Takes a slot of a resource pool held in the database; resolves false if the wait was given up. */
  acquirePool(pool: string, holder: string, capacity: number): Promise<boolean>;
  releasePool(pool: string, holder: string): void;
  /**
   * Cancels a run no worker holds and none has started (no step ran), in the store; false if it
   * is held or has started meanwhile (then its owner must cancel it). `error`: JSON text.
   */
  cancelUnstarted(runId: string, error: string): Promise<boolean>;
  /** Runs this process dropped from memory but may still own in the store: give them back to the queue. */
  handBack(runIds: readonly string[]): void;
  /** Execution slots were freed: a worker may claim more runs. */
  capacityFreed(): void;
}
