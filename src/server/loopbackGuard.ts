import type { MiddlewareHandler } from 'hono';
import { ApiError } from './errors.js';

/** What a Host header or an origin's host may look like: a name or IPv4 address, or [IPv6], and a port. */
const HOST_SHAPE = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * For a server without a token, which only ever listens on loopback (startServer refuses anything
 * else): a web page the user visits can still reach it, by DNS rebinding (its own name resolved to
 * 127.0.0.1, so its script reads the API as same-origin) or by a plain cross-site POST.
 * - Every request must name a loopback host (localhost, 127.x.x.x, [::1], any port): a rebound
 *   page's requests carry its own name in Host.
 * - A state-changing request (anything but GET, HEAD, OPTIONS) that carries an Origin must come
 *   from this server's own origin: the dashboard it serves. Tools that send no Origin (curl, the
 *   CLI) are not affected.
 * With a token neither check applies: a page cannot know the token, and a server behind a proxy or
 * on a network is reached by other names.
 */
export function loopbackOnly(): MiddlewareHandler {
  return async (c, next) => {
    const host = c.req.header('host') ?? new URL(c.req.url).host;
    const ownHost = loopbackHost(host);
    if (ownHost === undefined) {
      throw new ApiError(
        403,
        'forbidden_host',
        `This server has no token, so it answers only to loopback names (localhost, 127.0.0.1, [::1]); ` +
          `this request was for "${host}", which is how a web page reaches a local server by DNS rebinding. ` +
          'Open it as http://127.0.0.1:<port>, or set BRAID_TOKEN to serve it under other names.',
      );
    }
    const origin = c.req.header('origin');
    if (origin !== undefined && !SAFE_METHODS.has(c.req.method) && originHost(origin) !== ownHost) {
      throw new ApiError(
        403,
        'forbidden_origin',
        `A ${c.req.method} from the web page at "${origin}" was refused: without a token this server accepts ` +
          `changes only from its own pages (http://${host}) or from tools that send no Origin (curl, the braid CLI). ` +
          'Set BRAID_TOKEN to let other clients in with `Authorization: Bearer <token>`.',
      );
    }
    return next();
  };
}

/** The normalised host[:port] when it names a loopback address, else undefined. */
function loopbackHost(host: string): string | undefined {
  if (!HOST_SHAPE.test(host)) return undefined;
  let url: URL;
  try {
    url = new URL(`http://${host}`);
  } catch {
    return undefined;
  }
  // The WHATWG parser canonicalises the address (127.1 and 0x7f.0.0.1 are 127.0.0.1, [0::1] is [::1]).
  const name = url.hostname.toLowerCase();
  const isLoopback = name === 'localhost' || name === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(name);
  return isLoopback ? url.host.toLowerCase() : undefined;
}

/** An Origin's host[:port] (the scheme's default port dropped, as in Host), or undefined. */
function originHost(origin: string): string | undefined {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return undefined;
  }
  // A browser sends the origin serialised exactly so; anything else ("null", a path) is not a page of ours.
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== origin) return undefined;
  return loopbackHost(url.host);
}
