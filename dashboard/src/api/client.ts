import type {
  ApiErrorBody,
  ApiIssue,
  ChildrenPage,
  RunDetail,
  RunPage,
  RunStatus,
  Schedule,
  ScheduleDetail,
  WorkflowShape,
} from './types.js';

const TOKEN_KEY = 'braid.token';

/**
 * Takes `?token=` from the page's URL once, keeps it in sessionStorage (gone when the tab closes)
 * and removes it from the address bar, so it is not left in the history or shown on screen.
 */
export function captureTokenFromUrl(): void {
  const url = new URL(window.location.href);
  const token = url.searchParams.get('token');
  if (token === null) return;
  if (token === '') sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
  url.searchParams.delete('token');
  window.history.replaceState(window.history.state, '', url.toString());
}

export function setToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function authHeaders(): Record<string, string> {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/** API paths are relative to the page, so the dashboard works wherever the server mounts it. */
export function apiUrl(path: string, query: Record<string, string | number | boolean | undefined> = {}): string {
  const url = new URL(`api/${path}`, document.baseURI);
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') url.searchParams.set(key, String(value));
  }
  return url.toString();
}

/** A non-2xx answer: the API's `{ error: { code, message, issues? } }`, or what the response said. */
export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** What is wrong with each field, when a schema refused the request (a 400 or a 422). */
    readonly issues: readonly ApiIssue[] = [],
  ) {
    super(message);
    this.name = 'ApiRequestError';
  }

  get isUnauthorized(): boolean {
    return this.status === 401;
  }
}

export async function errorFromResponse(res: Response): Promise<ApiRequestError> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as ApiErrorBody;
    if (body?.error?.message) {
      return new ApiRequestError(res.status, body.error.code, body.error.message, body.error.issues ?? []);
    }
  } catch {
    // Not JSON (a proxy's error page): fall through to the status line.
  }
  return new ApiRequestError(res.status, 'http_error', `${res.status} ${res.statusText || 'error'}`.trim());
}

/** One API call: JSON in and out, with the tab's token; a non-2xx answer throws an ApiRequestError. */
export async function request<T>(
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  url: string,
  body?: unknown,
  signal?: AbortSignal,
): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...authHeaders() };
  const init: RequestInit = { method, headers, cache: 'no-store' };
  if (signal) init.signal = signal;
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(url, init);
  if (!res.ok) throw await errorFromResponse(res);
  // A 204 (a reset) has no body.
  return (res.status === 204 ? undefined : await res.json()) as T;
}

export interface RunListQuery {
  workflow?: string | undefined;
  status?: RunStatus | undefined;
  /** Only runs no other run spawned. Sent as `topLevel=true`. */
  isTopLevel?: boolean | undefined;
  /** Only the children of this run. */
  parentRunId?: string | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

export interface ChildrenQuery {
  step?: string | undefined;
  status?: RunStatus | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

export const api = {
  listRuns: (q: RunListQuery, signal?: AbortSignal) =>
    request<RunPage>(
      'GET',
      apiUrl('runs', {
        workflow: q.workflow,
        status: q.status,
        topLevel: q.isTopLevel ? 'true' : undefined,
        parentRunId: q.parentRunId,
        limit: q.limit,
        cursor: q.cursor,
      }),
      undefined,
      signal,
    ),
  getRun: (id: string, signal?: AbortSignal) =>
    request<RunDetail>('GET', apiUrl(`runs/${encodeURIComponent(id)}`), undefined, signal),
  listChildren: (id: string, q: ChildrenQuery, signal?: AbortSignal) =>
    request<ChildrenPage>(
      'GET',
      apiUrl(`runs/${encodeURIComponent(id)}/children`, {
        step: q.step,
        status: q.status,
        limit: q.limit,
        cursor: q.cursor,
      }),
      undefined,
      signal,
    ),
  listWorkflows: (signal?: AbortSignal) =>
    request<{ workflows: WorkflowShape[] }>('GET', apiUrl('workflows'), undefined, signal),
  /** `priority` left out: the workflow's own, else 0. */
  startRun: (workflow: string, input: unknown, priority?: number) =>
    request<{ runId: string }>('POST', apiUrl(`workflows/${encodeURIComponent(workflow)}/runs`), {
      input,
      ...(priority === undefined ? {} : { priority }),
    }),
  cancelRun: (id: string) =>
    request<{ runId: string; status: RunStatus }>('POST', apiUrl(`runs/${encodeURIComponent(id)}/cancel`), {}),
  pauseRun: (id: string) =>
    request<{ runId: string; status: RunStatus }>('POST', apiUrl(`runs/${encodeURIComponent(id)}/pause`)),
  resumeRun: (id: string) =>
    request<{ runId: string; status: RunStatus }>('POST', apiUrl(`runs/${encodeURIComponent(id)}/resume`)),
  provideInput: (id: string, name: string, value: unknown) =>
    request<{ runId: string; name: string; key: string }>(
      'POST',
      apiUrl(`runs/${encodeURIComponent(id)}/inputs/${encodeURIComponent(name)}`),
      { value },
    ),
  replayRun: (id: string) =>
    request<{ runId: string; replayOf: string }>('POST', apiUrl(`runs/${encodeURIComponent(id)}/replay`)),
  forkRun: (id: string, body: { from: string; input: unknown }) =>
    request<{ runId: string; forkedFrom: { runId: string; step: string } }>(
      'POST',
      apiUrl(`runs/${encodeURIComponent(id)}/fork`),
      body,
    ),
  listSchedules: (signal?: AbortSignal) =>
    request<{ schedules: Schedule[] }>('GET', apiUrl('schedules'), undefined, signal),
  getSchedule: (id: string, signal?: AbortSignal) =>
    request<ScheduleDetail>('GET', apiUrl(`schedules/${encodeURIComponent(id)}`), undefined, signal),
  scheduleAction: (id: string, action: 'pause' | 'resume') =>
    request<Schedule>('POST', apiUrl(`schedules/${encodeURIComponent(id)}/${action}`)),
  triggerSchedule: (id: string) =>
    request<{ runId: string }>('POST', apiUrl(`schedules/${encodeURIComponent(id)}/trigger`)),
};
