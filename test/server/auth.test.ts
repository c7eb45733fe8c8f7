import { afterEach, describe, expect, it } from 'vitest';
import { BraidError, MemoryStore, WorkflowExecutor } from '../../src/index.js';
import { type RunningServer, startServer, UnsafeBindError } from '../../src/server/index.js';
import { client, serverFixture } from './helpers.js';
import { order } from './workflows.fixtures.js';

const fixture = serverFixture();
const TOKEN = 's3cret-token';

describe('bearer token', () => {
  it('answers 401 without a token or with a wrong one, and starts nothing', async () => {
    const { app, executor } = fixture.setup({ workflows: [order] }, { token: TOKEN });
    const anonymous = client(app);
    const missing = await anonymous.get('/api/runs');
    expect(missing.status).toBe(401);
    expect(missing.body.error.code).toBe('unauthorized');
    expect(missing.headers.get('www-authenticate')).toContain('Bearer');

    const wrong = client(app, { authorization: 'Bearer not-it' });
    expect((await wrong.get('/api/runs')).status).toBe(401);
    expect((await wrong.post('/api/workflows/order/runs', { input: { id: 'A', qty: 1 } })).status).toBe(401);
    const longer = client(app, { authorization: `Bearer ${TOKEN}x` });
    expect((await longer.get('/api/runs')).status).toBe(401);
    expect((await client(app, { authorization: TOKEN }).get('/api/runs')).status).toBe(401); // no scheme
    expect((await executor.store.listRuns({})).runs).toEqual([]);

    for (const path of ['/metrics', '/openapi.json', '/api/events', '/api/workflows']) {
      expect((await anonymous.get(path)).status, path).toBe(401);
    }
  });

  it("serves the dashboard's own files without a token, so the page can ask for it", async () => {
    const { app } = fixture.setup({ workflows: [order] }, { token: TOKEN });
    const anonymous = client(app);
    expect((await anonymous.get('/')).status).toBe(200);
    expect((await anonymous.post('/', {})).status).toBe(401);
  });

  it('lets the right token through, and /healthz without one', async () => {
    const { app } = fixture.setup({ workflows: [order] }, { token: TOKEN });
    const authed = client(app, { authorization: `Bearer ${TOKEN}` });
    expect((await authed.post('/api/workflows/order/runs', { input: { id: 'A', qty: 1 } })).status).toBe(201);
    expect((await authed.get('/api/runs')).body.runs).toHaveLength(1);
    expect((await client(app).get('/healthz')).status).toBe(200);
  });

  it('checks the token before the body: an unauthenticated oversized body is a 401', async () => {
    const { app } = fixture.setup({ workflows: [order] }, { token: TOKEN, bodyLimitBytes: 10 });
    const res = await client(app).post('/api/workflows/order/runs', { input: { id: 'x'.repeat(100), qty: 1 } });
    expect(res.status).toBe(401);
  });
});

describe('startServer', () => {
  const servers: RunningServer[] = [];
  const executors: WorkflowExecutor[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
    for (const executor of executors.splice(0)) await executor.cleanup();
  });
  const newExecutor = () => {
    const executor = new WorkflowExecutor({ store: new MemoryStore(), workflows: [order] });
    executors.push(executor);
    return executor;
  };

  it('refuses to listen on 0.0.0.0 without a token, telling the user to set BRAID_TOKEN', async () => {
    const executor = newExecutor();
    const attempt = startServer(executor, { host: '0.0.0.0', token: '' });
    await expect(attempt).rejects.toBeInstanceOf(UnsafeBindError);
    await expect(attempt).rejects.toBeInstanceOf(BraidError);
    await expect(attempt).rejects.toThrow(/BRAID_TOKEN/);
    await expect(startServer(executor, { host: '::', token: '' })).rejects.toMatchObject({ code: 'unsafe_bind' });
  });

  it('reads the token from BRAID_TOKEN and then listens on 0.0.0.0, requiring it', async () => {
    const executor = newExecutor();
    const previous = process.env.BRAID_TOKEN;
    process.env.BRAID_TOKEN = TOKEN;
    try {
      const server = await startServer(executor, { host: '0.0.0.0' });
      servers.push(server);
      const port = new URL(server.url).port;
      const local = `http://127.0.0.1:${port}`;
      expect((await fetch(`${local}/api/runs`)).status).toBe(401);
      const ok = await fetch(`${local}/api/runs`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(ok.status).toBe(200);
      expect((await fetch(`${local}/healthz`)).status).toBe(200);
    } finally {
      if (previous === undefined) delete process.env.BRAID_TOKEN;
      else process.env.BRAID_TOKEN = previous;
    }
  });

  it('listens on 127.0.0.1 and a free port by default', async () => {
    const previous = process.env.BRAID_TOKEN;
    delete process.env.BRAID_TOKEN;
    try {
      const server = await startServer(newExecutor());
      servers.push(server);
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(`${server.url}/api/workflows`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { workflows: unknown[] }).workflows).toHaveLength(1);
    } finally {
      if (previous !== undefined) process.env.BRAID_TOKEN = previous;
    }
  });
});
