/**
 * A step's `ctx.progress` value as one short piece of a line: `{ done, total }` (or `current`)
 * as "3/10 30%", a number or a string as it is, anything else as compact JSON, cut to `width`.
 */
import { oneLine } from './format.js';

export function formatStepProgress(value: unknown, width = 40): string {
  const fraction = asFraction(value);
  if (fraction) {
    const { done, total } = fraction;
    const percent = total > 0 ? ` ${Math.floor((done / total) * 100)}%` : '';
    return oneLine(`${done}/${total}${percent}`, width);
  }
  if (typeof value === 'string') return oneLine(value, width);
  return oneLine(JSON.stringify(value) ?? String(value), width);
}

function asFraction(value: unknown): { done: number; total: number } | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const done = typeof v.done === 'number' ? v.done : v.current;
  if (typeof done !== 'number' || typeof v.total !== 'number') return undefined;
  return { done, total: v.total };
}
