/** How a wait reads on screen: what it waits for, and when it is over. */
import type { Wait } from '../api/types.js';
import { formatDuration, formatShortTime, formatTime } from '../format.js';

/** `input "approve"`, `sleep`, `event "order.paid" with key "A-1"`. */
export function describeWait(wait: Wait): string {
  if (wait.kind === 'sleep') return 'sleep';
  const what = `${wait.kind} "${wait.name ?? ''}"`;
  if (wait.kind !== 'event') return what;
  if (wait.eventKey !== null) return `${what} with key "${wait.eventKey}"`;
  if (wait.match !== null) return `${what} matching ${JSON.stringify(wait.match)}`;
  return what;
}

/** `14:03:27 (in 59m 58s)`, or `14:03:27 (due now)` once the time has come. */
export function dueText(dueAt: number, now: number): string {
  const left = dueAt - now;
  return `${formatTime(dueAt)} (${left > 0 ? `in ${formatDuration(left)}` : 'due now'})`;
}

export function pendingWaitsOf(waits: readonly Wait[], step: string): Wait[] {
  return waits.filter((w) => w.step === step && w.status === 'pending');
}

/** The earliest deadline among waits, or null when none has one. */
export function earliestDue(waits: readonly Wait[]): number | null {
  let at: number | null = null;
  for (const w of waits) if (w.dueAt !== null && (at === null || w.dueAt < at)) at = w.dueAt;
  return at;
}

/**
 * What a waiting step waits for, short enough for a graph node: `input`, `sleep`, `event`, or
 * `first of 2` for a `waitForFirst`; `until <time>` when one has a deadline.
 */
export function waitingShort(pending: readonly Wait[]): string {
  if (!pending.length) return 'waiting';
  const what = pending.length === 1 ? pending[0]!.kind : `first of ${pending.length}`;
  const due = earliestDue(pending);
  return due === null ? what : `${what} until ${formatShortTime(due)}`;
}

/** The same in full, for the accessible name and the tooltip: `waiting for input "approve" until 14:03:27`. */
export function waitingLong(pending: readonly Wait[]): string {
  if (!pending.length) return 'waiting';
  const what = pending.map(describeWait).join(' or ');
  const due = earliestDue(pending);
  return `waiting for ${what}${due === null ? '' : ` until ${formatTime(due)}`}`;
}

export const WAIT_OUTCOME_LABELS: Record<Exclude<Wait['status'], 'pending'>, string> = {
  resolved: 'resolved',
  timed_out: 'timed out',
  cancelled: 'cancelled',
};
