import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore, WorkflowExecutor } from '../../src/index.js';
import { createApp } from '../../src/server/index.js';
import { client } from './helpers.js';

const TOKEN = 'healthz-token';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'braid-healthz-'));
const dbPath = path.join(dir, 'secret-place', 'braid.db');
const executor = new WorkflowExecutor({ store: new SqliteStore({ path: dbPath }) });

afterAll(async () => {
  await executor.cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * /healthz is for load balancers and probes, which carry no token: it answers liveness and
 * nothing else, to anyone. Where the runs live is printed by `braid dev` / `braid worker` at start.
 */
describe('GET /healthz', () => {
  it('answers {"ok": true} without a token, and names no database', async () => {
    await executor.open();
    const app = createApp(executor, { token: TOKEN, dashboardDir: null });
    const callers: Array<Record<string, string>> = [
      {},
      { authorization: 'Bearer wrong' },
      { authorization: `Bearer ${TOKEN}` },
    ];
    for (const headers of callers) {
      const res = await client(app, headers).get('/healthz');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ok: true });
      expect(JSON.stringify(res.body)).not.toContain('secret-place');
    }
  });

  it('says the same on a server without a token', async () => {
    const res = await client(createApp(executor, { dashboardDir: null })).get('/healthz');
    expect(res.body).toEqual({ ok: true });
  });

  it('is documented as liveness only, needing no token', async () => {
    const app = createApp(executor, { token: TOKEN, dashboardDir: null });
    const doc = (await client(app, { authorization: `Bearer ${TOKEN}` }).get('/openapi.json')).body;
    const get = doc.paths['/healthz'].get;
    expect(get.security).toEqual([]);
    expect(get.description).toMatch(/only liveness/i);
    const schema = get.responses['200'].content['application/json'].schema;
    const health = schema.$ref ? doc.components.schemas[schema.$ref.split('/').at(-1)] : schema;
    expect(Object.keys(health.properties)).toEqual(['ok']);
  });
});
