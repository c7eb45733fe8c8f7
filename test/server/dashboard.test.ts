import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { errorOf, serverFixture } from './helpers.js';

const fixture = serverFixture();
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function builtDashboard(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'braid-dashboard-'));
  dirs.push(dir);
  fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><div id="root">dashboard</div>');
  fs.mkdirSync(path.join(dir, 'assets'));
  fs.writeFileSync(path.join(dir, 'assets', 'app.js'), 'console.log("app")');
  return dir;
}

describe('the dashboard at /', () => {
  it('serves the built files, and index.html for the app routes outside /api', async () => {
    const { app } = fixture.setup({}, { dashboardDir: builtDashboard() });
    const index = await app.request('/');
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toContain('text/html');
    expect(await index.text()).toContain('dashboard');

    const asset = await app.request('/assets/app.js');
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toContain('javascript');

    const appRoute = await app.request('/runs/01ABC');
    expect(appRoute.status).toBe(200);
    expect(await appRoute.text()).toContain('dashboard');
  });

  it('still answers JSON for the API and a JSON 404 for unknown API paths', async () => {
    const { app } = fixture.setup({}, { dashboardDir: builtDashboard() });
    expect((await app.request('/api/runs')).headers.get('content-type')).toContain('application/json');
    const unknown = await app.request('/api/nothing-here');
    expect(unknown.status).toBe(404);
    expect((await errorOf(unknown)).code).toBe('not_found');
    expect((await app.request('/healthz')).headers.get('content-type')).toContain('application/json');
  });

  it('does not serve files outside the dashboard folder', async () => {
    const dir = builtDashboard();
    fs.writeFileSync(path.join(path.dirname(dir), 'secret.txt'), 'secret');
    try {
      const { app } = fixture.setup({}, { dashboardDir: dir });
      const res = await app.request('/../secret.txt');
      expect(await res.text()).not.toContain('secret');
      const encoded = await app.request('/%2e%2e/secret.txt');
      expect(await encoded.text()).not.toContain('secret');
    } finally {
      fs.rmSync(path.join(path.dirname(dir), 'secret.txt'), { force: true });
    }
  });

  it('says the dashboard is not built when the folder is missing', async () => {
    const { app } = fixture.setup({}, { dashboardDir: path.join(os.tmpdir(), 'braid-no-such-dashboard') });
    const res = await app.request('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(await res.text()).toContain('not built');
    const other = await app.request('/runs/abc');
    expect(other.status).toBe(404);
    expect((await errorOf(other)).code).toBe('not_found');
  });
});
