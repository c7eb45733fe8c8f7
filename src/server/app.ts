import { OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { WorkflowExecutor } from '../executor/workflowExecutor.js';
import { bearerAuth } from './auth.js';
import { DEFAULT_DASHBOARD_DIR, registerDashboard } from './dashboard.js';
import type { ServerDeps } from './deps.js';
import { ApiError, handleError, handleNotFound, validationHook } from './errors.js';
import { rejectDeepJson } from './jsonDepth.js';
import { registerLimitGauges } from './limitMetrics.js';
import { loopbackOnly } from './loopbackGuard.js';
import { BraidMetrics } from './prometheus.js';
import { registerRateLimitGauges } from './rateLimitMetrics.js';
import { registerDebounceRoutes } from './routes/debounces.js';
import { registerEventRoutes } from './routes/events.js';
import { registerLimitRoutes } from './routes/limits.js';
import { registerMetricsRoutes } from './routes/metrics.js';
import { registerPruneRoutes } from './routes/prune.js';
import { registerRateLimitRoutes } from './routes/rateLimits.js';
import { registerRunRoutes } from './routes/runs.js';
import { registerScheduleRoutes } from './routes/schedules.js';
import { registerStreamRoutes } from './routes/streams.js';
import { registerWorkflowRoutes } from './routes/workflows.js';

export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;
export const DEFAULT_HEARTBEAT_MS = 15_000;

export interface AppOptions {
  /**
   * When set, every route but /healthz requires `Authorization: Bearer <token>`. Without one, only
   * loopback Host names are served, and a change sent by a web page must come from this server's
   * own origin (DNS rebinding, cross-site requests).
   */
  token?: string;
  /** Larger request bodies are refused with 413. Default 1 MiB. */
  bodyLimitBytes?: number;
  /** The built dashboard to serve at `/`. Default `<package root>/dashboard/dist`; null for none. */
  dashboardDir?: string | null;
  /** Interval of the comment that keeps idle event streams open. Default 15 000 ms. */
  heartbeatMs?: number;
}

/**
 * The HTTP API over one executor: JSON routes under /api, an event stream, /metrics, /healthz,
 * the OpenAPI 3.1 document (generated from the route definitions) at /openapi.json, and the
 * dashboard at `/`. Use `app.request()` in tests, or `startServer` to listen.
 */
export function createApp(executor: WorkflowExecutor, options: AppOptions = {}): OpenAPIHono {
  const app = new OpenAPIHono({ defaultHook: validationHook });
  const metrics = new BraidMetrics(executor.store);
  registerRateLimitGauges(metrics.registry, () => executor.rateLimits());
  registerLimitGauges(metrics.registry, () => executor.limits());
  executor.onEvents((events) => metrics.record(events));
  const deps: ServerDeps = {
    executor,
    metrics,
    heartbeatMs: options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS,
  };
  const maxSize = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;

  app.onError(handleError);
  app.notFound(handleNotFound);
  // Without a token the server is on loopback only: keep web pages from steering it (loopbackGuard.ts).
  app.use('*', options.token ? bearerAuth(options.token) : loopbackOnly());
  app.use(
    '*',
    bodyLimit({
      maxSize,
      onError: () => {
        throw new ApiError(413, 'payload_too_large', `The request body is larger than ${maxSize} bytes. Send less.`);
      },
    }),
  );

  app.use('/api/*', emptyBodyIsNoBody);
  app.use('/api/*', rejectDeepJson);

  registerWorkflowRoutes(app, deps);
  registerRunRoutes(app, deps);
  registerEventRoutes(app, deps);
  registerMetricsRoutes(app, deps);
  registerStreamRoutes(app, deps);
  registerPruneRoutes(app, deps);
  registerScheduleRoutes(app, deps);
  registerDebounceRoutes(app, deps);
  registerRateLimitRoutes(app, deps);
  registerLimitRoutes(app, deps);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'Required on every route but /healthz when the server has a token (BRAID_TOKEN)',
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Braid API',
      version: '0.1.0',
      description: 'Start, inspect and steer durable workflow runs. Times are epoch milliseconds.',
    },
    security: options.token ? [{ bearerAuth: [] }] : [],
  });

  registerDashboard(app, options.dashboardDir === null ? undefined : (options.dashboardDir ?? DEFAULT_DASHBOARD_DIR));
  return app;
}

/**
 * A POST that says `Content-Type: application/json` but sends nothing (what many clients send for
 * an action without options, such as cancel) means "no body", not malformed JSON.
 */
const emptyBodyIsNoBody: MiddlewareHandler = async (c, next) => {
  const raw = c.req.raw;
  const isEmpty = raw.body === null || raw.headers.get('content-length') === '0';
  if (raw.method === 'POST' && isEmpty && raw.headers.has('content-type')) {
    const headers = new Headers(raw.headers);
    headers.delete('content-type');
    headers.delete('content-length');
    c.req.raw = new Request(raw.url, { method: raw.method, headers, signal: raw.signal });
  }
  await next();
};
