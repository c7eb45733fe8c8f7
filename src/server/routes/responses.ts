import type { z } from '@hono/zod-openapi';
import { ErrorResponseSchema } from '../schemas.js';

/** An OpenAPI response with a JSON body. */
export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

/** The documented error responses of a route (every error body has the same shape). */
export function errorResponses<const S extends number>(...statuses: S[]) {
  const described: Record<number, string> = {
    400: 'Invalid request: a query parameter, path parameter or body field is wrong (see `issues`)',
    401: 'Missing or wrong bearer token (when the server has one)',
    404: 'Unknown run, workflow or route',
    409: 'The run is not in a state that allows this action (for an input: it does not wait for one of that name)',
    413: 'The request body is larger than the limit',
    415: 'The body is not JSON',
    422: "A schema refused the value (a run's input, or the value for an input: see `issues`), or JSON cannot hold it",
  };
  return Object.fromEntries(
    statuses.map((status) => [status, jsonResponse(ErrorResponseSchema, described[status] ?? 'Error')]),
  ) as Record<S, ReturnType<typeof jsonResponse<typeof ErrorResponseSchema>>>;
}
