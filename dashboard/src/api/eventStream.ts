import { ApiRequestError, apiUrl, authHeaders, errorFromResponse } from './client.js';
import type { BraidEvent } from './types.js';

export type StreamState = 'connecting' | 'live' | 'offline' | 'unauthorized';

export interface FollowOptions {
  /** Only this run and its descendants; all runs when undefined. */
  runId?: string | undefined;
  signal: AbortSignal;
  onEvent: (event: BraidEvent) => void;
  /** Called on every (re)connection: what happened while disconnected may need a reload. */
  onOpen: () => void;
  onState: (state: StreamState) => void;
}

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 10_000;

/**
 * Follows the server-sent event stream at /api/events until `signal` aborts, reconnecting with
 * `Last-Event-ID` so the server replays what was missed. It reads the stream with fetch rather
 * than EventSource because EventSource cannot send the Authorization header, and the API takes
 * its token only there (never in a URL, where logs and history would keep it).
 */
export async function followEvents(options: FollowOptions): Promise<void> {
  const { signal } = options;
  let lastSeq: number | undefined;
  let retryMs = FIRST_RETRY_MS;
  while (!signal.aborted) {
    options.onState('connecting');
    try {
      const headers: Record<string, string> = { Accept: 'text/event-stream', ...authHeaders() };
      if (lastSeq !== undefined) headers['Last-Event-ID'] = String(lastSeq);
      const res = await fetch(apiUrl('events', { runId: options.runId }), { headers, signal, cache: 'no-store' });
      if (!res.ok) throw await errorFromResponse(res);
      if (!res.body) throw new ApiRequestError(res.status, 'no_body', 'The event stream sent no body.');
      options.onState('live');
      options.onOpen();
      retryMs = FIRST_RETRY_MS;
      await readServerSentEvents(res.body, signal, (message) => {
        if (message.id !== undefined && /^\d+$/.test(message.id)) lastSeq = Number(message.id);
        if (message.data === '') return;
        try {
          options.onEvent(JSON.parse(message.data) as BraidEvent);
        } catch {
          // A message that is not an event's JSON carries nothing the dashboard can use.
        }
      });
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof ApiRequestError && error.isUnauthorized) {
        options.onState('unauthorized');
        return;
      }
    }
    if (signal.aborted) return;
    options.onState('offline');
    await sleep(retryMs, signal);
    retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
  }
}

export interface ServerSentMessage {
  id: string | undefined;
  event: string;
  data: string;
}

/**
 * Parses a `text/event-stream` body (the WHATWG format: `field: value` lines, a blank line ends a
 * message, lines starting with `:` are comments) and calls `onMessage` for each message.
 */
export async function readServerSentEvents(
  body: ReadableStream<Uint8Array>,
  signal: AbortSignal,
  onMessage: (message: ServerSentMessage) => void,
): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const stop = () => void reader.cancel().catch(() => {});
  signal.addEventListener('abort', stop, { once: true });
  let buffer = '';
  let id: string | undefined;
  let event = '';
  let data: string[] = [];
  const readLine = (line: string) => {
    if (line === '') {
      if (data.length > 0 || id !== undefined) onMessage({ id, event: event || 'message', data: data.join('\n') });
      id = undefined;
      event = '';
      data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    else if (field === 'id') id = value;
  };
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      // Walk the buffer with an index and cut it once per chunk: a replay can bring thousands of
      // lines in one chunk, and slicing per line would copy the rest of the buffer every time.
      let start = 0;
      for (let newline = buffer.indexOf('\n'); newline !== -1; newline = buffer.indexOf('\n', start)) {
        const end = newline > start && buffer.charCodeAt(newline - 1) === 13 ? newline - 1 : newline;
        readLine(buffer.slice(start, end));
        start = newline + 1;
      }
      buffer = buffer.slice(start);
    }
  } finally {
    signal.removeEventListener('abort', stop);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
