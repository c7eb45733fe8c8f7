import { apiUrl, request } from './client.js';
import type { LimitsView, MaxRunsView, PoolView } from './types.js';

const path = (kind: 'max-runs' | 'pools', name: string) => apiUrl(`limits/${kind}/${encodeURIComponent(name)}`);

export const limitsApi = {
  list: (signal?: AbortSignal) => request<LimitsView>('GET', apiUrl('limits'), undefined, signal),
  setMaxRuns: (workflow: string, maxRuns: number) =>
    request<MaxRunsView>('PUT', path('max-runs', workflow), { maxRuns }),
  resetMaxRuns: (workflow: string) => request<void>('DELETE', path('max-runs', workflow)),
  setPoolSize: (pool: string, size: number) => request<PoolView>('PUT', path('pools', pool), { size }),
  resetPoolSize: (pool: string) => request<void>('DELETE', path('pools', pool)),
};
