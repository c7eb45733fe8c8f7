/**
 * Priority: who goes first among runs and steps waiting for a slot. Higher goes first, then
 * arrival; 0 is the default. The engine's PriorityQueue and the claim on PostgreSQL both apply
 * the anti-starvation rule below, so it is defined here, where both may read it.
 */

/** The range of a priority (workflow, step, start option). */
export const MIN_PRIORITY = -100;
export const MAX_PRIORITY = 100;

/**
 * The anti-starvation rule: of every OLDEST_EVERY slots given out, one goes to the waiter that has
 * waited longest, whatever its priority. So a steady stream of higher-priority work delays the
 * oldest waiter by at most OLDEST_EVERY - 1 slots, and a waiter with k older ones ahead of it by
 * at most OLDEST_EVERY * (k + 1).
 */
export const OLDEST_EVERY = 4;

/** Whether `value` is a priority Braid accepts: a whole number from MIN_PRIORITY to MAX_PRIORITY. */
export const isPriority = (value: unknown): value is number =>
  Number.isInteger(value) && (value as number) >= MIN_PRIORITY && (value as number) <= MAX_PRIORITY;
