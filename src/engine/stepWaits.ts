import type { EventWaitOptions, InputWaitOptions, SleepOptions, WaitSpec } from '../model/context.js';
import { type Duration, durationMs } from '../model/durations.js';
import { InvalidInputValueError, InvalidWaitError, StepEndedError } from '../model/errors.js';
import { fromJson, toJson } from '../model/json.js';
import { jsonSchemaOf, type StandardSchemaV1 } from '../model/schema.js';
import type { WaitRecord } from '../store/types.js';
import type { ActiveRun, ActiveStep } from './runState.js';
import type { StepHost } from './stepHost.js';
import type { WaitRequest } from './suspensions.js';

/**
 * The durable wait calls of one invocation of a step (`ctx.sleep`, `waitForEvent`, `waitForInput`,
 * `waitForFirst`): each call is identified by its kind, name and order in the invocation, so a step
 * that runs again finds the waits it has finished; an unfinished one suspends the step (see
 * Suspensions) until it settles.
 */
export class StepWaits {
  /** How many waits of each kind (and name) this invocation has made: the default wait identities. */
  private readonly waitOrdinals = new Map<string, number>();
  private readonly runId: string;
  private readonly stepName: string;

  constructor(
    private readonly host: StepHost,
    private readonly run: ActiveRun,
    private readonly step: ActiveStep,
    private readonly token: number,
    private readonly attempt: number,
  ) {
    this.runId = run.rec.id;
    this.stepName = step.def.name;
  }

  sleep(duration: Duration, options?: SleepOptions): Promise<void> {
    const ms = durationMs(duration, `ctx.sleep in step "${this.stepName}"`);
    return this.sleepAt(this.host.clock.now() + ms, options?.name);
  }

  sleepUntil(time: Date | number, options?: SleepOptions): Promise<void> {
    return this.sleepAt(this.timeOf(time, 'sleepUntil'), options?.name);
  }

  async waitForEvent<T = unknown>(name: string, options: EventWaitOptions = {}): Promise<T | null> {
    {
      const key = options.name !== undefined ? `event:${name}:${options.name}` : this.ordinalKey(`event:${name}`);
      const wait = await this.durable(key, [this.eventRequest(key, name, options, options.timeout)]);
      return wait.status === 'timed_out' ? null : (eventPayload(wait) as T);
    }
  }

  async waitForInput<S extends StandardSchemaV1 | undefined = undefined>(
    name: string,
    options: InputWaitOptions<S> = {},
  ): Promise<(S extends StandardSchemaV1 ? StandardSchemaV1.InferOutput<S> : unknown) | null> {
    {
      const key = this.ordinalKey(`input:${name}`);
      const wait = await this.durable(key, [this.inputRequest(key, name, options, options.timeout)]);
      if (wait.status === 'timed_out') return null;
      return (await this.parseInput(name, wait, options.schema)) as never;
    }
  }

  async waitForFirst<W extends Record<string, WaitSpec>>(
    waits: W,
  ): Promise<{ name: keyof W & string; value: unknown }> {
    {
      const labels = Object.keys(waits);
      if (labels.length === 0) throw new InvalidWaitError(this.stepName, 'waitForFirst needs at least one wait.');
      const group = this.ordinalKey('first');
      const specs = new Map<string, WaitSpec>();
      const requests = labels.map((label) => {
        const spec = waits[label] as WaitSpec;
        const key = `${group}/${label}`;
        specs.set(key, spec);
        if ('sleep' in spec)
          return sleepRequest(key, this.host.clock.now() + durationMs(spec.sleep, `waitForFirst "${label}"`));
        if ('sleepUntil' in spec) return sleepRequest(key, this.timeOf(spec.sleepUntil, `waitForFirst "${label}"`));
        if ('event' in spec) return this.eventRequest(key, spec.event, spec, undefined);
        if ('input' in spec) return this.inputRequest(key, spec.input, spec, undefined);
        throw new InvalidWaitError(
          this.stepName,
          `waitForFirst "${label}" is not a sleep, sleepUntil, event or input wait.`,
        );
      });
      const wait = await this.durable(group, requests);
      const spec = specs.get(wait.key) as WaitSpec;
      const name = wait.key.slice(group.length + 1) as keyof W & string;
      if ('event' in spec) return { name, value: eventPayload(wait) };
      if ('input' in spec) return { name, value: await this.parseInput(spec.input, wait, spec.schema) };
      return { name, value: undefined };
    }
  }

  private async sleepAt(dueAt: number, name: string | undefined): Promise<void> {
    const key = name !== undefined ? `sleep:${name}` : this.ordinalKey('sleep');
    await this.durable(key, [sleepRequest(key, dueAt)]);
  }

  /** The settled wait of a call, at once on a re-run, or once the step has waited for it. */
  private durable(group: string, requests: readonly WaitRequest[]): Promise<WaitRecord> {
    const settled = this.host.settledWait(this.step, group);
    if (settled?.status === 'cancelled') {
      return Promise.reject(new StepEndedError(this.runId, this.stepName, this.attempt, `wait "${group}"`));
    }
    if (settled) return Promise.resolve(settled);
    return new Promise((resolve, reject) =>
      this.host.suspendOn(this.run, this.step, group, requests, { token: this.token, resolve, reject }),
    );
  }

  private ordinalKey(prefix: string): string {
    const n = this.waitOrdinals.get(prefix) ?? 0;
    this.waitOrdinals.set(prefix, n + 1);
    return `${prefix}#${n}`;
  }

  private timeOf(time: Date | number, what: string): number {
    const at = time instanceof Date ? time.getTime() : time;
    if (typeof at !== 'number' || !Number.isFinite(at)) {
      throw new InvalidWaitError(this.stepName, `${what} needs a Date or epoch milliseconds, got ${String(time)}.`);
    }
    return at;
  }

  private eventRequest(
    key: string,
    name: string,
    options: Pick<EventWaitOptions, 'match' | 'lookback'>,
    timeout: Duration | undefined,
  ): WaitRequest {
    if (typeof name !== 'string' || name.length === 0) {
      throw new InvalidWaitError(this.stepName, 'an event wait needs the event name, a non-empty string.');
    }
    const now = this.host.clock.now();
    const match = options.match;
    if (match !== undefined && typeof match !== 'string' && (match === null || typeof match !== 'object')) {
      throw new InvalidWaitError(
        this.stepName,
        `\`match\` is an event key (a string) or payload fields (an object), got ${String(match)}.`,
      );
    }
    return {
      key,
      kind: 'event',
      dueAt: timeout === undefined ? null : now + durationMs(timeout, `the timeout of waitForEvent("${name}")`),
      name,
      eventKey: typeof match === 'string' ? match : null,
      match:
        match !== undefined && typeof match === 'object' ? toJson(match, `The match of waitForEvent("${name}")`) : null,
      since:
        options.lookback === undefined
          ? this.run.rec.createdAt
          : now - durationMs(options.lookback, `the lookback of waitForEvent("${name}")`),
      afterSeq: this.lastEventSeq(name),
      request: null,
    };
  }

  private inputRequest(
    key: string,
    name: string,
    options: Pick<InputWaitOptions<StandardSchemaV1 | undefined>, 'schema' | 'payload'>,
    timeout: Duration | undefined,
  ): WaitRequest {
    if (typeof name !== 'string' || name.length === 0) {
      throw new InvalidWaitError(this.stepName, 'an input needs a name, a non-empty string.');
    }
    if (options.schema) this.host.rememberInputSchema(this.run, this.step, name, options.schema);
    const schema = jsonSchemaOf(options.schema);
    const request = toJson(
      { payload: options.payload ?? null, ...(schema ? { schema } : {}) },
      `The request of input "${name}"`,
    );
    return {
      key,
      kind: 'input',
      dueAt:
        timeout === undefined
          ? null
          : this.host.clock.now() + durationMs(timeout, `the timeout of waitForInput("${name}")`),
      name,
      eventKey: null,
      match: null,
      since: null,
      afterSeq: null,
      request,
    };
  }

  /**
   * The inbox seq of the last event of this name the step received: a later wait of the step takes
   * only events after it, so each of the step's waits for an event gets its own.
   */
  private lastEventSeq(name: string): number | null {
    let last: number | null = null;
    for (const wait of this.step.waits.values()) {
      if (wait.kind !== 'event' || wait.name !== name || wait.status !== 'resolved') continue;
      const seq = (fromJson(wait.value) as { seq?: number } | undefined)?.seq;
      if (typeof seq === 'number' && (last === null || seq > last)) last = seq;
    }
    return last;
  }

  /** The value a person gave, checked by the call's schema (which may transform it). */
  private async parseInput(name: string, wait: WaitRecord, schema: StandardSchemaV1 | undefined): Promise<unknown> {
    const value = fromJson(wait.value);
    if (!schema) return value;
    let result = schema['~standard'].validate(value);
    if (result instanceof Promise) result = await result;
    if (result.issues) throw new InvalidInputValueError(this.runId, name, result.issues);
    return result.value;
  }
}

function sleepRequest(key: string, dueAt: number): WaitRequest {
  return {
    key,
    kind: 'sleep',
    dueAt,
    name: null,
    eventKey: null,
    match: null,
    since: null,
    afterSeq: null,
    request: null,
  };
}

/** The payload of the event that resolved an event wait. */
function eventPayload(wait: WaitRecord): unknown {
  return (fromJson(wait.value) as { payload?: unknown } | undefined)?.payload ?? null;
}
