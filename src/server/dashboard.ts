import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveStatic } from '@hono/node-server/serve-static';
import type { OpenAPIHono } from '@hono/zod-openapi';

/** `<package root>/dashboard/dist`: this file is two levels down in `src/server` and `dist/server` alike. */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../../dashboard/dist', import.meta.url));

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Braid</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; line-height: 1.5">
<h1>Braid</h1>
<p>The dashboard is not built, so there is nothing to show here yet. Build it into <code>dashboard/dist</code>
(or pass <code>dashboardDir</code>), then reload.</p>
<p>The API works without it: <a href="/api/runs">/api/runs</a>, <a href="/api/workflows">/api/workflows</a>,
the event stream at <code>/api/events</code>, and its description at <a href="/openapi.json">/openapi.json</a>.</p>
</body>
</html>
`;

function isApiPath(path: string): boolean {
  return path === '/api' || path.startsWith('/api/');
}

/**
 * Serves the built dashboard at `/`: its files as they are, and `index.html` for any other GET
 * outside `/api` so the single-page app's own routes (`/runs/abc`) survive a reload. Without a
 * build, `/` says so. Register after the API routes: those answer first.
 */
export function registerDashboard(app: OpenAPIHono, dir: string | undefined): void {
  const indexFile = dir === undefined ? undefined : join(dir, 'index.html');
  if (dir === undefined || indexFile === undefined || !existsSync(indexFile)) {
    app.get('/', (c) => c.html(NOT_BUILT_PAGE));
    return;
  }
  const files = serveStatic({ root: dir });
  const spaFallback = serveStatic({ path: indexFile });
  app.get('*', async (c, next) => (isApiPath(c.req.path) ? next() : files(c, next)));
  app.get('*', async (c, next) => (isApiPath(c.req.path) ? next() : spaFallback(c, next)));
}
