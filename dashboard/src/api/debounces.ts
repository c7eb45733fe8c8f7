import { apiUrl, request } from './client.js';

/** One pending debounced trigger as GET /api/debounces shows it. */
export interface PendingDebounce {
  workflow: string;
  key: string;
  /** The run that will carry the triggers. */
  runId: string;
  /** The last trigger's input: the one that will run. */
  input: unknown;
  /** Triggers collapsed so far: all but the last were superseded. */
  triggers: number;
  firstAt: number;
  lastAt: number;
  dueAt: number;
  windowMs: number | null;
  /** firstAt + maxWait: the latest it starts; null without maxWait. */
  maxWaitAt: number | null;
}

export const debouncesApi = {
  list: (signal?: AbortSignal) =>
    request<{ debounces: PendingDebounce[] }>('GET', apiUrl('debounces', { limit: 1000 }), undefined, signal),
};
