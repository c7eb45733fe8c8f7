import type { InboxEvent, WaitRecord } from './types.js';

/**
 * Whether an event resolves a pending event wait: same name, the wait's key if it has one, every
 * field of its `match` equal in the payload (dotted paths reach into objects), and received no
 * earlier than the wait's look-back. The one rule every store applies, in the transaction that
 * records the event or registers the wait.
 */
export function eventMatchesWait(wait: WaitRecord, event: InboxEvent, payload: unknown): boolean {
  if (wait.kind !== 'event' || wait.status !== 'pending' || wait.name !== event.name) return false;
  if (wait.eventKey !== null && wait.eventKey !== event.key) return false;
  if (wait.since !== null && event.createdAt < wait.since) return false;
  if (wait.afterSeq !== null && (event.seq ?? 0) <= wait.afterSeq) return false;
  // A wait whose timeout has passed is over, even if nothing has marked it timed out yet.
  if (wait.dueAt !== null && event.createdAt >= wait.dueAt) return false;
  if (wait.match === null) return true;
  const fields = JSON.parse(wait.match) as Record<string, unknown>;
  for (const [path, expected] of Object.entries(fields)) {
    if (!sameJson(valueAt(payload, path), expected)) return false;
  }
  return true;
}

/** The value at a dotted path (`order.id`), or undefined. */
function valueAt(value: unknown, path: string): unknown {
  let at = value;
  for (const part of path.split('.')) {
    if (at === null || typeof at !== 'object' || !Object.hasOwn(at, part)) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

/** Deep equality of JSON values (both come from JSON text). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every(
    (k) => Object.hasOwn(b, k) && sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}

/** What a resolved event wait records as its value: the event, as the waiting step receives it. */
export function eventValue(event: InboxEvent): string {
  return `{"name":${JSON.stringify(event.name)},"key":${JSON.stringify(event.key)},"seq":${event.seq ?? null},"at":${event.createdAt},"payload":${event.payload}}`;
}

/** A copy of the wait, resolved (or timed out / cancelled) at `at` with `value`. */
export function settled(wait: WaitRecord, status: WaitRecord['status'], value: string | null, at: number): WaitRecord {
  return { ...wait, status, value, resolvedAt: at };
}
