import { BraidError, type SerializedError, StepFailedError } from '../model/errors.js';
import { fromJson } from '../model/json.js';
import type { Store } from '../store/store.js';
import type { RunRecord, StepRecord } from '../store/types.js';
import type { Clock } from './clock.js';
import type { ExecutionResult, NodeResult, RunMetrics } from './result.js';

export interface StepView {
  rec: StepRecord;
  value: unknown;
}

/**
 * Builds the public ExecutionResult from a run record and its steps. Used for runs held in memory
 * and for runs read back from the store, so both give callers the same shape.
 */
export function buildResult(
  rec: RunRecord,
  steps: Iterable<StepView>,
  extra: {
    order?: string[];
    /** The workflow's steps as declared: breaks ties between steps that started in the same millisecond. */
    stepOrder?: readonly string[];
    globals?: Record<string, unknown>;
    traceId?: string | undefined;
    retries?: number;
    /** The engine's clock reading: the end of a run not ended yet (paused), and its checkpoint's time. */
    now: number;
  },
): ExecutionResult {
  const nodeResults: Record<string, NodeResult> = {};
  const partialResults: Record<string, unknown> = {};
  const metrics: RunMetrics = {
    steps: 0,
    succeeded: 0,
    failed: 0,
    skipped: 0,
    cancelled: 0,
    retries: extra.retries ?? 0,
    cacheHits: 0,
    nodeDurations: {},
  };
  const started: Array<[string, number]> = [];
  let retriesFromAttempts = 0;
  for (const { rec: s, value } of steps) {
    const node = nodeResultOf(s, value);
    const duration = node.duration;
    nodeResults[s.name] = node;
    metrics.steps++;
    if (s.status === 'succeeded') {
      metrics.succeeded++;
      partialResults[s.name] = value;
    } else if (s.status === 'failed') metrics.failed++;
    else if (s.status === 'skipped') metrics.skipped++;
    else if (s.status === 'cancelled') metrics.cancelled++;
    if (s.cacheHit) metrics.cacheHits++;
    if (s.finishedAt !== null && s.startedAt !== null) metrics.nodeDurations[s.name] = duration;
    if (s.startedAt !== null) started.push([s.name, s.startedAt]);
    retriesFromAttempts += Math.max(0, s.attempts - 1);
  }
  if (extra.retries === undefined) metrics.retries = retriesFromAttempts;
  const order = extra.order ?? inStartOrder(started, extra.stepOrder);
  const error = rec.error ? fromJson<SerializedError>(rec.error) : undefined;
  const paused = rec.status === 'paused';
  const end = rec.finishedAt ?? extra.now;
  const startTime = rec.startedAt ?? rec.createdAt;
  return {
    runId: rec.id,
    workflow: rec.workflow,
    status: rec.status,
    success: rec.status === 'succeeded',
    output: rec.status === 'succeeded' ? fromJson(rec.output) : undefined,
    error,
    context: {
      workflowId: rec.workflow,
      runId: rec.id,
      globalVariables: extra.globals ?? fromJson<Record<string, unknown>>(rec.globals) ?? {},
      nodeResults,
    },
    executionTime: end - startTime,
    nodeExecutionOrder: order,
    metrics,
    traceId: extra.traceId,
    cancelled: rec.status === 'cancelled',
    paused,
    partialResults,
    checkpoint: paused
      ? {
          runId: rec.id,
          completedNodes: Object.values(nodeResults)
            .filter((n) => n.status === 'succeeded' || n.status === 'skipped')
            .map((n) => n.nodeId),
          at: extra.now,
        }
      : undefined,
    startTime,
    endTime: rec.finishedAt ?? undefined,
  };
}

/** One step's NodeResult, from its record alone: a callback per finished step costs O(1), not O(steps). */
export function nodeResultOf(s: StepRecord, value: unknown): NodeResult {
  return {
    nodeId: s.name,
    status: s.status,
    success: s.status === 'succeeded',
    output: s.status === 'succeeded' ? value : undefined,
    error: s.error ? fromJson<SerializedError>(s.error) : undefined,
    attempts: s.attempts,
    duration: s.startedAt !== null && s.finishedAt !== null ? s.finishedAt - s.startedAt : 0,
    startedAt: s.startedAt ?? undefined,
    finishedAt: s.finishedAt ?? undefined,
    cacheHit: s.cacheHit,
    fallbackUsed: s.fallbackUsed,
    nextNodeId: s.route ? fromJson<string[]>(s.route) : undefined,
  };
}

/** The error a caller gets for a run that failed at a step. */
export function stepFailure(runId: string, step: string, error: SerializedError): SerializedError {
  const e = new StepFailedError(runId, step, error);
  return { name: e.name, message: e.message, code: e.code, cause: error };
}

/** A run's result read back from the store: its record and steps. */
/**
 * Step names by when they started. Steps started in the same millisecond (every root of a run,
 * often) keep the order they were dispatched in, which follows the workflow's declared order; a
 * store returns steps by name, so without `stepOrder` they would come back alphabetically.
 */
export function inStartOrder(
  started: Array<[name: string, startedAt: number]>,
  stepOrder?: readonly string[],
): string[] {
  started.sort((a, b) => a[1] - b[1]);
  if (stepOrder && started.some(([, at], i) => i > 0 && started[i - 1]?.[1] === at)) {
    const rank = new Map(stepOrder.map((name, i) => [name, i]));
    const rankOf = (name: string) => rank.get(name) ?? Number.MAX_SAFE_INTEGER;
    started.sort((a, b) => a[1] - b[1] || rankOf(a[0]) - rankOf(b[0]));
  }
  return started.map(([name]) => name);
}

/** The result of a run read back from the store. `stepOrder`: its workflow's steps as declared, if known. */
export async function readResult(
  store: Store,
  rec: RunRecord,
  stepOrder: readonly string[] | undefined,
  now: number,
): Promise<ExecutionResult> {
  const steps = await store.getSteps(rec.id);
  return buildResult(
    rec,
    steps.map((s) => ({ rec: s, value: s.status === 'succeeded' ? fromJson(s.output) : undefined })),
    { stepOrder, now },
  );
}

/**
 * The same, for a run known to have ended: reading its steps may still meet the database
 * restarting, so it tries again rather than fail the caller of a run that succeeded.
 */
export async function readResultPatiently(
  store: Store,
  rec: RunRecord,
  stepOrder: readonly string[] | undefined,
  giveUp: () => boolean,
  clock: Clock,
): Promise<ExecutionResult> {
  for (let delayMs = 100; ; delayMs = Math.min(delayMs * 2, 2_000)) {
    try {
      return await readResult(store, rec, stepOrder, clock.now());
    } catch (error) {
      if (error instanceof BraidError || giveUp()) throw error;
      await new Promise<void>((resolve) => clock.setTimer(resolve, delayMs));
    }
  }
}
