import ms from 'ms';
import { InvalidDurationError } from './errors.js';

/** A length of time: milliseconds, or text such as `'500ms'`, `'30s'`, `'5m'`, `'2h'`, `'3d'`, `'1w'`. */
export type Duration = number | string;

/** The duration in milliseconds; a typed error naming `what` for anything that is not one. */
export function durationMs(value: Duration, what: string): number {
  const parsed =
    typeof value === 'number' ? value : typeof value === 'string' ? ms(value as ms.StringValue) : Number.NaN;
  if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed < 0) throw new InvalidDurationError(what, value);
  return parsed;
}
