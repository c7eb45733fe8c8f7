import { type Duration, durationMs } from './durations.js';
import { InvalidPruneOptionError } from './errors.js';

/**
 * How long finished runs are kept, by how they ended. A run tree is judged by its root (the run
 * nothing spawned): children go with their root. `failed` covers runs that timed out too.
 * A status left out is kept forever.
 */
export interface RetentionDurations {
  succeeded?: Duration | undefined;
  /** Failed and timed-out runs. */
  failed?: Duration | undefined;
  cancelled?: Duration | undefined;
}

/** The kinds of ending retention and `prune` tell apart; `failed` includes `timed_out`. */
export const PRUNE_STATUSES = ['succeeded', 'failed', 'cancelled'] as const;
export type PruneStatus = (typeof PRUNE_STATUSES)[number];

/** The stored run statuses one kind of ending stands for. */
export const STORED_STATUSES: Readonly<
  Record<PruneStatus, readonly ('succeeded' | 'failed' | 'cancelled' | 'timed_out')[]>
> = {
  succeeded: ['succeeded'],
  failed: ['failed', 'timed_out'],
  cancelled: ['cancelled'],
};

/** Retention durations in milliseconds; a kind that is absent is kept forever. */
export type RetentionMs = Partial<Record<PruneStatus, number>>;

/**
 * Reads `retention` (of the executor, or of workflow `owner`), each duration checked: a negative
 * or unreadable one is an InvalidDurationError naming the field (`retention.failed`).
 */
export function parseRetention(value: RetentionDurations | undefined, where: string): RetentionMs {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidPruneOptionError(where, 'an object such as { succeeded: "7d", failed: "30d" }', value);
  }
  const out: RetentionMs = {};
  for (const key of Object.keys(value)) {
    if (!(PRUNE_STATUSES as readonly string[]).includes(key)) {
      throw new InvalidPruneOptionError(
        `${where}.${key}`,
        `one of ${PRUNE_STATUSES.join(', ')} (a key of ${where})`,
        key,
      );
    }
  }
  for (const status of PRUNE_STATUSES) {
    const d = value[status];
    if (d === undefined) continue;
    out[status] = durationMs(d, `\`${where}.${status}\``);
  }
  return out;
}

/** `olderThan` of a prune, in ms (0, everything finished, when absent). */
export function olderThanMs(value: Duration | undefined, field = 'olderThan'): number {
  return value === undefined ? 0 : durationMs(value, `\`${field}\``);
}
