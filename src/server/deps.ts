import type { WorkflowExecutor } from '../executor/workflowExecutor.js';
import type { BraidMetrics } from './prometheus.js';

/** What every route module gets: the executor it steers and the app-wide pieces. */
export interface ServerDeps {
  executor: WorkflowExecutor;
  metrics: BraidMetrics;
  /** When listed paused runs paused, remembered across requests. */
  /** Interval of the SSE heartbeat comment. */
  heartbeatMs: number;
}
