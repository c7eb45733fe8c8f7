import { InvalidConfigError } from '../model/errors.js';

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
  /**
   * Chunks one attempt of a step may write to one stream (`ctx.emit`). Past it, emit throws
   * StreamLimitError. Default 100,000.
   */
  streamMaxChunks: number;
  /** Bytes of chunk JSON one attempt of a step may write to one stream. Default 64 MiB. */
  streamMaxBytes: number;
}

export const DEFAULT_CONFIG: ExecutionConfig = {
  maxParallelNodes: 10,
  timeoutSeconds: 300,
  retryFailedNodes: false,
  maxRetries: 3,
  enableCheckpoints: false,
  checkpointInterval: 5,
  traceExecution: false,
  streamMaxChunks: 100_000,
  streamMaxBytes: 64 * 1024 * 1024,
};

export function resolveConfig(options: Partial<ExecutionConfig>): ExecutionConfig {
  const config = { ...DEFAULT_CONFIG };
  for (const key of Object.keys(DEFAULT_CONFIG) as Array<keyof ExecutionConfig>) {
    const value = options[key];
    if (value !== undefined) (config as Record<string, unknown>)[key] = value;
  }
  const refuse = (key: keyof ExecutionConfig, rule: string) => {
    throw new InvalidConfigError(`ExecutionConfig.${key}`, `must be ${rule}, got ${config[key]}.`);
  };
  if (!Number.isInteger(config.maxParallelNodes) || config.maxParallelNodes < 1)
    refuse('maxParallelNodes', 'a whole number >= 1');
  if (!(config.timeoutSeconds >= 0) || config.timeoutSeconds === Number.POSITIVE_INFINITY) {
    refuse('timeoutSeconds', 'a finite number >= 0 (0 = no deadline)');
  }
  if (!Number.isInteger(config.maxRetries) || config.maxRetries < 0) refuse('maxRetries', 'a whole number >= 0');
  if (!Number.isInteger(config.checkpointInterval) || config.checkpointInterval < 1) {
    refuse('checkpointInterval', 'a whole number >= 1');
  }
  for (const key of ['streamMaxChunks', 'streamMaxBytes'] as const) {
    if (!Number.isSafeInteger(config[key]) || config[key] < 1) refuse(key, 'a whole number >= 1');
  }
  for (const key of ['retryFailedNodes', 'enableCheckpoints', 'traceExecution'] as const) {
    if (typeof config[key] !== 'boolean') refuse(key, 'true or false');
  }
  return config;
}
