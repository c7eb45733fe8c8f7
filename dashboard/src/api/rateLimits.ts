import { apiUrl, request } from './client.js';
import type { RateLimitView } from './types.js';

export const rateLimitsApi = {
  list: (signal?: AbortSignal) =>
    request<{ rateLimits: RateLimitView[] }>('GET', apiUrl('rate-limits'), undefined, signal),
  set: (name: string, limit: number, period: string) =>
    request<RateLimitView>('PUT', apiUrl('rate-limits'), { name, limit, period }),
  reset: (name: string) => request<void>('DELETE', apiUrl('rate-limits', { name })),
};
