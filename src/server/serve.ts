import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { WorkflowExecutor } from '../executor/workflowExecutor.js';
import { type AppOptions, createApp } from './app.js';
import { UnsafeBindError } from './errors.js';

export interface ServerOptions extends Omit<AppOptions, 'token'> {
  /** Default 127.0.0.1. Any other address than loopback needs a token. */
  host?: string;
  /** Default 0: a free port (read it from `url`). */
  port?: number;
  /** Default process.env.BRAID_TOKEN. */
  token?: string;
}

export interface RunningServer {
  /** e.g. http://127.0.0.1:41234 */
  readonly url: string;
  /** Stops listening and ends open connections (event streams included). */
  close(): Promise<void>;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * Serves `createApp(executor)` over HTTP. Listening beyond loopback without a token is refused
 * (UnsafeBindError): the API can start and cancel runs, so it is never open to a network by accident.
 */
export async function startServer(executor: WorkflowExecutor, options: ServerOptions = {}): Promise<RunningServer> {
  const { host = '127.0.0.1', port = 0, token = process.env.BRAID_TOKEN, ...appOptions } = options;
  const hasToken = token !== undefined && token !== '';
  if (!LOOPBACK_HOSTS.has(host) && !hasToken) throw new UnsafeBindError(host);
  // Open (migrate, recover) before answering: reads of a store not yet opened would fail.
  await executor.open();
  const app = createApp(executor, { ...appOptions, ...(hasToken ? { token } : {}) });

  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: host, port }, () => resolve(s));
    s.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const hostInUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${hostInUrl}:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Event streams never end on their own; close() would wait for them forever.
        if ('closeAllConnections' in server) server.closeAllConnections();
      }),
  };
}
