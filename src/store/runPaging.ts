import { InvalidCursorError } from '../model/errors.js';
/**
 * Paging rules every store shares for `listRuns`, so a cursor means the same thing everywhere:
 * keyset pagination on (createdAt, id), with the position encoded as an opaque base64url string.
 * Keyset rather than OFFSET because a page deep into a million runs then costs the same as the
 * first one, and rows inserted while a client pages do not shift it into duplicates or gaps.
 */

export const DEFAULT_RUN_PAGE_SIZE = 50;
export const MAX_RUN_PAGE_SIZE = 1000;
export const DEFAULT_EVENT_PAGE_SIZE = 1000;

/** The last row of a page: the next page starts strictly after (or before, for desc) it. */
export interface RunCursor {
  createdAt: number;
  id: string;
}

export function encodeRunCursor(cursor: RunCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt, cursor.id]), 'utf8').toString('base64url');
}

export function decodeRunCursor(text: string): RunCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 2 ||
    typeof parsed[0] !== 'number' ||
    !Number.isFinite(parsed[0]) ||
    typeof parsed[1] !== 'string'
  ) {
    throw new InvalidCursorError(text);
  }
  return { createdAt: parsed[0], id: parsed[1] };
}

/** The page size to use: the default when unset, clamped to 1..MAX_RUN_PAGE_SIZE. */
export function runPageSize(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_RUN_PAGE_SIZE;
  return Math.min(MAX_RUN_PAGE_SIZE, Math.max(1, Math.trunc(limit)));
}

/** The number of events to return: the default when unset, never negative. */
export function eventPageSize(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_EVENT_PAGE_SIZE;
  return Math.max(0, Math.trunc(limit));
}

/** Status filter as a list, or undefined when the filter does not restrict status. */
export function statusList<T extends string>(status: T | readonly T[] | undefined): readonly T[] | undefined {
  if (status === undefined) return undefined;
  return typeof status === 'string' ? [status] : status;
}
