import type { SerializedError } from '../model/errors.js';
import type { ExecutionResult, NodeResult } from './result.js';

export interface WorkflowStartInfo {
  runId: string;
  workflow: string;
  input: unknown;
  parentRunId: string | null;
}
export interface NodeStartInfo {
  runId: string;
  workflow: string;
  nodeId: string;
  attempt: number;
}
export interface NodeCompleteInfo {
  runId: string;
  workflow: string;
  nodeId: string;
  output: unknown;
  result: NodeResult;
}
export interface WorkflowCompleteInfo {
  runId: string;
  workflow: string;
  output: unknown;
  result: ExecutionResult;
}
export interface ErrorInfo {
  runId: string;
  workflow: string;
  /** Undefined when the error is the run's, not one step's. */
  nodeId: string | undefined;
  attempt: number | undefined;
  error: SerializedError;
  /** True when the step will be retried. */
  willRetry: boolean;
}
export interface NodeRetryInfo {
  runId: string;
  workflow: string;
  nodeId: string;
  attempt: number;
  delayMs: number;
  error: SerializedError;
}
export interface NodeSkipInfo {
  runId: string;
  workflow: string;
  nodeId: string;
  reason: string;
}
export interface CacheHitInfo {
  runId: string;
  workflow: string;
  nodeId: string;
  key: string;
}
export interface WorkflowPauseInfo {
  runId: string;
  workflow: string;
}

/** Implement any subset. Handlers may be async; Braid never waits for them. */
export interface CallbackHandler {
  onWorkflowStart?(info: WorkflowStartInfo): unknown;
  onNodeStart?(info: NodeStartInfo): unknown;
  onNodeComplete?(info: NodeCompleteInfo): unknown;
  onWorkflowComplete?(info: WorkflowCompleteInfo): unknown;
  onError?(info: ErrorInfo): unknown;
  onNodeRetry?(info: NodeRetryInfo): unknown;
  onNodeSkip?(info: NodeSkipInfo): unknown;
  onCacheHit?(info: CacheHitInfo): unknown;
  onWorkflowPause?(info: WorkflowPauseInfo): unknown;
}

type EventName = keyof CallbackHandler;
type InfoOf<E extends EventName> = Parameters<NonNullable<CallbackHandler[E]>>[0];

/**
 * Delivers run and step events to user handlers. Each call is isolated: a handler that throws is
 * reported and ignored, and a handler that returns a promise is not awaited, so a slow or hung
 * handler cannot stall a run. Events are delivered after the transition they describe is durable.
 */
export class CallbackManager {
  private readonly handlers: CallbackHandler[] = [];

  constructor(private readonly onHandlerError: (error: unknown, event: string) => void = defaultReport) {}

  addHandler(handler: CallbackHandler): () => void {
    this.handlers.push(handler);
    return () => this.removeHandler(handler);
  }

  removeHandler(handler: CallbackHandler): void {
    const i = this.handlers.indexOf(handler);
    if (i >= 0) this.handlers.splice(i, 1);
  }

  get size(): number {
    return this.handlers.length;
  }

  emit<E extends EventName>(event: E, info: InfoOf<E>): void {
    for (const handler of this.handlers) {
      const fn = handler[event] as ((info: InfoOf<E>) => unknown) | undefined;
      if (!fn) continue;
      try {
        const out = fn.call(handler, info);
        if (out && typeof (out as Promise<unknown>).then === 'function') {
          (out as Promise<unknown>).then(undefined, (error) => this.onHandlerError(error, event));
        }
      } catch (error) {
        this.onHandlerError(error, event);
      }
    }
  }
}

function defaultReport(error: unknown, event: string): void {
  console.warn(`[braid] a callback handler threw in ${event}; the run goes on:`, error);
}
