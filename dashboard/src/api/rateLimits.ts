import { apiUrl, authHeaders, errorFromResponse } from './client.js';

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

export const rateLimitsApi = {
  list: async (signal?: AbortSignal) =>
    (await send('GET', apiUrl('rate-limits'), undefined, signal)) as { rateLimits: RateLimitView[] },
  set: async (name: string, limit: number, period: string) =>
    (await send('PUT', apiUrl('rate-limits'), { name, limit, period })) as RateLimitView,
  reset: async (name: string) => {
    await send('DELETE', apiUrl('rate-limits', { name }));
  },
};
