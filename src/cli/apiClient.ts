/**
 * A typed client of the Braid HTTP API (src/server) over the global fetch. Every failure becomes a
 * CliError that carries its exit code: no answer is ServerUnreachableError (3), an error answer is
 * ApiRequestError (404 -> 4, 422 -> 5, 400 -> 2, anything else -> 1).
 */

import type { LimitsJson, PendingDebounceJson, RunDetailJson, RunJson, ScheduleJson } from '../server/schemas.js';
import type { RunStatus, StatusCounts } from '../store/types.js';
import { type ApiIssue, ApiRequestError, ServerUnreachableError, UnexpectedResponseError } from './errors.js';

export interface RunPageJson {
  runs: RunJson[];
  nextCursor: string | null;
}

export interface ChildCountsJson {
  total: number;
  counts: StatusCounts;
}

export interface RunListQuery {
  workflow?: string;
  status?: readonly RunStatus[];
  parentRunId?: string;
  rootRunId?: string;
  /** Epoch milliseconds. */
  since?: number;
  until?: number;
  limit?: number;
  cursor?: string;
}

export interface StartedRun {
  runId: string;
  /** False when the idempotency key named a run that already existed. */
  created: boolean;
}

export type RunAction = 'cancel' | 'pause' | 'resume';

export interface EventToSend {
  name: string;
  payload?: unknown;
  key?: string;
  idempotencyKey?: string;
}

/** What `POST /api/events` did (the executor's SentEvent). */
export interface SentEventJson {
  seq: number;
  duplicate: boolean;
  delivered: number;
  started: Array<{ workflow: string; runId: string }>;
}

/** The input wait a value resolved. */
export interface ProvidedInputJson {
  runId: string;
  name: string;
  key: string;
}

/** How long the reachability probe waits: a local server answers in a few ms. */
const PROBE_TIMEOUT_MS = 1500;

export class ApiClient {
  constructor(
    readonly url: string,
    private readonly token?: string,
  ) {}

  /** True when a Braid server answers /healthz (which needs no token). */
  async isReachable(): Promise<boolean> {
    try {
      const res = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
      const body = (await res.json()) as { ok?: unknown };
      return res.ok && body.ok === true;
    } catch {
      return false;
    }
  }

  async listRuns(query: RunListQuery): Promise<RunPageJson> {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value === undefined) continue;
      params.set(name, Array.isArray(value) ? value.join(',') : String(value));
    }
    return (await this.request<RunPageJson>('GET', `/api/runs?${params}`)).body;
  }

  async getRun(runId: string): Promise<RunDetailJson> {
    return (await this.request<RunDetailJson>('GET', `/api/runs/${encodeURIComponent(runId)}`)).body;
  }

  /** Status counts of the children one step of a run spawned. */
  async countChildren(runId: string, step: string): Promise<ChildCountsJson> {
    const params = new URLSearchParams({ step, limit: '1' });
    const path = `/api/runs/${encodeURIComponent(runId)}/children?${params}`;
    const { body } = await this.request<ChildCountsJson>('GET', path);
    return { total: body.total, counts: body.counts };
  }

  async startRun(
    workflow: string,
    body: { input: unknown; idempotencyKey?: string; priority?: number },
  ): Promise<StartedRun> {
    const path = `/api/workflows/${encodeURIComponent(workflow)}/runs`;
    const res = await this.request<{ runId: string }>('POST', path, body);
    return { runId: res.body.runId, created: res.status === 201 };
  }

  async act(
    runId: string,
    action: RunAction,
    body?: { reason?: string },
  ): Promise<{ runId: string; status: RunStatus }> {
    const path = `/api/runs/${encodeURIComponent(runId)}/${action}`;
    return (await this.request<{ runId: string; status: RunStatus }>('POST', path, body)).body;
  }

  /** Sends an event (`POST /api/events`): recorded, delivered to its waiters, starting its workflows. */
  async sendEvent(event: EventToSend): Promise<SentEventJson> {
    return (await this.request<SentEventJson>('POST', '/api/events', event)).body;
  }

  /** Gives the value a run waits for (`POST /api/runs/:id/inputs/:name`). */
  async provideInput(runId: string, name: string, value: unknown): Promise<ProvidedInputJson> {
    const path = `/api/runs/${encodeURIComponent(runId)}/inputs/${encodeURIComponent(name)}`;
    return (await this.request<ProvidedInputJson>('POST', path, { value })).body;
  }

  /** Forks an ended run from a step (`POST /api/runs/:id/fork`). */
  async fork(
    runId: string,
    body: { from: string; input?: unknown; outputs?: Record<string, unknown>; version?: string },
  ): Promise<{ runId: string; forkedFrom: { runId: string; step: string } }> {
    const path = `/api/runs/${encodeURIComponent(runId)}/fork`;
    return (await this.request<{ runId: string; forkedFrom: { runId: string; step: string } }>('POST', path, body))
      .body;
  }

  async replay(runId: string): Promise<{ runId: string; replayOf: string }> {
    const path = `/api/runs/${encodeURIComponent(runId)}/replay`;
    return (await this.request<{ runId: string; replayOf: string }>('POST', path)).body;
  }

  /**
   * Opens the event stream of a run and its descendants (`GET /api/events?runId=`), resolving once
   * the server has answered. Through fetch, not EventSource: it can send the bearer token.
   */
  async openEvents(runId: string, signal: AbortSignal): Promise<ReadableStream<string>> {
    const path = `/api/events?${new URLSearchParams({ runId })}`;
    const res = await this.send('GET', path, undefined, { accept: 'text/event-stream' }, signal);
    if (!res.ok || !res.body) await this.throwFor(res);
    return res.body!.pipeThrough(new TextDecoderStream());
  }

  /** Pending debounced triggers (`GET /api/debounces`), soonest due first. */
  async listDebounces(query: { workflow?: string; limit?: number }): Promise<PendingDebounceJson[]> {
    const params = new URLSearchParams();
    if (query.workflow !== undefined) params.set('workflow', query.workflow);
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    return (await this.request<{ debounces: PendingDebounceJson[] }>('GET', `/api/debounces?${params}`)).body.debounces;
  }

  async listSchedules(): Promise<{ schedules: ScheduleJson[] }> {
    return (await this.request<{ schedules: ScheduleJson[] }>('GET', '/api/schedules')).body;
  }

  async createSchedule(body: Record<string, unknown>): Promise<ScheduleJson> {
    return (await this.request<ScheduleJson>('POST', '/api/schedules', body)).body;
  }

  async scheduleAction(id: string, action: 'pause' | 'resume'): Promise<ScheduleJson> {
    return (await this.request<ScheduleJson>('POST', `/api/schedules/${encodeURIComponent(id)}/${action}`)).body;
  }

  async triggerSchedule(id: string): Promise<{ runId: string }> {
    return (await this.request<{ runId: string }>('POST', `/api/schedules/${encodeURIComponent(id)}/trigger`)).body;
  }

  async backfillSchedule(id: string, from: string, to: string): Promise<{ runIds: string[] }> {
    const path = `/api/schedules/${encodeURIComponent(id)}/backfill`;
    return (await this.request<{ runIds: string[] }>('POST', path, { from, to })).body;
  }

  async listLimits(): Promise<LimitsJson> {
    return (await this.request<LimitsJson>('GET', '/api/limits')).body;
  }

  /** `kind`: the path segment, `max-runs` (body `{ maxRuns }`) or `pools` (body `{ size }`). */
  async setLimit(kind: 'max-runs' | 'pools', name: string, value: number): Promise<unknown> {
    const body = kind === 'max-runs' ? { maxRuns: value } : { size: value };
    return (await this.request<unknown>('PUT', `/api/limits/${kind}/${encodeURIComponent(name)}`, body)).body;
  }

  async resetLimit(kind: 'max-runs' | 'pools', name: string): Promise<void> {
    const res = await this.send('DELETE', `/api/limits/${kind}/${encodeURIComponent(name)}`, undefined, {
      accept: 'application/json',
    });
    if (!res.ok) await this.throwFor(res);
  }

  async deleteSchedule(id: string): Promise<void> {
    const res = await this.send('DELETE', `/api/schedules/${encodeURIComponent(id)}`, undefined, {
      accept: 'application/json',
    });
    if (!res.ok) await this.throwFor(res);
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await this.send(method, path, body, { accept: 'application/json' });
    if (!res.ok) await this.throwFor(res);
    if (!isJson(res)) throw new UnexpectedResponseError(this.url, res.status, res.headers.get('content-type'));
    return { status: res.status, body: (await res.json()) as T };
  }

  private async send(
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<Response> {
    const allHeaders: Record<string, string> = { ...headers };
    if (this.token) allHeaders.authorization = `Bearer ${this.token}`;
    if (body !== undefined) allHeaders['content-type'] = 'application/json';
    try {
      return await fetch(`${this.url}${path}`, {
        method,
        headers: allHeaders,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new ServerUnreachableError(this.url, error);
    }
  }

  private async throwFor(res: Response): Promise<never> {
    if (!isJson(res)) throw new UnexpectedResponseError(this.url, res.status, res.headers.get('content-type'));
    const body = (await res.json()) as { error?: { code?: string; message?: string; issues?: ApiIssue[] } };
    const error = body.error ?? {};
    throw new ApiRequestError(
      res.status,
      error.code ?? 'http_error',
      error.message ?? `The server answered ${res.status}.`,
      error.issues ?? [],
    );
  }
}

function isJson(res: Response): boolean {
  return (res.headers.get('content-type') ?? '').includes('application/json');
}
