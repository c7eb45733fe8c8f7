import type { RunStatus } from '../store/types.js';

export interface RunSummary {
  workflow: string;
  status: RunStatus;
  executionTime: number;
  retries: number;
  cacheHits: number;
  nodeDurations: Record<string, number>;
}

/** The parts of an ExecutionResult the collector reads. */
export interface FinishedRun {
  workflow: string;
  status: RunStatus;
  executionTime: number;
  metrics: { retries: number; cacheHits: number; nodeDurations: Record<string, number> };
}

export interface NodeTiming {
  count: number;
  totalMs: number;
  averageMs: number;
  maxMs: number;
}

export interface ExecutorMetrics {
  totalExecutions: number;
  successfulExecutions: number;
  failedExecutions: number;
  cancelledExecutions: number;
  timedOutExecutions: number;
  /** Mean run duration in milliseconds over finished runs. */
  averageDuration: number;
  /** Keyed by "workflow.step". */
  nodeExecutionTimes: Record<string, NodeTiming>;
  retries: number;
  cacheHits: number;
}

/**
 * The executor's running totals, updated once per finished run. The average is kept
 * incrementally, so it stays exact over any number of runs without storing them.
 */
export class MetricsCollector {
  private totals = { total: 0, succeeded: 0, failed: 0, cancelled: 0, timedOut: 0, retries: 0, cacheHits: 0 };
  private meanDuration = 0;
  /** workflow -> step -> timing; two levels so a finished run allocates no "workflow.step" keys. */
  private readonly nodes = new Map<string, Map<string, NodeTiming>>();

  /** Records a finished run from its ExecutionResult (any object of that shape). */
  recordExecution(result: FinishedRun): void {
    this.recordRun({
      workflow: result.workflow,
      status: result.status,
      executionTime: result.executionTime,
      retries: result.metrics.retries,
      cacheHits: result.metrics.cacheHits,
      nodeDurations: result.metrics.nodeDurations,
    });
  }

  /** The same as recordExecution, from a summary: the engine uses it when nobody needs a full result. */
  recordRun(result: RunSummary): void {
    const t = this.totals;
    t.total++;
    if (result.status === 'succeeded') t.succeeded++;
    else if (result.status === 'failed') t.failed++;
    else if (result.status === 'cancelled') t.cancelled++;
    else if (result.status === 'timed_out') t.timedOut++;
    this.meanDuration += (result.executionTime - this.meanDuration) / t.total;
    t.retries += result.retries;
    t.cacheHits += result.cacheHits;
    let byStep = this.nodes.get(result.workflow);
    if (!byStep) {
      byStep = new Map();
      this.nodes.set(result.workflow, byStep);
    }
    for (const step in result.nodeDurations) {
      const ms = result.nodeDurations[step] as number;
      let node = byStep.get(step);
      if (!node) {
        node = { count: 0, totalMs: 0, averageMs: 0, maxMs: 0 };
        byStep.set(step, node);
      }
      node.count++;
      node.totalMs += ms;
      node.averageMs = node.totalMs / node.count;
      if (ms > node.maxMs) node.maxMs = ms;
    }
  }

  getMetrics(): ExecutorMetrics {
    const t = this.totals;
    return {
      totalExecutions: t.total,
      successfulExecutions: t.succeeded,
      failedExecutions: t.failed,
      cancelledExecutions: t.cancelled,
      timedOutExecutions: t.timedOut,
      averageDuration: this.meanDuration,
      nodeExecutionTimes: Object.fromEntries(
        [...this.nodes].flatMap(([workflow, steps]) =>
          [...steps].map(([step, t]) => [`${workflow}.${step}`, { ...t }]),
        ),
      ),
      retries: t.retries,
      cacheHits: t.cacheHits,
    };
  }

  reset(): void {
    this.totals = { total: 0, succeeded: 0, failed: 0, cancelled: 0, timedOut: 0, retries: 0, cacheHits: 0 };
    this.meanDuration = 0;
    this.nodes.clear();
  }
}
