import type { Hook } from '@hono/zod-openapi';
import type { Context, Env } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { BraidError, InvalidInputError, InvalidInputValueError, InvalidWorkflowError } from '../model/errors.js';

/** One problem with a request, in the shape zod reports it. */
export interface ApiIssue {
  path: Array<string | number>;
  message: string;
  code?: string;
}

/** The body of every error response: `{ error: { code, message, issues? } }`. */
export interface ApiErrorBody {
  error: { code: string; message: string; issues?: ApiIssue[] };
}

/**
 * An error that is already an HTTP answer: a status, a stable code, a message that says what to
 * fix, and the issues when a validator produced them. Route code throws it; `handleError` turns it
 * (and every other error) into the JSON response, so no route builds error bodies by hand.
 */
export class ApiError extends HTTPException {
  constructor(
    status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly issues?: ApiIssue[],
    readonly headers?: Record<string, string>,
  ) {
    super(status, { message });
    this.name = 'ApiError';
  }
}

/** `startServer` refuses to listen beyond loopback without a token. */
export class UnsafeBindError extends BraidError {
  readonly code = 'unsafe_bind';
  constructor(readonly host: string) {
    super(
      `Refusing to serve the Braid API on "${host}" without a token: anyone who can reach it could start, cancel and ` +
        'read runs. Set BRAID_TOKEN (or pass `token`) so every request needs `Authorization: Bearer <token>`, ' +
        'or bind to 127.0.0.1.',
    );
  }
}

/**
 * HTTP status for each BraidError code a request can cause. Anything else is a server fault (500).
 * `invalid_duration` and `invalid_wait` are not here on purpose: a step's own wait call raises
 * them, so they end up in that step's error, never in an answer to a request.
 */
const STATUS_BY_CODE: Record<string, ContentfulStatusCode> = {
  run_not_found: 404,
  step_not_found: 404,
  invalid_stream_name: 400,
  workflow_not_registered: 404,
  invalid_input: 422,
  invalid_input_value: 422,
  invalid_event: 422,
  not_serializable: 422,
  spawn_failed: 422,
  invalid_state: 409,
  input_not_awaited: 409,
  concurrency_limit: 409,
  idempotency_conflict: 409,
  executor_closed: 503,
  run_not_ended: 409,
  fork_version_mismatch: 409,
  unknown_fork_step: 422,
  invalid_fork_outputs: 422,
  invalid_prune_option: 400,
  schedule_not_found: 404,
  schedule_exists: 409,
  schedule_changed: 409,
  invalid_cron: 422,
  invalid_timezone: 422,
  invalid_schedule: 422,
  invalid_priority: 422,
  invalid_rate_limit: 400,
  invalid_limit: 400,
  max_runs_not_defined: 409,
  pool_not_found: 404,
};

export function statusForBraidError(error: BraidError): ContentfulStatusCode {
  // Every InvalidWorkflowError subclass (cycle, unknown_parent...) has its own code: match the class.
  if (error instanceof InvalidWorkflowError) return 422;
  return STATUS_BY_CODE[error.code] ?? 500;
}

/** Codes for hono's own HTTPExceptions (malformed JSON, unsupported media type, ...). */
const CODE_BY_STATUS: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  404: 'not_found',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

/** The one error handler: every failure becomes `{ error: { code, message, issues? } }`. */
export function handleError(error: Error, c: Context): Response {
  if (error instanceof ApiError) {
    for (const [name, value] of Object.entries(error.headers ?? {})) c.header(name, value);
    return c.json(errorBody(error.code, error.message, error.issues), error.status);
  }
  if (error instanceof HTTPException) {
    const isMalformedJson = error.status === 400 && /malformed json/i.test(error.message);
    const code = isMalformedJson ? 'malformed_json' : (CODE_BY_STATUS[error.status] ?? 'http_error');
    const message = isMalformedJson ? 'The request body is not valid JSON. Send a JSON document.' : error.message;
    return c.json(errorBody(code, message), error.status as ContentfulStatusCode);
  }
  if (error instanceof BraidError) {
    const status = statusForBraidError(error);
    if (status >= 500) console.error('[braid] request failed:', error);
    return c.json(errorBody(error.code, error.message, issuesOf(error)), status);
  }
  console.error('[braid] request failed:', error);
  return c.json(errorBody('internal_error', 'Internal server error. The server log has the details.'), 500);
}

export function handleNotFound(c: Context): Response {
  return c.json(
    errorBody('not_found', `No route for ${c.req.method} ${c.req.path}. The API is described at /openapi.json.`),
    404,
  );
}

/**
 * The validation hook of every route: a query, path or body that fails its zod schema is a 400
 * naming each bad field. (422 is kept for inputs that are well-formed but that a workflow's own
 * schema refuses.)
 */
export const validationHook: Hook<unknown, Env, string, undefined> = (result) => {
  if (result.success) return;
  const where = result.target === 'json' ? 'body' : result.target;
  const issues = result.error.issues.map((issue) => ({
    path: issue.path.map((p) => (typeof p === 'number' ? p : String(p))),
    message: issue.message,
    code: issue.code,
  }));
  const summary = issues.map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`).join('; ');
  throw new ApiError(400, 'invalid_request', `Invalid request ${where}: ${summary}`, issues);
};

function errorBody(code: string, message: string, issues?: ApiIssue[]): ApiErrorBody {
  return issues ? { error: { code, message, issues } } : { error: { code, message } };
}

/** The schema issues of an InvalidInputError (a run's input) or InvalidInputValueError (a person's), as JSON-friendly paths. */
function issuesOf(error: BraidError): ApiIssue[] | undefined {
  if (!(error instanceof InvalidInputError || error instanceof InvalidInputValueError)) return undefined;
  return error.issues.map((issue) => ({
    path: (issue.path ?? []).map((p) => {
      const key = typeof p === 'object' ? p.key : p;
      return typeof key === 'number' ? key : String(key);
    }),
    message: issue.message,
  }));
}
