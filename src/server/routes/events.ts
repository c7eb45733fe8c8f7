import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { accepts } from 'hono/accepts';
import { type SSEStreamingApi, streamSSE } from 'hono/streaming';
import type { WorkflowExecutor } from '../../executor/workflowExecutor.js';
import { RunNotFoundError } from '../../model/errors.js';
import type { EventRecord } from '../../store/types.js';
import type { ServerDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { RunTree } from '../runTree.js';
import {
  EventsQuerySchema,
  InboxPageSchema,
  LastEventIdHeaderSchema,
  SendEventBodySchema,
  SentEventSchema,
} from '../schemas.js';
import { eventView, inboxEventView } from '../views.js';
import { errorResponses, jsonResponse } from './responses.js';

const REPLAY_PAGE_SIZE = 1000;
/**
 * Live events held for a client that reads slower than they come. Past this the stream is ended
 * rather than the memory grown: the client reconnects with Last-Event-ID and catches up from the
 * store, which is what the replay is for.
 */
const MAX_BACKLOG = 10_000;

const STREAM = 'text/event-stream';
const JSON_TYPE = 'application/json';

/**
 * One path, two representations, chosen by `Accept`: the live stream of run transitions (what
 * EventSource, the dashboard and the CLI ask for, and the answer to no Accept or `*\/*`, as before
 * the inbox was listed here), or the inbox of sent events as JSON (`Accept: application/json`).
 * A separate path for the list was the alternative; `POST /api/events` writes to the inbox, so
 * `GET` on the same path reads it, and the stream's clients all name their type already.
 */
const getEvents = createRoute({
  method: 'get',
  path: '/api/events',
  tags: ['events'],
  summary: 'Server-sent events of every committed transition, live; or, as JSON, the inbox of sent events',
  description:
    'With `Accept: text/event-stream` (or no Accept, or `*/*`): the stream. Each message has `id: <seq>`, ' +
    '`event: <type>` and `data: <Event JSON>`. With `runId`, only that run and its descendants. To resume, send ' +
    '`Last-Event-ID` (browsers do on reconnect) or `?after=<seq>`: the missed events are replayed from the store ' +
    'first, then the stream continues live, with no gap and no duplicate. A comment line is sent every 15 s to ' +
    'keep proxies from closing an idle stream.\n\n' +
    'With `Accept: application/json`: the events sent to the inbox (`POST /api/events`), newest first, with ' +
    '`name` and `limit`. Parameters of one representation given to the other are a 400.',
  request: { query: EventsQuerySchema, headers: LastEventIdHeaderSchema },
  responses: {
    200: {
      description: 'An event stream, or the inbox as JSON',
      content: {
        [STREAM]: {
          schema: z.string().openapi({ example: 'id: 42\nevent: step_started\ndata: {...}\n\n' }),
        },
        [JSON_TYPE]: { schema: InboxPageSchema },
      },
    },
    ...errorResponses(400, 401, 404),
  },
});

const sendEvent = createRoute({
  method: 'post',
  path: '/api/events',
  tags: ['events', 'actions'],
  summary:
    'Send an event: recorded in the inbox, delivered to the steps waiting for it, and starting the workflows it triggers',
  description:
    'The event is recorded (so a step that waits for it later still gets it), resolves each step waiting for it ' +
    'once, and starts the workflows with `on: { event: name }` (the payload is their input, checked against ' +
    'their schema first: a mismatch is a 422 and nothing is recorded). The answer comes once all of that is ' +
    'durable: 201, or 200 when the idempotency key was sent before (then nothing is delivered again).',
  request: { body: { required: true, content: { [JSON_TYPE]: { schema: SendEventBodySchema } } } },
  responses: {
    201: jsonResponse(SentEventSchema, 'The event was recorded and delivered'),
    200: jsonResponse(SentEventSchema, 'An event with this idempotency key was already recorded: nothing more done'),
    ...errorResponses(400, 401, 413, 415, 422),
  },
});

export function registerEventRoutes(app: OpenAPIHono, deps: ServerDeps): void {
  app.openapi(getEvents, async (c) => {
    const { runId, after, name, limit } = c.req.valid('query');
    const lastEventId = c.req.valid('header')['last-event-id'];
    const wanted = accepts(c, { header: 'Accept', supports: [STREAM, JSON_TYPE], default: STREAM });
    if (wanted === JSON_TYPE) {
      refuseParameters(
        { runId, after, 'Last-Event-ID': lastEventId },
        'the event stream: send Accept: text/event-stream',
      );
      const events = await deps.executor.store.listInbox({ name, limit });
      return c.json({ events: events.map(inboxEventView) }, 200);
    }
    refuseParameters({ name, limit }, 'the inbox list, which is JSON: send Accept: application/json');
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

  app.openapi(sendEvent, async (c) => {
    const { name, payload, key, idempotencyKey } = c.req.valid('json');
    const sent = await deps.executor.sendEvent(name, payload ?? null, { key, idempotencyKey });
    return c.json(sent, sent.duplicate ? 200 : 201);
  });
}

/** A 400 naming the parameters that were given but belong to the other representation (`owner`). */
function refuseParameters(given: Record<string, unknown>, owner: string): void {
  const names = Object.keys(given).filter((name) => given[name] !== undefined);
  if (!names.length) return;
  const message = `${names.length === 1 ? 'is' : 'are'} for ${owner}`;
  throw new ApiError(
    400,
    'invalid_request',
    `${names.map((n) => `\`${n}\``).join(' and ')} ${message}.`,
    names.map((n) => ({ path: [n], message: `is for ${owner}` })),
  );
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
