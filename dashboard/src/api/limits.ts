import { apiUrl, authHeaders, errorFromResponse } from './client.js';

/** A workflow's maxRuns as GET /api/limits shows it. */
export interface MaxRunsView {
  workflow: string;
  maxRuns: number;
  defined: number;
  setting: { value: number; updatedAt: number } | null;
  onConcurrencyLimit: 'queue' | 'cancel-newest' | 'cancel-oldest';
  keys: Array<{ key: string; active: number; queued: number }>;
}

/** A resource pool as GET /api/limits shows it. */
export interface PoolView {
  pool: string;
  size: number;
  defined: number;
  setting: { value: number; updatedAt: number } | null;
  busy: number;
  waiting: number;
}

export interface LimitsView {
  maxRuns: MaxRunsView[];
  pools: PoolView[];
}

async function send(method: 'GET' | 'PUT' | 'DELETE', url: string, body?: unknown, signal?: AbortSignal) {
  const headers: Record<string, string> = { Accept: 'application/json', ...authHeaders() };
  const init: RequestInit = { method, headers, cache: 'no-store' };
  if (signal) init.signal = signal;
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(url, init);
  if (!res.ok) throw await errorFromResponse(res);
  return res.status === 204 ? undefined : ((await res.json()) as unknown);
}

const path = (kind: 'max-runs' | 'pools', name: string) => apiUrl(`limits/${kind}/${encodeURIComponent(name)}`);

export const limitsApi = {
  list: async (signal?: AbortSignal) => (await send('GET', apiUrl('limits'), undefined, signal)) as LimitsView,
  setMaxRuns: async (workflow: string, maxRuns: number) =>
    (await send('PUT', path('max-runs', workflow), { maxRuns })) as MaxRunsView,
  resetMaxRuns: async (workflow: string) => {
    await send('DELETE', path('max-runs', workflow));
  },
  setPoolSize: async (pool: string, size: number) => (await send('PUT', path('pools', pool), { size })) as PoolView,
  resetPoolSize: async (pool: string) => {
    await send('DELETE', path('pools', pool));
  },
};
