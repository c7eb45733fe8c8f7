import { apiUrl, request } from './client.js';

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

const path = (kind: 'max-runs' | 'pools', name: string) => apiUrl(`limits/${kind}/${encodeURIComponent(name)}`);

export const limitsApi = {
  list: (signal?: AbortSignal) => request<LimitsView>('GET', apiUrl('limits'), undefined, signal),
  setMaxRuns: (workflow: string, maxRuns: number) =>
    request<MaxRunsView>('PUT', path('max-runs', workflow), { maxRuns }),
  resetMaxRuns: (workflow: string) => request<void>('DELETE', path('max-runs', workflow)),
  setPoolSize: (pool: string, size: number) => request<PoolView>('PUT', path('pools', pool), { size }),
  resetPoolSize: (pool: string) => request<void>('DELETE', path('pools', pool)),
};
