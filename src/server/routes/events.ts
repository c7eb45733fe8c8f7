import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { type SSEStreamingApi, streamSSE } from 'hono/streaming';
import type { WorkflowExecutor } from '../../executor/workflowExecutor.js';
import { RunNotFoundError } from '../../model/errors.js';
import type { EventRecord } from '../../store/types.js';
import type { ServerDeps } from '../deps.js';
import { RunTree } from '../runTree.js';
import { EventsQuerySchema, LastEventIdHeaderSchema } from '../schemas.js';
import { eventView } from '../views.js';
import { errorResponses } from './responses.js';

const REPLAY_PAGE_SIZE = 1000;
/**
 * Live events held for a client that reads slower than they come. Past this the stream is ended
 * rather than the memory grown: the client reconnects with Last-Event-ID and catches up from the
 * store, which is what the replay is for.
 */
const MAX_BACKLOG = 10_000;

const streamEvents = createRoute({
  method: 'get',
  path: '/api/events',
  tags: ['events'],
  summary: 'Server-sent events: every committed run and step transition, live',
  description:
    'Each message has `id: <seq>`, `event: <type>` and `data: <Event JSON>`. With `runId`, only that run and ' +
    'its descendants. To resume, send `Last-Event-ID` (browsers do on reconnect) or `?after=<seq>`: the missed ' +
    'events are replayed from the store first, then the stream continues live, with no gap and no duplicate. ' +
    'A comment line is sent every 15 s to keep proxies from closing an idle stream.',
  request: { query: EventsQuerySchema, headers: LastEventIdHeaderSchema },
  responses: {
    200: {
      description: 'An event stream',
      content: {
        'text/event-stream': {
          schema: z.string().openapi({ example: 'id: 42\nevent: step_started\ndata: {...}\n\n' }),
        },
      },
    },
    ...errorResponses(400, 401, 404),
  },
});

export function registerEventRoutes(app: OpenAPIHono, deps: ServerDeps): void {
  app.openapi(streamEvents, async (c) => {
    const { runId, after } = c.req.valid('query');
    const lastEventId = c.req.valid('header')['last-event-id'];
    // The header is what a reconnecting EventSource sends, so it wins over the URL's `after`.
    const afterSeq = lastEventId !== undefined ? Number(lastEventId) : after;
    let tree: RunTree | undefined;
    if (runId !== undefined) {
      const run = await deps.executor.store.getRun(runId);
      if (!run) throw new RunNotFoundError(runId);
      tree = await RunTree.load(deps.executor.store, run);
    }
    return streamSSE(c, (stream) => relayEvents(stream, deps, { tree, afterSeq }));
  });
}

/**
 * Listens first, then replays from the store, then relays what was heard meanwhile and after:
 * an event committed before the listener started is in the store, one committed after it reaches
 * the listener, and one in both is sent once (`seq` only grows, so "seq <= last sent" is a
 * duplicate). Events go through one loop in seq order, so the run-tree lookups (async) cannot
 * reorder them.
 *
 * The replay scans all events after `afterSeq` and keeps the tree's: a reconnect's gap is short,
 * and it finds the events of children spawned while the client was away. (One query per run of
 * the tree would be faster for `after=0` on a big store; the run page serves that need instead.)
 */
async function relayEvents(
  stream: SSEStreamingApi,
  { executor, heartbeatMs }: ServerDeps,
  options: { tree: RunTree | undefined; afterSeq: number | undefined },
): Promise<void> {
  const { tree } = options;
  let heard: EventRecord[] = [];
  let wake: (() => void) | undefined;
  let isOverflowing = false;
  const stopListening = executor.onEvents((events) => {
    for (const event of events) heard.push(event);
    if (heard.length > MAX_BACKLOG) isOverflowing = true;
    wake?.();
  });
  const heartbeat = setInterval(() => void stream.write(': heartbeat\n\n'), heartbeatMs);
  stream.onAbort(() => wake?.());
  const isDone = () => stream.aborted || isOverflowing;
  let lastSeq = 0;
  // Seqs sent lately: on Postgres two workers' commits can become visible out of seq order, so a
  // duplicate is told by its seq, not by being below the highest one sent.
  const sent = new Set<number>();
  const send = async (event: EventRecord): Promise<void> => {
    const seq = event.seq ?? 0;
    if (sent.has(seq) || seq <= (options.afterSeq ?? 0)) return;
    sent.add(seq);
    if (sent.size > 10_000) for (const old of sent) if (old < lastSeq - 5_000) sent.delete(old);
    lastSeq = Math.max(lastSeq, seq);
    if (tree && !(await tree.has(event.runId))) return;
    await stream.writeSSE({ id: String(seq), event: event.type, data: JSON.stringify(eventView(event)) });
  };
  try {
    await stream.write(': connected\n\n');
    if (options.afterSeq !== undefined) {
      lastSeq = options.afterSeq;
      await replay(executor, lastSeq, send, isDone);
    }
    while (!isDone()) {
      const batch = heard;
      heard = [];
      for (const event of batch) {
        if (isDone()) break;
        await send(event);
      }
      if (!heard.length && !isDone()) await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    clearInterval(heartbeat);
    stopListening();
  }
}

async function replay(
  executor: WorkflowExecutor,
  afterSeq: number,
  send: (event: EventRecord) => Promise<void>,
  isAborted: () => boolean,
): Promise<void> {
  let cursor = afterSeq;
  while (!isAborted()) {
    const page = await executor.store.listEvents({ afterSeq: cursor, limit: REPLAY_PAGE_SIZE });
    for (const event of page) await send(event);
    if (page.length < REPLAY_PAGE_SIZE) return;
    cursor = page.at(-1)?.seq ?? cursor;
  }
}
