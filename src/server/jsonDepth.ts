import type { MiddlewareHandler } from 'hono';
import { MAX_JSON_DEPTH } from '../model/json.js';
import { ApiError } from './errors.js';

/**
 * Refuses a JSON body nested deeper than Braid stores (MAX_JSON_DEPTH), before anything parses or
 * validates it: JSON.parse, zod and a workflow's own (maybe recursive) schema all recurse, and
 * 5,000 levels was a RangeError and a 500. One linear scan of the text, with no recursion; hono
 * caches the body, so the route reads it again for free.
 */
export const rejectDeepJson: MiddlewareHandler = async (c, next) => {
  const type = c.req.header('content-type') ?? '';
  if (c.req.raw.body !== null && /\bjson\b/i.test(type)) {
    const depth = nestingDepth(await c.req.text(), MAX_JSON_DEPTH + 1);
    if (depth > MAX_JSON_DEPTH) {
      throw new ApiError(
        400,
        'body_too_deep',
        `The request body nests deeper than ${MAX_JSON_DEPTH} levels of arrays and objects, more than Braid stores. ` +
          'Flatten the input (or send the deep part as a string).',
      );
    }
  }
  await next();
};

/** The deepest nesting of [ and { outside strings, counted up to `stopAt`. */
function nestingDepth(text: string, stopAt: number): number {
  let depth = 0;
  let deepest = 0;
  let isInString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (isInString) {
      if (ch === 0x5c)
        i++; // backslash: skip the escaped character
      else if (ch === 0x22) isInString = false;
    } else if (ch === 0x22) {
      isInString = true;
    } else if (ch === 0x5b || ch === 0x7b) {
      depth++;
      if (depth > deepest) deepest = depth;
      if (deepest >= stopAt) return deepest;
    } else if (ch === 0x5d || ch === 0x7d) {
      depth--;
    }
  }
  return deepest;
}
