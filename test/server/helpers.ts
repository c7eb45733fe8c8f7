import type { OpenAPIHono } from '@hono/zod-openapi';
import { afterEach } from 'vitest';
import { type ExecutorOptions, MemoryStore, WorkflowExecutor } from '../../src/index.js';
import { type AppOptions, createApp } from '../../src/server/index.js';

/**
 * Per-test executors on fresh MemoryStores, each with an app over it, cleaned up after each test.
 * The dashboard is off unless a test asks for it, so a local `dashboard/dist` cannot change results.
 */
export function serverFixture() {
  const executors: WorkflowExecutor[] = [];
  afterEach(async () => {
    for (const executor of executors.splice(0)) await executor.cleanup();
  });
  return {
    setup(executorOptions: ExecutorOptions = {}, appOptions: AppOptions = {}) {
      const executor = new WorkflowExecutor({ store: new MemoryStore(), ...executorOptions });
      executors.push(executor);
      const app = createApp(executor, { dashboardDir: null, ...appOptions });
      return { executor, app, api: client(app) };
    },
  };
}

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** JSON requests through `app.request()`: no socket. */
export function client(app: OpenAPIHono, headers: Record<string, string> = {}) {
  const call = async <T = any>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>> => {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
    const res = await app.request(path, init);
    const text = await res.text();
    return { status: res.status, body: text && isJson(res) ? JSON.parse(text) : text, headers: res.headers };
  };
  return {
    get: <T = any>(path: string) => call<T>('GET', path),
    post: <T = any>(path: string, body?: unknown) => call<T>('POST', path, body),
  };
}

function isJson(res: Response): boolean {
  return (res.headers.get('content-type') ?? '').includes('json');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `check` is true (or fails the test after `timeoutMs`). */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(5);
  }
}

export interface SseMessage {
  id: string | undefined;
  event: string | undefined;
  data: any;
}

/**
 * Reads server-sent events from a response body, as EventSource would: messages end at a blank
 * line, `:` lines are comments. `next()` resolves with the next message; `comments` counts comments.
 */
export function sseReader(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let comments = 0;
  const queued: SseMessage[] = [];
  const parse = (block: string) => {
    const message: SseMessage = { id: undefined, event: undefined, data: undefined };
    let isComment = true;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      isComment = false;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') message.id = value;
      else if (field === 'event') message.event = value;
      else if (field === 'data') data.push(value);
    }
    if (isComment) comments++;
    else queued.push({ ...message, data: data.length ? JSON.parse(data.join('\n')) : undefined });
  };
  const readMore = async (): Promise<boolean> => {
    const { done, value } = await reader.read();
    if (done) return false;
    buffer += decoder.decode(value, { stream: true });
    for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
      parse(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
    }
    return true;
  };
  return {
    get comments() {
      return comments;
    },
    async next(): Promise<SseMessage | undefined> {
      while (!queued.length) if (!(await readMore())) return undefined;
      return queued.shift();
    },
    /** Reads until a comment arrives (heartbeats are comments). */
    async nextComment(): Promise<void> {
      const seen = comments;
      while (comments === seen) if (!(await readMore())) throw new Error('the stream ended');
    },
    cancel: () => reader.cancel(),
  };
}

/** The `error` of a JSON error response. */
export async function errorOf(
  res: Response,
): Promise<{ code: string; message: string; issues?: Array<{ path: unknown[] }> }> {
  return ((await res.json()) as { error: { code: string; message: string; issues?: Array<{ path: unknown[] }> } })
    .error;
}
