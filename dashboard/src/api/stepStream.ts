import { ApiRequestError, apiUrl, authHeaders, errorFromResponse } from './client.js';
import { readServerSentEvents } from './eventStream.js';
import type { StepProgress, StreamChunk } from './types.js';

export interface FollowStepStreamOptions {
  runId: string;
  step: string;
  signal: AbortSignal;
  onChunks: (chunks: StreamChunk[]) => void;
  onProgress: (progress: StepProgress) => void;
  /** The step ended and every chunk was sent. */
  onEnd: () => void;
  onError: (error: ApiRequestError) => void;
}

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 10_000;

/**
 * Follows every stream of one step (`GET /api/runs/:id/steps/:step/stream?name=*`) until the step
 * ends or `signal` aborts, reconnecting with Last-Event-ID so nothing is lost or repeated. Chunks
 * are handed over a read at a time (a replay brings thousands at once), not one render each.
 */
export async function followStepStream(options: FollowStepStreamOptions): Promise<void> {
  const { signal } = options;
  let lastSeq: number | undefined;
  let retryMs = FIRST_RETRY_MS;
  while (!signal.aborted) {
    let isEnded = false;
    try {
      const headers: Record<string, string> = { Accept: 'text/event-stream', ...authHeaders() };
      if (lastSeq !== undefined) headers['Last-Event-ID'] = String(lastSeq);
      const path = `runs/${encodeURIComponent(options.runId)}/steps/${encodeURIComponent(options.step)}/stream`;
      const res = await fetch(apiUrl(path, { name: '*' }), { headers, signal, cache: 'no-store' });
      if (!res.ok) throw await errorFromResponse(res);
      if (!res.body) throw new ApiRequestError(res.status, 'no_body', 'The stream sent no body.');
      retryMs = FIRST_RETRY_MS;
      let batch: StreamChunk[] = [];
      const flush = () => {
        if (batch.length) options.onChunks(batch);
        batch = [];
      };
      const flushTimer = setInterval(flush, 100);
      try {
        await readServerSentEvents(res.body, signal, (message) => {
          if (message.event === 'chunk') {
            const chunk = JSON.parse(message.data) as StreamChunk;
            lastSeq = chunk.seq;
            batch.push(chunk);
          } else if (message.event === 'progress') {
            options.onProgress(JSON.parse(message.data) as StepProgress);
          } else if (message.event === 'end') {
            isEnded = true;
          }
        });
      } finally {
        clearInterval(flushTimer);
        flush();
      }
      if (isEnded) {
        options.onEnd();
        return;
      }
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof ApiRequestError && error.status >= 400 && error.status < 500) {
        options.onError(error);
        return;
      }
    }
    if (signal.aborted) return;
    await new Promise((resolve) => setTimeout(resolve, retryMs));
    retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
  }
}
