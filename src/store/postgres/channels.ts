/**
 * The LISTEN/NOTIFY channels Braid's PostgreSQL store and workers share. The store sends them from
 * inside a commit's transaction, so a listener hears of a change only once it is visible.
 *
 * Payloads that carry run ids are comma-separated (run ids never hold commas: the engine makes
 * them). PostgreSQL caps a payload at 8000 bytes, so a long list is sent as several notifications
 * of at most MAX_PAYLOAD_BYTES each.
 */

/** New runs wait for a worker to claim them (payload ''). */
export const READY_CHANNEL = 'braid_ready';
/** Runs that reached a terminal status or paused (payload: their ids). */
export const SETTLED_CHANNEL = 'braid_settled';
/** A cancel / pause / resume was requested for runs a worker owns (payload: their ids). */
export const CONTROL_CHANNEL = 'braid_control';
/** A semaphore slot was freed (payload: the semaphore's name). */
export const SLOTS_CHANNEL = 'braid_slots';
/**
 * Waits of runs a worker holds were settled by another process's commit (an event or an input it
 * recorded): the owner reads them and lets the steps go on (payload: the runs' ids).
 */
export const WAITS_CHANNEL = 'braid_waits';
/**
 * Runs were handed back asleep (payload: how many ms until the earliest of them is due, by the
 * database's clock, so workers whose clocks disagree with it still wake them on time): workers arm
 * one timer for it and claim them when they are due.
 */
export const ASLEEP_CHANNEL = 'braid_asleep';
/** A commit appended events (payload ''): live views in other processes read them. */
export const EVENTS_CHANNEL = 'braid_events';
/** A process opened a live event feed (payload ''): commits send EVENTS_CHANNEL for a while. */
export const FEED_CHANNEL = 'braid_feed';

/**
 * A commit appended stream chunks (payload: the ids of their runs): stream readers in other
 * processes read them. Sent, like EVENTS_CHANNEL, only while some process has a live feed open
 * (a stream reader opens one, to hear its step end).
 */
export const STREAMS_CHANNEL = 'braid_streams';

/**
 * A step reported progress (`ctx.progress`) on the worker running it (payload: JSON
 * `[runId, step, at, value]`): other processes (an API server) show it. Progress is never stored;
 * this notice is all there is of it outside that worker.
 */
export const PROGRESS_CHANNEL = 'braid_progress';

/** Below PostgreSQL's 8000-byte payload limit, with room to spare. */
export const MAX_PAYLOAD_BYTES = 7900;

/**
 * SQL that reads the `id` column of `source` as comma-separated payloads: a chunk closes once its
 * ids pass 7,000 bytes, so with ids under 900 bytes every payload stays below MAX_PAYLOAD_BYTES.
 * The notifying statements send one notification per row it returns (`pg_notify(channel, ids)`).
 */
export const chunkedIds = (source: string) => `
  SELECT string_agg(id, ',' ORDER BY pos) AS ids
    FROM (SELECT id, sum(octet_length(id) + 1) OVER (ORDER BY id ROWS UNBOUNDED PRECEDING) AS pos
            FROM ${source}) AS numbered
   GROUP BY (pos - 1) / 7000`;

/** Run ids as payloads of at most `maxBytes` each (an empty list gives none). */
export function encodeIds(ids: readonly string[], maxBytes = MAX_PAYLOAD_BYTES): string[] {
  const payloads: string[] = [];
  let current = '';
  let currentBytes = 0;
  for (const id of ids) {
    const bytes = Buffer.byteLength(id);
    if (current && currentBytes + 1 + bytes > maxBytes) {
      payloads.push(current);
      current = '';
      currentBytes = 0;
    }
    current = current ? `${current},${id}` : id;
    currentBytes += current === id ? bytes : bytes + 1;
  }
  if (current) payloads.push(current);
  return payloads;
}

/** The run ids of one payload. */
export function decodeIds(payload: string | undefined): string[] {
  return payload ? payload.split(',') : [];
}
