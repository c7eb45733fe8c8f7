/**
 * Stored records as the API shows them: JSON payloads parsed (they are stored as text), times in
 * epoch milliseconds, durations worked out, and step attempts rebuilt from the event history.
 */
import type { ExecutionResult } from '../engine/result.js';
import type { SerializedError } from '../model/errors.js';
import { scheduleInfoOf } from '../model/scheduleInfo.js';
import type { EventRecord, InboxEvent, RunRecord, StepRecord, WaitRecord } from '../store/types.js';
import type {
  AttemptJson,
  EventJson,
  ExecutionSummaryJson,
  InboxEventJson,
  RunJson,
  StepJson,
  WaitJson,
} from './schemas.js';

/** A paused run's duration stops at its pause (`pausedAt`, stored on the run). */
export function runView(run: RunRecord, now = Date.now()): RunJson {
  const pausedAt = run.status === 'paused' ? run.pausedAt : null;
  const isPaused = pausedAt !== null;
  return {
    id: run.id,
    workflow: run.workflow,
    version: run.version,
    status: run.status,
    input: parse(run.input),
    output: parse(run.output) ?? null,
    error: parseError(run.error),
    globals: (parse(run.globals) as Record<string, unknown> | undefined) ?? {},
    idempotencyKey: run.idempotencyKey,
    parentRunId: run.parentRunId,
    parentStep: run.parentStep,
    spawnKey: run.spawnKey,
    rootRunId: run.rootRunId,
    concurrencyKey: run.concurrencyKey,
    replayOf: run.replayOf,
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    deadlineAt: run.deadlineAt,
    pausedAt: isPaused ? pausedAt : null,
    durationMs: duration(run.startedAt, run.finishedAt ?? (isPaused ? pausedAt : null), now),
    priority: run.priority,
    ...scheduleOfRun(run.idempotencyKey),
  };
}

/** `schedule` on a run a schedule started (its tick's scheduled time and the one before); absent otherwise. */
function scheduleOfRun(key: string | null): Pick<RunJson, 'schedule'> {
  const info = scheduleInfoOf(key);
  if (!info) return {};
  return {
    schedule: {
      id: info.id,
      scheduledAt: info.scheduledAt.getTime(),
      previousScheduledAt: info.previousScheduledAt?.getTime() ?? null,
    },
  };
}

export function stepView(step: StepRecord, parents: readonly string[], now = Date.now()): StepJson {
  return {
    name: step.name,
    status: step.status,
    parents: [...parents],
    attempts: step.attempts,
    output: parse(step.output) ?? null,
    error: parseError(step.error),
    startedAt: step.startedAt,
    finishedAt: step.finishedAt,
    durationMs: duration(step.startedAt, step.finishedAt, now),
    nextAttemptAt: step.nextAttemptAt,
    route: (parse(step.route) as string[] | undefined) ?? null,
    cacheHit: step.cacheHit,
    fallbackUsed: step.fallbackUsed,
  };
}

/** A step the run has not reached yet (steps are stored when first touched). */
export function pendingStepView(name: string, parents: readonly string[]): StepJson {
  return {
    name,
    status: 'pending',
    parents: [...parents],
    attempts: 0,
    output: null,
    error: null,
    startedAt: null,
    finishedAt: null,
    durationMs: null,
    nextAttemptAt: null,
    route: null,
    cacheHit: false,
    fallbackUsed: false,
  };
}

export function eventView(event: EventRecord): EventJson {
  return {
    seq: event.seq ?? 0,
    runId: event.runId,
    step: event.step,
    type: event.type,
    at: event.at,
    attempt: event.attempt,
    data: parse(event.data) ?? null,
  };
}

/** A wait with its JSON parsed: the request an input shows, the match, what resolved it. */
export function waitView(wait: WaitRecord): WaitJson {
  const request = parse(wait.request) as { payload?: unknown; schema?: Record<string, unknown> } | undefined;
  return {
    step: wait.step,
    key: wait.key,
    group: wait.group,
    kind: wait.kind,
    status: wait.status,
    name: wait.name,
    dueAt: wait.dueAt,
    eventKey: wait.eventKey,
    match: (parse(wait.match) as Record<string, unknown> | undefined) ?? null,
    request: request === undefined ? null : { payload: request.payload ?? null, schema: request.schema ?? null },
    value: parse(wait.value) ?? null,
    createdAt: wait.createdAt,
    resolvedAt: wait.resolvedAt,
  };
}

export function inboxEventView(event: InboxEvent): InboxEventJson {
  return {
    seq: event.seq ?? 0,
    name: event.name,
    key: event.key,
    payload: parse(event.payload) ?? null,
    idempotencyKey: event.idempotencyKey,
    createdAt: event.createdAt,
  };
}

export function executionSummary(result: ExecutionResult): ExecutionSummaryJson {
  return {
    runId: result.runId,
    status: result.status,
    success: result.success,
    output: result.output ?? null,
    error: result.error ?? null,
    executionTime: result.executionTime,
    nodeExecutionOrder: [...result.nodeExecutionOrder],
    partialResults: { ...result.partialResults },
  };
}

/**
 * Rebuilds each attempt from the events: a `step_started` opens attempt N, and the next event of
 * that step that ends it (succeeded, retrying, failed, fallback, cancelled) closes it. An attempt
 * still open when the step starts again was cut short by a restart (`interrupted`); one still open
 * at the end of the history is `running`.
 */
export function attemptsFromEvents(events: readonly EventRecord[]): AttemptJson[] {
  const attempts: AttemptJson[] = [];
  const open = new Map<string, AttemptJson>();
  for (const event of events) {
    if (event.step === null) continue;
    const current = open.get(event.step);
    if (event.type === 'step_started') {
      if (current) close(current, 'interrupted', event.at, null, false);
      const attempt: AttemptJson = {
        step: event.step,
        attempt: event.attempt ?? (current ? current.attempt + 1 : 1),
        startedAt: event.at,
        finishedAt: null,
        durationMs: null,
        outcome: 'running',
        willRetry: false,
        error: null,
      };
      attempts.push(attempt);
      open.set(event.step, attempt);
      continue;
    }
    if (!current) continue;
    const data = parse(event.data) as { error?: SerializedError } | null | undefined;
    if (event.type === 'step_succeeded') close(current, 'succeeded', event.at, null, false);
    else if (event.type === 'step_retrying') close(current, 'failed', event.at, data?.error ?? null, true);
    else if (event.type === 'step_failed' || event.type === 'step_fallback') {
      close(current, 'failed', event.at, data?.error ?? null, false);
    } else if (event.type === 'step_cancelled') close(current, 'cancelled', event.at, null, false);
    else continue;
    open.delete(event.step);
  }
  return attempts;
}

function close(
  attempt: AttemptJson,
  outcome: AttemptJson['outcome'],
  at: number,
  error: SerializedError | null,
  willRetry: boolean,
): void {
  attempt.outcome = outcome;
  attempt.finishedAt = at;
  attempt.durationMs = at - attempt.startedAt;
  attempt.error = error;
  attempt.willRetry = willRetry;
}

function duration(startedAt: number | null, finishedAt: number | null, now: number): number | null {
  if (startedAt === null) return null;
  return (finishedAt ?? now) - startedAt;
}

function parse(text: string | null): unknown {
  return text === null ? undefined : JSON.parse(text);
}

function parseError(text: string | null): SerializedError | null {
  return text === null ? null : (JSON.parse(text) as SerializedError);
}
