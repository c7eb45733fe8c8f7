import type { Store } from '../store/store.js';

/**
 * The executor's settings: the seven fields of the WorkflowExecutor reference, plus where to store
 * runs and the resource pools. A workflow's own options, and then a step's, override these.
 */
export interface ExecutionConfig {
  /** Steps executing at once across all runs of this executor. Default 10. */
  maxParallelNodes: number;
  /** Run deadline in seconds (0 = none). Default 300. A workflow's `timeoutSeconds` overrides it. */
  timeoutSeconds: number;
  /** Retry failed steps that set no `retries` of their own. Default false. */
  retryFailedNodes: boolean;
  /** Retries per step when `retryFailedNodes` is on. Default 3. */
  maxRetries: number;
  /**
   * Checkpoint each run's global variables (set by steps with `ctx.setGlobal`) every
   * `checkpointInterval` completed steps and when it pauses, so they survive a restart and
   * `resume` restores them. Step outputs are always durable. Default false.
   */
  enableCheckpoints: boolean;
  /** Completed steps between checkpoints. Default 5. */
  checkpointInterval: number;
  /** An OpenTelemetry span per run and per step attempt; `traceId` in the result. Default false. */
  traceExecution: boolean;
}

export interface ExecutorOptions extends Partial<ExecutionConfig> {
  /** Where runs live. Default: SQLite at `.braid/braid.db` (or BRAID_DB). */
  store?: Store;
  /** Named semaphores: `{ llm: 4 }` lets at most 4 steps with `pool: 'llm'` run at once. */
  pools?: Record<string, number>;
  /** Workflows this executor runs and recovers. Workflows passed to `execute` are added too. */
  workflows?: ReadonlyArray<import('../model/workflow.js').Workflow<any, any, any>>;
  /** How many recent results `executionHistory` keeps. Default 100. */
  historySize?: number;
  /** Resume unfinished runs of registered workflows when the executor opens. Default true. */
  recover?: boolean;
  /**
   * On a scale-out store (Postgres): how this process takes part. By default it is a worker that
   * claims runs of its registered workflows (unless `recover: false`); `false` makes a process
   * that only starts runs and waits for their results.
   */
  worker?: boolean | import('../worker/clusterMember.js').WorkerOptions;
}

export const DEFAULT_CONFIG: ExecutionConfig = {
  maxParallelNodes: 10,
  timeoutSeconds: 300,
  retryFailedNodes: false,
  maxRetries: 3,
  enableCheckpoints: false,
  checkpointInterval: 5,
  traceExecution: false,
};

export function resolveConfig(options: Partial<ExecutionConfig>): ExecutionConfig {
  const config = { ...DEFAULT_CONFIG };
  for (const key of Object.keys(DEFAULT_CONFIG) as Array<keyof ExecutionConfig>) {
    const value = options[key];
    if (value !== undefined) (config as Record<string, unknown>)[key] = value;
  }
  if (!Number.isInteger(config.maxParallelNodes) || config.maxParallelNodes < 1) {
    throw new RangeError(
      `ExecutionConfig.maxParallelNodes must be a whole number >= 1, got ${config.maxParallelNodes}.`,
    );
  }
  if (!(config.timeoutSeconds >= 0)) {
    throw new RangeError(
      `ExecutionConfig.timeoutSeconds must be >= 0 (0 = no deadline), got ${config.timeoutSeconds}.`,
    );
  }
  if (!Number.isInteger(config.maxRetries) || config.maxRetries < 0) {
    throw new RangeError(`ExecutionConfig.maxRetries must be a whole number >= 0, got ${config.maxRetries}.`);
  }
  if (!Number.isInteger(config.checkpointInterval) || config.checkpointInterval < 1) {
    throw new RangeError(
      `ExecutionConfig.checkpointInterval must be a whole number >= 1, got ${config.checkpointInterval}.`,
    );
  }
  return config;
}
