import type { Clock } from '../engine/clock.js';
import type { ExecutionConfig } from '../engine/config.js';
import type { Schedule } from '../model/schedule.js';
import type { Workflow } from '../model/workflow.js';
import type { Store } from '../store/store.js';
import type { WorkerOptions } from '../worker/clusterMember.js';
import type { RetentionOptions } from './retention.js';

export interface ExecutorOptions extends Partial<ExecutionConfig> {
  /** Where runs live. Default: SQLite at `.braid/braid.db` (or BRAID_DB); PostgreSQL when BRAID_DATABASE_URL is set. */
  store?: Store;
  /** Named semaphores: `{ llm: 4 }` lets at most 4 steps with `pool: 'llm'` run at once. */
  pools?: Record<string, number>;
  /** Workflows this executor runs and recovers. Workflows passed to `execute` are added too. */
  workflows?: ReadonlyArray<Workflow<any, any, any>>;
  /** How many recent results `executionHistory` keeps. Default 100. */
  historySize?: number;
  /** Resume unfinished runs of registered workflows when the executor opens. Default true. */
  recover?: boolean;
  /**
   * On a scale-out store (Postgres): how this process takes part. By default it is a worker that
   * claims runs of its registered workflows (unless `recover: false`); `false` makes a process
   * that only starts runs and waits for their results.
   */
  worker?: boolean | WorkerOptions;
  /**
   * Deletes finished runs in the background once they are this old, by how they ended (a
   * workflow's own `retention` overrides it), and bounds the event log of long-lived runs. One
   * timer for the executor; on PostgreSQL one worker prunes at a time. `false`: no background
   * work at all (no event-log bound either). Default: keep runs forever, bound event logs.
   */
  retention?: RetentionOptions | false;
  /**
   * Where the engine reads the time and arms its timers. Default: the system clock. Tests pass a
   * `ManualClock` to reach a sleep's end, a backoff or a schedule's tick without waiting for it.
   */
  clock?: Clock;
  /**
   * Schedules defined in code (`schedule(workflow, { cron })`): stored when the executor opens
   * (created if missing, their definition updated if it changed; paused state and progress kept),
   * and fired by this executor (on PostgreSQL, by whichever worker claims each tick).
   */
  schedules?: ReadonlyArray<Schedule<any>>;
}
