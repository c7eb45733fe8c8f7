import {
  InputNotAwaitedError,
  InvalidEventError,
  InvalidInputValueError,
  InvalidStateError,
  RunNotFoundError,
} from '../model/errors.js';
import { fromJson, toJson } from '../model/json.js';
import { jsonSchemaIssues } from '../model/jsonSchemaCheck.js';
import { type StandardSchemaV1, validateInput } from '../model/schema.js';
import type { CommitResult, Store } from '../store/store.js';
import {
  type InboxEvent,
  type InputResolution,
  isTerminalRun,
  type RunRecord,
  type WaitRecord,
  type WriteBatch,
} from '../store/types.js';
import type { Clock } from './clock.js';
import { newRunId } from './ids.js';
import type { WorkflowRegistry } from './registry.js';
import type { NewRunSpec } from './runState.js';
import type { RunTable } from './runTable.js';
import type { WriteQueue } from './writeQueue.js';

export interface SendEventOptions {
  /** The event's key: waiters that match on a key (`waitForEvent(name, { match: key })`) get only it. */
  key?: string;
  /** One event per key, however often it is sent (a retried webhook): later sends deliver nothing. */
  idempotencyKey?: string;
}

export interface SentEvent {
  /** The event's place in the inbox. */
  seq: number;
  /** True when an event with the same idempotency key was already recorded: nothing was delivered. */
  duplicate: boolean;
  /** How many waiting steps it resolved. */
  delivered: number;
  /** Runs it started: workflows triggered by this event (`on: { event }`). */
  started: Array<{ workflow: string; runId: string }>;
}

export interface ProvidedInput {
  runId: string;
  name: string;
  /** The wait it resolved (`input:<name>#<occurrence>`). */
  key: string;
}

const MAX_EVENT_NAME = 200;

const schemaKey = (workflow: string, step: string, input: string) => `${workflow}\0${step}\0${input}`;

/**
 * The way in for events and people: `sendEvent` records an event in the inbox and resolves the
 * waits it matches, in the same commit, and starts the workflows it triggers; `provideInput` checks
 * a value against the input's schema and resolves the pending input with a compare-and-set. Both
 * answer once that commit is durable.
 */
export class Inbox {
  private readonly sent = new Map<InboxEvent, { delivered: number; duplicate: boolean; error?: unknown }>();
  private readonly provided = new Map<InputResolution, WaitRecord | Error | null>();
  /**
   * The schemas of inputs, by workflow, step and input name, as their steps last asked with them:
   * a value is checked with the schema itself (refinements included) in a process that has run the
   * step, and against the schema's JSON Schema elsewhere (or after a restart, before the step runs).
   */
  private readonly inputSchemas = new Map<string, StandardSchemaV1>();

  constructor(
    private readonly store: Store,
    private readonly queue: WriteQueue,
    private readonly runs: RunTable,
    private readonly registry: WorkflowRegistry,
    private readonly hooks: {
      addRun(spec: NewRunSpec): RunRecord;
      assertOpen(): void;
    },
    private readonly clock: Clock,
  ) {}

  async sendEvent(name: string, payload: unknown, options: SendEventOptions = {}): Promise<SentEvent> {
    this.hooks.assertOpen();
    if (typeof name !== 'string' || name.length === 0 || name.length > MAX_EVENT_NAME) {
      throw new InvalidEventError(`its name must be a non-empty string of at most ${MAX_EVENT_NAME} characters.`);
    }
    for (const option of ['key', 'idempotencyKey'] as const) {
      const value = options[option];
      if (value !== undefined && (typeof value !== 'string' || value.length === 0)) {
        throw new InvalidEventError(`\`${option}\` must be a non-empty string.`);
      }
    }
    let json: string;
    try {
      json = toJson(payload, `The payload of event "${name}"`);
    } catch (error) {
      throw new InvalidEventError((error as Error).message, { cause: error });
    }
    // Workflows this event starts: their inputs are checked before anything is recorded.
    const triggered = this.registry.workflows().filter((w) => w.options.on?.event === name);
    const inputs = await Promise.all(
      triggered.map(async (w) => ({
        plan: this.registry.planFor(w.name),
        input: await validateInput(w.name, w.options.input, fromJson(json)),
      })),
    );
    this.hooks.assertOpen();
    const event: InboxEvent = {
      name,
      key: options.key ?? null,
      payload: json,
      idempotencyKey: options.idempotencyKey ?? null,
      createdAt: this.clock.now(),
    };
    // Triggered runs are keyed by the event, so a repeated send starts nothing more.
    const eventId = options.idempotencyKey ?? newRunId();
    const started = inputs.map(({ plan, input }) => {
      const inputJson = toJson(input, `The input of workflow "${plan.workflow.name}"`);
      const rec = this.hooks.addRun({
        plan,
        input: fromJson(inputJson),
        inputJson,
        id: newRunId(),
        idempotencyKey: `event:${name}:${eventId}:${plan.workflow.name}`,
        globals: {},
        parent: null,
        replayOf: null,
      });
      return { workflow: plan.workflow.name, runId: rec.id };
    });
    this.sent.set(event, { delivered: 0, duplicate: false });
    this.queue.sendEvent(event);
    await this.queue.flushed();
    const outcome = this.sent.get(event) ?? { delivered: 0, duplicate: false };
    this.sent.delete(event);
    if (outcome.error) throw outcome.error;
    if (outcome.duplicate) {
      // The runs it would start exist already (their keys name them): report those.
      const known = await Promise.all(
        started.map(async (s) => ({
          workflow: s.workflow,
          runId: (await this.store.findRunByIdempotencyKey(`event:${name}:${eventId}:${s.workflow}`))?.id ?? s.runId,
        })),
      );
      return { seq: event.seq ?? 0, duplicate: true, delivered: 0, started: known };
    }
    return { seq: event.seq ?? 0, duplicate: false, delivered: outcome.delivered, started };
  }

  async provideInput(runId: string, name: string, value: unknown): Promise<ProvidedInput> {
    this.hooks.assertOpen();
    const rec = this.runs.get(runId)?.rec ?? (await this.store.getRun(runId));
    if (!rec) throw new RunNotFoundError(runId);
    if (isTerminalRun(rec.status)) throw new InvalidStateError(runId, rec.status, 'give an input to');
    const waits = await this.waitsOf(runId);
    const now = this.clock.now();
    // An input whose timeout has passed is over, even if nothing has marked it timed out yet.
    const pending = waits
      .filter((w) => w.kind === 'input' && w.status === 'pending' && (w.dueAt === null || w.dueAt > now))
      .sort((a, b) => a.createdAt - b.createdAt || (a.key < b.key ? -1 : 1));
    const wait = pending.find((w) => w.name === name);
    if (!wait) throw new InputNotAwaitedError(runId, name, [...new Set(pending.map((w) => w.name as string))]);
    const valueJson = toJson(value, `The value for input "${name}"`);
    const stored = fromJson(valueJson);
    const schema = this.inputSchemas.get(schemaKey(rec.workflow, wait.step, name));
    if (schema) {
      let checked = schema['~standard'].validate(stored);
      if (checked instanceof Promise) checked = await checked;
      if (checked.issues) throw new InvalidInputValueError(runId, name, checked.issues);
    } else {
      const jsonSchema = (fromJson(wait.request) as { schema?: Record<string, unknown> } | null)?.schema;
      const issues = jsonSchema ? jsonSchemaIssues(jsonSchema, stored) : [];
      if (issues.length) throw new InvalidInputValueError(runId, name, issues);
    }
    const input: InputResolution = { runId, name, value: valueJson, at: this.clock.now() };
    this.provided.set(input, null);
    this.queue.provideInput(input);
    await this.queue.flushed();
    const resolved = this.provided.get(input) ?? null;
    this.provided.delete(input);
    if (resolved instanceof Error) throw resolved;
    // Someone else answered first, or the wait timed out, between the check and the commit.
    if (!resolved) throw new InputNotAwaitedError(runId, name, []);
    return { runId, name, key: resolved.key };
  }

  /** A step asked for an input with this schema: values for it are checked with the schema itself. */
  rememberInputSchema(workflow: string, step: string, name: string, schema: StandardSchemaV1): void {
    this.inputSchemas.set(schemaKey(workflow, step, name), schema);
  }

  /** The waits of a run: from memory when it is here (fresher than the store until the next commit). */
  async waitsOf(runId: string): Promise<WaitRecord[]> {
    const run = this.runs.get(runId);
    if (!run) return this.store.getWaits(runId);
    const out: WaitRecord[] = [];
    for (const step of run.steps.values()) out.push(...step.waits.values());
    return out.sort((a, b) => a.createdAt - b.createdAt);
  }

  /** The batch holding these events and inputs could not be written: their callers get the error. */
  failed(error: unknown, batch: WriteBatch): void {
    for (const event of batch.inbox ?? []) {
      const outcome = this.sent.get(event);
      if (outcome) outcome.error = error;
    }
    for (const input of batch.inputs ?? []) {
      if (this.provided.has(input)) this.provided.set(input, error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** What a commit did with the batch's events and inputs (called before the batch's effects). */
  committed(result: CommitResult, batch: WriteBatch): void {
    const duplicates = new Set(result.duplicateEvents ?? []);
    const unmatched = new Set(result.unmatchedInputs ?? []);
    for (const event of batch.inbox ?? []) {
      const outcome = this.sent.get(event);
      if (!outcome) continue;
      outcome.duplicate = duplicates.has(event);
      if (!outcome.duplicate) {
        outcome.delivered = (result.settledWaits ?? []).filter(
          (w) =>
            w.status === 'resolved' && w.kind === 'event' && (fromJson(w.value) as { seq?: number })?.seq === event.seq,
        ).length;
      }
    }
    for (const input of batch.inputs ?? []) {
      if (!this.provided.has(input) || unmatched.has(input)) continue;
      const wait = (result.settledWaits ?? []).find(
        (w) => w.runId === input.runId && w.kind === 'input' && w.name === input.name && w.value === input.value,
      );
      this.provided.set(input, wait ?? null);
    }
  }
}
