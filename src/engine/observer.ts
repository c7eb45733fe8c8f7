import type { SerializedError } from '../model/errors.js';
import type { MetricsCollector, RunSummary } from '../observe/metrics.js';
import { endSpan, type Span, startRunSpan, startStepSpan } from '../observe/tracing.js';
import { nodeResultOf } from './buildResult.js';
import type { CallbackManager } from './callbacks.js';
import type { Clock } from './clock.js';
import type { ExecutionResult } from './result.js';
import type { ActiveRun, ActiveStep } from './runState.js';
import type { WriteQueue } from './writeQueue.js';

/**
 * Feeds what the engine does to the user's callbacks, the metrics collector and OpenTelemetry.
 * Everything is incremental (a finished step reports that step's NodeResult, built from its record
 * alone) and delivered after the commit that made it durable. Callbacks cost nothing when no
 * handler is registered; spans nothing when tracing is off.
 */
export class RunObserver {
  constructor(
    private readonly queue: WriteQueue,
    private readonly callbacks: CallbackManager,
    private readonly metrics: MetricsCollector,
    readonly tracing: boolean,
    private readonly clock: Clock,
  ) {}

  /** Whether anyone reads per-run results (callback handlers are registered). */
  get hasHandlers(): boolean {
    return this.callbacks.size > 0;
  }

  /** Opens the run's span: a child of the spawning step's span for a child run. */
  openRunSpan(run: ActiveRun, parent: Span | undefined): void {
    if (!this.tracing) return;
    run.span = startRunSpan(
      {
        workflow: run.rec.workflow,
        runId: run.rec.id,
        inputBytes: run.rec.input.length,
        parentRunId: run.rec.parentRunId,
      },
      parent,
    );
  }

  runStarted(run: ActiveRun): void {
    if (!this.hasHandlers) return;
    const { rec } = run;
    this.queue.afterCommit(() =>
      this.callbacks.emit('onWorkflowStart', {
        runId: rec.id,
        workflow: rec.workflow,
        input: run.input,
        parentRunId: rec.parentRunId,
      }),
    );
  }

  runPaused(run: ActiveRun): void {
    if (!this.hasHandlers) return;
    const { id, workflow } = run.rec;
    this.queue.afterCommit(() => this.callbacks.emit('onWorkflowPause', { runId: id, workflow }));
  }

  /** Called once the attempt's start is durable, just before its function runs. */
  attemptStarting(run: ActiveRun, step: ActiveStep): void {
    if (this.hasHandlers) {
      this.callbacks.emit('onNodeStart', {
        runId: run.rec.id,
        workflow: run.rec.workflow,
        nodeId: step.def.name,
        attempt: step.rec.attempts,
      });
    }
    if (this.tracing && run.span) {
      step.span = startStepSpan(run.span, {
        workflow: run.rec.workflow,
        runId: run.rec.id,
        step: step.def.name,
        attempt: step.rec.attempts,
        inputBytes: run.rec.input.length,
      });
    }
  }

  stepSucceeded(run: ActiveRun, step: ActiveStep, outputBytes: number): void {
    endSpan(step.span, 'succeeded', { outputBytes });
    step.span = undefined;
    if (!this.hasHandlers) return;
    const { rec, value } = step;
    const result = nodeResultOf(rec, value);
    this.queue.afterCommit(() =>
      this.callbacks.emit('onNodeComplete', {
        runId: run.rec.id,
        workflow: run.rec.workflow,
        nodeId: rec.name,
        output: value,
        result,
      }),
    );
  }

  attemptFailed(run: ActiveRun, step: ActiveStep, error: SerializedError, willRetry: boolean): void {
    endSpan(step.span, willRetry ? 'retrying' : 'failed', { error: error.message });
    step.span = undefined;
    if (!this.hasHandlers) return;
    const attempt = step.rec.attempts;
    this.queue.afterCommit(() =>
      this.callbacks.emit('onError', {
        runId: run.rec.id,
        workflow: run.rec.workflow,
        nodeId: step.def.name,
        attempt,
        error,
        willRetry,
      }),
    );
  }

  stepRetrying(run: ActiveRun, step: ActiveStep, delayMs: number, error: SerializedError): void {
    if (!this.hasHandlers) return;
    const attempt = step.rec.attempts;
    this.queue.afterCommit(() =>
      this.callbacks.emit('onNodeRetry', {
        runId: run.rec.id,
        workflow: run.rec.workflow,
        nodeId: step.def.name,
        attempt,
        delayMs,
        error,
      }),
    );
  }

  stepSkipped(run: ActiveRun, step: ActiveStep, reason: string): void {
    if (!this.hasHandlers) return;
    this.queue.afterCommit(() =>
      this.callbacks.emit('onNodeSkip', {
        runId: run.rec.id,
        workflow: run.rec.workflow,
        nodeId: step.def.name,
        reason,
      }),
    );
  }

  stepStopped(step: ActiveStep): void {
    endSpan(step.span, 'cancelled');
    step.span = undefined;
  }

  /** The run left memory to wait for its wake-up; a new span opens when it is loaded again. */
  runAsleep(run: ActiveRun): void {
    endSpan(run.span, 'asleep');
    run.span = undefined;
  }

  cacheHit(run: ActiveRun, step: ActiveStep, key: string): void {
    if (!this.hasHandlers) return;
    this.queue.afterCommit(() =>
      this.callbacks.emit('onCacheHit', { runId: run.rec.id, workflow: run.rec.workflow, nodeId: step.def.name, key }),
    );
  }

  /** The run's end is durable. `result` is built only when someone reads it (see RunLifecycle). */
  runEnded(run: ActiveRun, result: ExecutionResult | undefined): void {
    endSpan(run.span, run.rec.status, {
      outputBytes: run.rec.output?.length ?? 0,
      ...(run.error ? { error: run.error.message } : {}),
    });
    run.span = undefined;
    if (!result) {
      this.metrics.recordRun(summaryOf(run, this.clock.now()));
      return;
    }
    this.metrics.recordExecution(result);
    if (!this.hasHandlers) return;
    this.callbacks.emit('onWorkflowComplete', {
      runId: run.rec.id,
      workflow: run.rec.workflow,
      output: result.output,
      result,
    });
    if (run.error && run.rec.status !== 'cancelled') {
      this.callbacks.emit('onError', {
        runId: run.rec.id,
        workflow: run.rec.workflow,
        nodeId: undefined,
        attempt: undefined,
        error: run.error,
        willRetry: false,
      });
    }
  }
}

function summaryOf(run: ActiveRun, now: number): RunSummary {
  const nodeDurations: Record<string, number> = {};
  for (const step of run.steps.values()) {
    const { startedAt, finishedAt } = step.rec;
    if (startedAt !== null && finishedAt !== null) nodeDurations[step.def.name] = finishedAt - startedAt;
  }
  const end = run.rec.finishedAt ?? now;
  return {
    workflow: run.rec.workflow,
    status: run.rec.status,
    executionTime: end - (run.rec.startedAt ?? run.rec.createdAt),
    retries: run.retries,
    cacheHits: run.cacheHits,
    nodeDurations,
  };
}
