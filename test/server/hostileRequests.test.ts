import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { workflow } from '../../src/index.js';
import { serverFixture } from './helpers.js';

const fixture = serverFixture();

const echo = workflow('echo').step('out', (ctx) => ctx.input);
/** A schema that recurses as deep as its input: what zod does with 5,000 levels is a RangeError. */
type Tree = { kids: Tree[] };
const tree: z.ZodType<Tree> = z.lazy(() => z.object({ kids: z.array(tree) }));
const trees = workflow('trees', { input: tree }).step('out', () => 'ok');

function setup(options: { token?: string } = {}) {
  const { app, executor } = fixture.setup({ workflows: [echo, trees] }, options);
  const request = async (path: string, init: RequestInit = {}) => app.request(path, init);
  const runCount = async () => (await executor.store.listRuns({})).runs.length;
  return { request, runCount, executor };
}

interface ErrorJson {
  error: { code: string; message: string };
}
const errorOf = async (res: Response) => ((await res.json()) as ErrorJson).error;

const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

describe('DNS rebinding and cross-site requests, without a token', () => {
  it.each([
    'evil.example.com:7801',
    'evil.example.com',
    '10.0.0.1:7801',
    'localhost.evil.example.com',
    'evil@127.0.0.1',
  ])('refuses Host "%s" on reads and writes alike, with 403 forbidden_host', async (host) => {
    const { request, runCount } = setup();
    const reads = await request('/api/runs', { headers: { host } });
    const writes = await request('/api/workflows/echo/runs', json({ input: 1 }, { host }));
    for (const res of [reads, writes]) {
      expect(res.status).toBe(403);
      const error = await errorOf(res);
      expect(error.code).toBe('forbidden_host');
      expect(error.message).toContain('DNS rebinding');
    }
    expect(await runCount()).toBe(0);
  });

  it.each(['localhost:7801', '127.0.0.1:7801', '[::1]:7801', 'LOCALHOST', '127.0.0.2:80', '[::1]'])(
    'serves loopback Host "%s"',
    async (host) => {
      const { request } = setup();
      expect((await request('/api/runs', { headers: { host } })).status).toBe(200);
    },
  );

  it('refuses a change sent by a page of another origin, and one whose Origin is "null"', async () => {
    const { request, runCount } = setup();
    for (const origin of ['http://evil.example.com', 'http://localhost:9999', 'null', 'http://127.0.0.1:7801/x']) {
      const res = await request('/api/workflows/echo/runs', json({ input: 1 }, { host: '127.0.0.1:7801', origin }));
      expect(res.status).toBe(403);
      expect((await errorOf(res)).code).toBe('forbidden_origin');
    }
    expect(await runCount()).toBe(0);
  });

  it("accepts a change from the server's own page, and from a tool that sends no Origin", async () => {
    const { request, runCount } = setup();
    const own = await request(
      '/api/workflows/echo/runs',
      json({ input: 1 }, { host: '127.0.0.1:7801', origin: 'http://127.0.0.1:7801' }),
    );
    expect(own.status).toBe(201);
    const curl = await request('/api/workflows/echo/runs', json({ input: 2 }, { host: 'localhost:7801' }));
    expect(curl.status).toBe(201);
    expect(await runCount()).toBe(2);
    // A read from another origin is still answered: the browser, not the server, keeps its result from the page.
    expect(
      (await request('/api/runs', { headers: { host: 'localhost:7801', origin: 'http://x.example' } })).status,
    ).toBe(200);
  });

  it('keeps today’s rules with a token: any Host and Origin, with the bearer token', async () => {
    const { request, runCount } = setup({ token: 's3cret' });
    const auth = { authorization: 'Bearer s3cret', host: 'braid.internal.example:443', origin: 'https://ops.example' };
    expect((await request('/api/runs', { headers: auth })).status).toBe(200);
    expect((await request('/api/workflows/echo/runs', json({ input: 1 }, auth))).status).toBe(201);
    expect((await request('/api/runs', { headers: { host: 'braid.internal.example' } })).status).toBe(401);
    expect(await runCount()).toBe(1);
  });
});

describe('unclear errors made clear', () => {
  const deep = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
  const deepTree = (levels: number) => `${'{"kids":['.repeat(levels)}${'{"kids":[]}'}${']}'.repeat(levels)}`;

  it.each([
    ['echo', `{"input":${deep(5000)}}`],
    ['trees', `{"input":${deepTree(5000)}}`],
  ])('an input to "%s" nested 5,000 deep is a 400 that says so, and no run', async (name, body) => {
    const { request, runCount } = setup();
    const res = await request(`/api/workflows/${name}/runs`, json(body));
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.code).toBe('body_too_deep');
    expect(error.message).toMatch(/nests deeper than 1000 levels/);
    expect(await runCount()).toBe(0);
  });

  it('a deep body hidden in strings is not deep', async () => {
    const { request } = setup();
    const res = await request(
      '/api/workflows/echo/runs',
      json({ input: { text: '[[[[{'.repeat(2000), quote: '\\"[' } }),
    );
    expect(res.status).toBe(201);
  });

  it.each(['99999999999999999999', '9007199254740992', '-1', '1.5', 'abc'])(
    'Last-Event-ID "%s" is a 400 naming the header, not a stream that never sends',
    async (id) => {
      const { request } = setup();
      const res = await request('/api/events', { headers: { 'last-event-id': id } });
      expect(res.status).toBe(400);
      const error = await errorOf(res);
      expect(error.code).toBe('invalid_request');
      expect(error.message).toContain('last-event-id');
    },
  );

  it('?after past the safe integers is a 400 too', async () => {
    const { request } = setup();
    expect((await request('/api/events?after=99999999999999999999')).status).toBe(400);
  });

  it('the largest safe Last-Event-ID is accepted', async () => {
    const { request } = setup();
    const res = await request('/api/events', { headers: { 'last-event-id': String(Number.MAX_SAFE_INTEGER) } });
    expect(res.status).toBe(200);
    await res.body?.cancel();
  });
});
