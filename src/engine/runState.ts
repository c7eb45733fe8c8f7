import type { SerializedError } from '../model/errors.js';
import type { StepDefinition, Workflow } from '../model/workflow.js';
import type { Span } from '../observe/tracing.js';
import type { ForkRecord, RunRecord, StepRecord, WaitRecord } from '../store/types.js';
import type { ChildRegistry } from './children.js';
import type { ExecutionResult } from './result.js';

/** What the engine precomputes once per registered workflow. */
export interface WorkflowPlan {
  workflow: Workflow<any, any, any>;
  children: ReadonlyMap<string, readonly string[]>;
  roots: readonly string[];
  sinks: readonly string[];
}

/**
 * Everything a step holds while it executes, in one place, so that one routine gives it all back:
 * an execution slot of the process (and of its run's cap), a unit of its pool in this process,
 * and, in a cluster, units of semaphores held in the database (its pool across workers, the
 * cluster-wide step limit).
 */
export interface SlotHold {
  slot: boolean;
  pool: boolean;
  /** The database semaphores held now, in the order they were taken. */
  gates: string[];
  /** 'acquiring' while the gates are being taken, 'held' once all are. */
  gateState: 'none' | 'acquiring' | 'held';
}

/** A step of an active run: its stored record plus what only lives while the process does. */
export interface ActiveStep {
  def: StepDefinition;
  rec: StepRecord;
  /** The output as every reader sees it: parsed from its stored JSON. */
  value: unknown;
  /**
   * The attempt fence: changes whenever an attempt starts or is stopped. Whatever an attempt does
   * late (a settle, a timeout, a spawn) carries the token it started with and is ignored if stale.
   */
  token: number;
  controller: AbortController | undefined;
  /** The attempt's timeout. */
  timeoutTimer: number | undefined;
  hold: SlotHold;
  /** Waiting for a slot in the ready queue. */
  inQueue: boolean;
  /** Attempts cut short by a crash; they do not count against the retry budget. */
  interrupted: number;
  /** Children this step spawned; loaded from the store before a re-run. */
  children: ChildRegistry | undefined;
  span: Span | undefined;
  /**
   * The step's durable waits (sleeps, events, inputs), by key: settled ones return at once on a
   * re-run. NO_WAITS until the step first has one; written through `waitsToWrite`.
   */
  waits: ReadonlyMap<string, WaitRecord>;
  /**
   * Wait calls of the current invocation suspended in memory, by wait group: the function goes on
   * when one resolves. Dropped when the run leaves memory; the step then runs again when it wakes.
   * NO_CONTINUATIONS while there are none; added to through `continuationsToWrite`.
   */
  continuations: ReadonlyMap<string, Continuation>;
  /** The next dispatch runs the step's function again without starting a new attempt (its wait is over). */
  resuming: boolean;
  /**
   * A wait of the step was settled by this process (a timeout) and may still lose to an outcome the
   * store settled first: the step goes on only once the commit has said which won. Waits settled
   * by the store (loaded, or from a commit's result) and sleeps (nothing else settles them) are final.
   */
  settledHere: boolean;
  /** Its rate limit (src/engine/rateLimits.ts): being asked, or a start granted and not yet used. */
  rate?: 'asking' | 'granted' | undefined;
  /** The time its rate limit granted: its next attempt's function runs no earlier (see Attempts.start). */
  notBefore?: number | undefined;
  /** A granted start not used by then is stale, and asked for again (see RateLimits.admit). */
  rateExpiresAt?: number | undefined;
}

/** A wait call suspended in memory: how to let the function go on once its wait group settles. */
export interface Continuation {
  token: number;
  resolve(wait: WaitRecord): void;
  reject(error: unknown): void;
}

export type Waiter = (result: ExecutionResult) => void;

/** Callers waiting on a run: `execute()` wants it ended or paused, `result()` wants it ended. */
export interface RunWaiters {
  settle: Waiter[];
  done: Waiter[];
}

export interface ActiveRun {
  rec: RunRecord;
  /** False once the run has left memory (ended, evicted, dropped): what still refers to it lets go. */
  resident: boolean;
  plan: WorkflowPlan;
  input: unknown;
  globals: Record<string, unknown>;
  steps: Map<string, ActiveStep>;
  /** Steps holding an execution slot right now. */
  running: number;
  /** Per-run cap on `running` (the workflow's maxParallelNodes). */
  maxParallel: number;
  startOrder: string[];
  completedSinceCheckpoint: number;
  retries: number;
  cacheHits: number;
  waiters: RunWaiters;
  deadlineTimer: number | undefined;
  /** The wake-up armed for this run (its earliest retry), with its time. */
  wakeTimer: number | undefined;
  wakeTimerAt: number | null;
  span: Span | undefined;
  /** True while the run is loaded but waits for a concurrency slot of its workflow. */
  waitingForConcurrency: boolean;
  /** The error that ended the run, kept for the result. */
  error: SerializedError | undefined;
  /** Its workflow's rate limit (src/engine/rateLimits.ts): being asked, or its start granted. */
  rate?: 'asking' | 'granted' | undefined;
  /** When the granted start is, if later than when it was asked: its steps wait until then. */
  rateStartAt?: number | undefined;
  /** A start granted by its workflow's limit that no step has used yet (it keeps the run in memory). */
  rateHeld?: boolean | undefined;
  /** A held start not used by then is stale, and asked for again (see RateLimits.admit). */
  rateExpiresAt?: number | undefined;
}

/**
 * What a step's `waits` and `continuations` are until it first waits: one shared empty map each,
 * not two new maps per step. Most steps never wait, and a 5k fan-out kept ~550 B of empty maps
 * alive per child until its run ended (a third of what it holds per child). Read-only by type:
 * the step gets a map of its own from the functions below when something is first written.
 */
export const NO_WAITS: ReadonlyMap<string, WaitRecord> = new Map();
export const NO_CONTINUATIONS: ReadonlyMap<string, Continuation> = new Map();

/** The step's waits, as its own map to write into. */
export function waitsToWrite(step: ActiveStep): Map<string, WaitRecord> {
  if (step.waits === NO_WAITS) step.waits = new Map();
  return step.waits as Map<string, WaitRecord>;
}

/** The step's continuations, as its own map to add to. */
export function continuationsToWrite(step: ActiveStep): Map<string, Continuation> {
  if (step.continuations === NO_CONTINUATIONS) step.continuations = new Map();
  return step.continuations as Map<string, Continuation>;
}

export function emptyHold(): SlotHold {
  return { slot: false, pool: false, gates: [], gateState: 'none' };
}

/**
 * The attempt fence: whether `token` still names the step's current attempt. Everything an attempt
 * does asynchronously (settle, time out, spawn, join, take a slot back) checks it first.
 */
export function isCurrentAttempt(step: ActiveStep, token: number): boolean {
  if (step.token !== token) return false;
  const status = step.rec.status;
  // An attempt suspended on a durable wait is still the current one (waiting, or queued to go on).
  return status === 'running' || status === 'waiting' || (status === 'queued' && step.continuations.size > 0);
}

/** Whether the run is under way: running, or waiting with no step to run until a wait is over. */
export function isActive(run: ActiveRun): boolean {
  return run.rec.status === 'running' || run.rec.status === 'waiting';
}

/** What a new run needs besides its workflow and input; children fill the parent fields. */
export interface NewRunSpec {
  plan: WorkflowPlan;
  /** The input as every step reads it: parsed from `inputJson`. */
  input: unknown;
  inputJson: string;
  id: string;
  idempotencyKey: string | null;
  globals: Record<string, unknown>;
  /** `globals` as stored, when the creator has it already (else it is serialised again). */
  globalsJson?: string;
  parent: { run: ActiveRun; step: ActiveStep; key: string } | null;
  replayOf: string | null;
  /** Its priority; default: its workflow's, else its parent's, else 0. */
  priority?: number;
  /** A fork (`executor.fork`): the steps it reuses, which it starts with, and its link. */
  fork?: ForkSeed;
}

/** The rows a fork starts with (see planFork): its reused steps and its link. */
export interface ForkSeed {
  record: ForkRecord;
  steps: StepRecord[];
}
