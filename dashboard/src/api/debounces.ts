import { apiUrl, request } from './client.js';
import type { PendingDebounce } from './types.js';

export const debouncesApi = {
  list: (signal?: AbortSignal) =>
    request<{ debounces: PendingDebounce[] }>('GET', apiUrl('debounces', { limit: 1000 }), undefined, signal),
};
