import type { Clock, ClockTimer } from '../engine/clock.js';
import type { Duration } from '../model/durations.js';
import { durationMs } from '../model/durations.js';
import { InvalidPruneOptionError } from '../model/errors.js';
import {
  PRUNE_STATUSES,
  parseRetention,
  type RetentionDurations,
  type RetentionMs,
  STORED_STATUSES,
} from '../model/retention.js';
import type { Workflow } from '../model/workflow.js';
import type { Store } from '../store/store.js';
import type { PruneSelection } from '../store/types.js';
import { checkBatchSize, pruneInBatches } from './pruning.js';

/** The executor's `retention`: durations by status, and how the background pass runs. */
export interface RetentionOptions extends RetentionDurations {
  /** How often the background pass runs. Default '1m'. */
  every?: Duration;
  /**
   * Events kept per unfinished run: past this, its oldest superseded events are dropped (progress
   * such as waits and spawns, whose facts other rows keep; never an attempt's events, nor a step's
   * first or last). Default 10,000.
   */
  maxEventsPerRun?: number;
  /** Run trees per transaction. Default 500. */
  batchSize?: number;
}

const DEFAULT_EVERY_MS = 60_000;
const DEFAULT_MAX_EVENTS_PER_RUN = 10_000;
/** Runs compacted per pass: a pass stays short; the next one carries on. */
const COMPACT_RUNS_PER_PASS = 100;

interface Policy {
  durations: RetentionMs;
  everyMs: number;
  maxEventsPerRun: number;
  batchSize: number;
}

/** Reads `retention` (InvalidDurationError / InvalidPruneOptionError naming the field), or null for `false`. */
export function retentionPolicy(options: RetentionOptions | false | undefined): Policy | null {
  if (options === false) return null;
  const o = options ?? {};
  const { every, maxEventsPerRun, batchSize, ...durations } = o;
  const everyMs = every === undefined ? DEFAULT_EVERY_MS : durationMs(every, '`retention.every`');
  if (everyMs < 1) throw new InvalidPruneOptionError('retention.every', 'a duration of at least 1 ms', every);
  const max = maxEventsPerRun ?? DEFAULT_MAX_EVENTS_PER_RUN;
  if (!(Number.isInteger(max) && max >= 1)) {
    throw new InvalidPruneOptionError('retention.maxEventsPerRun', 'a whole number >= 1', maxEventsPerRun);
  }
  let size: number;
  try {
    size = checkBatchSize(batchSize);
  } catch {
    throw new InvalidPruneOptionError('retention.batchSize', 'a whole number from 1 to 10000', batchSize);
  }
  return { durations: parseRetention(durations, 'retention'), everyMs, maxEventsPerRun: max, batchSize: size };
}

/**
 * The store selections one pass prunes at `now`: for each kind of ending, the workflows with a
 * retention of their own by name, then everything else by the executor's retention. A workflow
 * this process has not registered follows the executor's.
 */
export function retentionSelections(
  durations: RetentionMs,
  workflows: ReadonlyArray<Workflow<any, any, any>>,
  now: number,
): Omit<PruneSelection, 'limit'>[] {
  const out: Omit<PruneSelection, 'limit'>[] = [];
  for (const status of PRUNE_STATUSES) {
    const statuses = STORED_STATUSES[status];
    const own: string[] = [];
    for (const wf of workflows) {
      const ms = parseRetention(wf.options.retention, 'retention')[status];
      if (ms === undefined) continue;
      own.push(wf.name);
      out.push({ statuses, finishedBefore: now - ms + 1, workflow: wf.name, excludeWorkflows: [] });
    }
    const ms = durations[status];
    if (ms !== undefined) out.push({ statuses, finishedBefore: now - ms + 1, workflow: null, excludeWorkflows: own });
  }
  return out;
}

/**
 * The executor's one background timer for retention: every `every`, it prunes what the policy says
 * has expired (in paced batches, see pruneInBatches) and compacts over-long event logs. Not a timer
 * per run: one pass finds every expired tree with an index walk. A failed pass (a busy database)
 * is dropped; the next one does its work.
 */
export class RetentionTimer {
  private timer: ClockTimer | undefined;
  private running: Promise<void> | undefined;
  private isStopped = false;
  /** The last pass's failure, if it failed (for tests and diagnostics). */
  lastError: unknown;

  constructor(
    private readonly store: Store,
    private readonly policy: Policy,
    private readonly workflows: () => ReadonlyArray<Workflow<any, any, any>>,
    /** The engine's clock: ages are measured and passes timed on it (a virtual clock ages runs too). */
    private readonly clock: Clock,
  ) {}

  start(): void {
    if (this.isStopped || this.timer) return;
    this.schedule();
  }

  /** Stops the timer; waits for a pass under way to end its current batch. */
  async stop(): Promise<void> {
    this.isStopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    await this.running;
  }

  /** One pass now (what the timer runs). */
  async pass(): Promise<void> {
    const now = this.clock.now();
    const selections = retentionSelections(this.policy.durations, this.workflows(), now);
    if (selections.length) {
      await pruneInBatches(this.store, selections, this.policy.batchSize, now, { shouldStop: () => this.isStopped });
    }
    if (!this.isStopped) await this.store.compactEvents(this.policy.maxEventsPerRun, COMPACT_RUNS_PER_PASS);
  }

  private schedule(): void {
    this.timer = this.clock.setTimer(
      () => {
        this.running = this.pass()
          .then(
            () => {
              this.lastError = undefined;
            },
            (error: unknown) => {
              this.lastError = error;
            },
          )
          .finally(() => {
            this.running = undefined;
            if (!this.isStopped) this.schedule();
          });
      },
      this.policy.everyMs,
      // The timer alone never keeps the process alive.
      { keepAlive: false },
    );
  }
}
