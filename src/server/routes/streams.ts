import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { type SSEStreamingApi, streamSSE } from 'hono/streaming';
import type { StreamChunk } from '../../store/types.js';
import type { ServerDeps } from '../deps.js';
import {
  ChunkPageSchema,
  ChunksQuerySchema,
  LastEventIdHeaderSchema,
  StepParamsSchema,
  StepStreamQuerySchema,
} from '../schemas.js';
import { errorResponses, jsonResponse } from './responses.js';

/**
 * Chunks read and written per SSE write. A page is formatted into one string and written once:
 * 500 chunks of 1 KB is 0.5 MB per client in flight, so 100 readers of a 10 MB stream hold about
 * 50 MB, where a page of the store's 10,000 would hold 1 GB.
 */
const SSE_PAGE_SIZE = 500;

const getStepStream = createRoute({
  method: 'get',
  path: '/api/runs/{id}/steps/{step}/stream',
  tags: ['streams'],
  summary: "Server-sent events of a step's output stream (ctx.emit): what was written, then live until the step ends",
  description:
    'Each chunk is a message with `id: <seq>`, `event: chunk` and `data: <StreamChunk JSON>` (its step, stream, ' +
    "attempt and value). A retried step's attempts are all sent, each chunk saying its attempt, unless " +
    '`attempts=final`. Progress the step reports (`ctx.progress`) in the process serving the API comes as ' +
    '`event: progress` with `data: <StepProgress JSON>` (no id). When the step has ended and every chunk was sent, ' +
    'an `event: end` message is sent and the stream closes. To resume, send `Last-Event-ID` (browsers do on ' +
    'reconnect) or `?after=<seq>`. A comment line is sent every 15 s to keep proxies from closing an idle stream.',
  request: { params: StepParamsSchema, query: StepStreamQuerySchema, headers: LastEventIdHeaderSchema },
  responses: {
    200: {
      description: 'An event stream',
      content: {
        'text/event-stream': {
          schema: z.string().openapi({
            example:
              'id: 42\nevent: chunk\ndata: {"seq":42,"step":"write","stream":"default","attempt":1,"data":"Hel","at":1767225600000}\n\n',
          }),
        },
      },
    },
    ...errorResponses(400, 401, 404),
  },
});

const getStepChunks = createRoute({
  method: 'get',
  path: '/api/runs/{id}/steps/{step}/chunks',
  tags: ['streams'],
  summary: "A page of a step's stored output stream chunks, in seq order (does not follow)",
  request: { params: StepParamsSchema, query: ChunksQuerySchema },
  responses: {
    200: jsonResponse(ChunkPageSchema, 'One page of chunks'),
    ...errorResponses(400, 401, 404),
  },
});

export function registerStreamRoutes(app: OpenAPIHono, deps: ServerDeps): void {
  const { executor } = deps;

  app.openapi(getStepChunks, async (c) => {
    const { id, step } = c.req.valid('param');
    const { name, after, attempt, limit } = c.req.valid('query');
    const chunks = await executor.chunks(id, { step, name, afterSeq: after, attempt, limit });
    const isFull = chunks.length === (limit ?? 1_000);
    return c.json({ chunks, nextAfter: isFull ? (chunks.at(-1)?.seq ?? null) : null }, 200);
  });

  app.openapi(getStepStream, async (c) => {
    const { id, step } = c.req.valid('param');
    const { name, after, attempts } = c.req.valid('query');
    const lastEventId = c.req.valid('header')['last-event-id'];
    // The header is what a reconnecting EventSource sends, so it wins over the URL's `after`.
    const afterSeq = lastEventId !== undefined ? Number(lastEventId) : after;
    const stop = new AbortController();
    // Checked before the stream opens: an unknown run or step is a 404, not an empty stream.
    const pages = await executor.openStream(id, { step, name, afterSeq, attempts, signal: stop.signal }, SSE_PAGE_SIZE);
    return streamSSE(c, (stream) => relayChunks(stream, deps, { runId: id, step, pages, stop }));
  });
}

async function relayChunks(
  stream: SSEStreamingApi,
  { executor, heartbeatMs }: ServerDeps,
  options: { runId: string; step: string; pages: AsyncIterable<StreamChunk[]>; stop: AbortController },
): Promise<void> {
  const { runId, step, pages, stop } = options;
  stream.onAbort(() => stop.abort());
  const heartbeat = setInterval(() => void stream.write(': heartbeat\n\n'), heartbeatMs);
  // Progress goes out between pages, latest value only: a fast reporter cannot flood a client.
  let progress: string | undefined;
  const sendProgress = async () => {
    const text = progress;
    progress = undefined;
    if (text !== undefined && !stream.aborted) await stream.write(text);
  };
  const stopProgress = executor.onProgress((update) => {
    if (update.runId !== runId || update.step !== step) return;
    progress = `event: progress\ndata: ${JSON.stringify({ value: update.value, at: update.at })}\n\n`;
  });
  try {
    await stream.write(': connected\n\n');
    const current = executor.progress(runId)[step];
    if (current) await stream.write(`event: progress\ndata: ${JSON.stringify(current)}\n\n`);
    let lastSeq: number | null = null;
    for await (const page of pages) {
      if (stream.aborted) break;
      await stream.write(pageMessages(page));
      lastSeq = page.at(-1)?.seq ?? lastSeq;
      await sendProgress();
    }
    if (!stream.aborted) {
      await sendProgress();
      await stream.write(`event: end\ndata: ${JSON.stringify({ lastSeq })}\n\n`);
    }
  } finally {
    clearInterval(heartbeat);
    stopProgress();
    stop.abort();
  }
}

/**
 * Readers of one stream that wake together share the page they read (SharedReads), so its
 * messages are formatted once for all of them (100 readers of a 10 MB stream: 19 s -> 5 s).
 */
const formattedPages = new WeakMap<StreamChunk[], string>();

function pageMessages(page: StreamChunk[]): string {
  let text = formattedPages.get(page);
  if (text === undefined) {
    text = page.map(chunkMessage).join('');
    formattedPages.set(page, text);
  }
  return text;
}

/**
 * One chunk as an SSE message, its stored JSON text spliced in as is: parsing and re-serialising
 * every chunk for every client is what would cost, and JSON text never holds a raw line break.
 */
function chunkMessage(chunk: StreamChunk): string {
  const seq = chunk.seq ?? 0;
  const head = JSON.stringify({ seq, step: chunk.step, stream: chunk.stream, attempt: chunk.attempt });
  return `id: ${seq}\nevent: chunk\ndata: ${head.slice(0, -1)},"data":${chunk.data},"at":${chunk.at}}\n\n`;
}
