import { apiUrl, request } from './client.js';

/** One rate limit as GET /api/rate-limits shows it. */
export interface RateLimitView {
  name: string;
  limit: number;
  periodMs: number;
  burst: number;
  onLimit: 'queue' | 'drop';
  defined: { limit: number; periodMs: number } | null;
  setting: { limit: number; periodMs: number; updatedAt: number } | null;
  appliesTo: string[];
  keys: Array<{ key: string; used: number; queued: number; nextStartAt: number }>;
  counts: { started: number; queued: number; dropped: number };
}

export const rateLimitsApi = {
  list: (signal?: AbortSignal) =>
    request<{ rateLimits: RateLimitView[] }>('GET', apiUrl('rate-limits'), undefined, signal),
  set: (name: string, limit: number, period: string) =>
    request<RateLimitView>('PUT', apiUrl('rate-limits'), { name, limit, period }),
  reset: (name: string) => request<void>('DELETE', apiUrl('rate-limits', { name })),
};
