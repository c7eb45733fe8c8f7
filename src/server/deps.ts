import type { WorkflowExecutor } from '../engine/executor.js';
import type { PauseTimes } from './pauseTimes.js';
import type { BraidMetrics } from './prometheus.js';

/** What every route module gets: the executor it steers and the app-wide pieces. */
export interface ServerDeps {
  executor: WorkflowExecutor;
  metrics: BraidMetrics;
  /** When listed paused runs paused, remembered across requests. */
  pauseTimes: PauseTimes;
  /** Interval of the SSE heartbeat comment. */
  heartbeatMs: number;
}
