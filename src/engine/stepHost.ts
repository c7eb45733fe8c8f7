import type { SpawnableWorkflow } from '../model/context.js';
import type { StandardSchemaV1 } from '../model/schema.js';
import type { RunRecord, StreamChunk, WaitRecord } from '../store/types.js';
import type { ChildRegistry } from './children.js';
import type { Clock } from './clock.js';
import type { ExecutionResult } from './result.js';
import type { ActiveRun, ActiveStep, Continuation, NewRunSpec, WorkflowPlan } from './runState.js';
import type { WaitRequest } from './suspensions.js';

/** What a step's context needs from the engine: a narrow port, so the context never sees the engine. */
export interface StepHost {
  /** The engine's clock: sleeps, timeouts and timestamps a step sets read the time here. */
  readonly clock: Clock;
  /** The engine's index from child run id to the registry of the step that spawned it. */
  readonly childIndex: Map<string, ChildRegistry>;
  /** The plan of a workflow given by object (registered on first use) or by name. */
  planOf(workflow: SpawnableWorkflow | string): WorkflowPlan;
  /** Creates a run in the current batch (synchronously, so a fan-out is one transaction). */
  addRun(spec: NewRunSpec): RunRecord;
  /** Cancels children a join no longer needs. */
  cancelChildren(runIds: readonly string[], reason: string): void;
  /** The step gives its slot back while it waits. */
  suspend(run: ActiveRun, step: ActiveStep): void;
  /** The step takes a slot back, ahead of new work: true once it has one, false if the attempt ended. */
  resume(run: ActiveRun, step: ActiveStep, token: number, then: (outcome: boolean | Error) => void): void;
  /** Waits for a run to end (for a handle used after the attempt that spawned it). */
  waitForRun(runId: string): Promise<ExecutionResult>;
  /** The settled wait of a wait group of the step, if it has one (a re-run finds it). */
  settledWait(step: ActiveStep, group: string): WaitRecord | undefined;
  /** An input's schema, so a value given for it is checked with the schema itself. */
  rememberInputSchema(run: ActiveRun, step: ActiveStep, name: string, schema: StandardSchemaV1): void;
  /** Bounds of one attempt's stream (ExecutionConfig.streamMaxChunks / streamMaxBytes). */
  readonly streamLimits: { readonly maxChunks: number; readonly maxBytes: number };
  /** Appends a stream chunk to the next commit; resolves once it is durable. */
  appendChunk(chunk: StreamChunk): Promise<void>;
  /** Records a step's latest progress (in memory only). */
  reportProgress(runId: string, step: string, value: unknown): void;
  /** Suspends the step on the waits of one call; the continuation runs once the group settles. */
  suspendOn(
    run: ActiveRun,
    step: ActiveStep,
    group: string,
    requests: readonly WaitRequest[],
    continuation: Continuation,
  ): void;
}
