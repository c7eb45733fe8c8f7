import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { ApiError } from './errors.js';

/**
 * Paths anyone may read, token or not: a load balancer's health check carries no secret. So
 * /healthz says only that the server is alive, nothing about the store (see routes/metrics.ts).
 */
const PUBLIC_PATHS = new Set(['/healthz']);

/**
 * Requires `Authorization: Bearer <token>` on every route but /healthz. The comparison runs in
 * constant time over SHA-256 digests: equal-length buffers whatever the sent token's length, so
 * neither its content nor its length leaks through timing. (hono's bearerAuth compares with its
 * own JS routine; node's `timingSafeEqual` is the audited one.)
 */
export function bearerAuth(token: string): MiddlewareHandler {
  const expected = digest(token);
  return async (c, next) => {
    if (PUBLIC_PATHS.has(c.req.path) || isDashboardAsset(c.req.method, c.req.path)) return next();
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    if (!match) {
      throw new ApiError(
        401,
        'unauthorized',
        'This server requires a token: send `Authorization: Bearer <token>` (the value of BRAID_TOKEN).',
        undefined,
        { 'WWW-Authenticate': 'Bearer realm="braid"' },
      );
    }
    if (!timingSafeEqual(digest(match[1]!), expected)) {
      throw new ApiError(401, 'unauthorized', 'The bearer token is wrong. Use the value of BRAID_TOKEN.', undefined, {
        'WWW-Authenticate': 'Bearer realm="braid", error="invalid_token"',
      });
    }
    return next();
  };
}

/**
 * The dashboard's own files hold no data, and a browser cannot attach a bearer header when it
 * loads a page: they are served to anyone so the page can ask for the token. Every data route
 * (/api, /metrics, /openapi.json) still requires it.
 */
function isDashboardAsset(method: string, path: string): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  return !path.startsWith('/api') && path !== '/metrics' && path !== '/openapi.json';
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
