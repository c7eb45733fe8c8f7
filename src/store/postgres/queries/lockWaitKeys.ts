import type pg from 'pg';

/**
 * The first key of Braid's two-key advisory locks ("brai" in ASCII, recognisable in pg_locks), one
 * per kind of thing locked: an event name, an event name and key, a run's inputs.
 */
const LOCK_SPACES = { name: 0x62726169, key: 0x62726169 + 1, input: 0x62726169 + 2 } as const;

export interface WaitLock {
  space: keyof typeof LOCK_SPACES;
  /** The name; the name and key as a JSON array (PostgreSQL text cannot hold a NUL); the run id. */
  value: string;
  exclusive: boolean;
}

/**
 * The locks a commit takes so that an event and a wait it may resolve cannot miss each other across
 * processes (see lockWaitKeys), no more: an event keyed `k` resolves the waits for key `k` and the
 * waits for any key, so
 * - an event keyed `k`, and a wait for key `k`: the name shared, the (name, k) pair exclusive;
 * - an event without a key: the name shared (it resolves only the waits for any key);
 * - a wait for any key: the name exclusive.
 * Events of one name with different keys (a webhook per order) then commit side by side; one lock
 * per name made every send of `order.paid` wait for the one before. A value for a run's input
 * locks that run's inputs.
 */
export function waitLocks(
  events: ReadonlyArray<{ name: string; key: string | null }>,
  waits: ReadonlyArray<{ name: string; eventKey: string | null }>,
  inputRuns: readonly string[],
): WaitLock[] {
  const locks = new Map<string, WaitLock>();
  const take = (space: WaitLock['space'], value: string, exclusive: boolean) => {
    const id = `${space}\u0000${value}`;
    const known = locks.get(id);
    if (known) known.exclusive ||= exclusive;
    else locks.set(id, { space, value, exclusive });
  };
  for (const { name, key } of [...events, ...waits.map((w) => ({ name: w.name, key: w.eventKey }))]) {
    if (key === null) take('name', name, false);
    else {
      take('name', name, false);
      take('key', JSON.stringify([name, key]), true);
    }
  }
  for (const w of waits) if (w.eventKey === null) take('name', w.name, true);
  for (const runId of inputRuns) take('input', runId, true);
  return [...locks.values()];
}

/**
 * Takes transaction-level advisory locks, so that a waiter and its event cannot miss each other
 * across processes: the commit that records an event and the one that registers a wait for it
 * lock conflicting keys first (waitLocks). Whichever comes second then reads (in later statements,
 * with a fresh snapshot) what the first committed: the new wait finds the event in the inbox, or
 * the new event finds the wait. Without the locks, two READ COMMITTED transactions could each miss
 * the other's uncommitted row (a test of 60 such races left waits pending with their events in the
 * inbox). Inputs lock their run, so two values given at once for one run resolve its pending
 * inputs one after the other, each the oldest still pending.
 *
 * The two-key form keeps these locks apart from an application's one-key locks. Keys are taken in
 * one order, each once in its strongest mode (the volatile lock calls are evaluated after the
 * grouping's sort), so commits locking several cannot deadlock on them; values that share a hash
 * share a lock, which only serialises them. Released at COMMIT or ROLLBACK.
 */
export async function lockWaitKeys(client: pg.PoolClient, locks: readonly WaitLock[]): Promise<void> {
  if (!locks.length) return;
  await client.query({
    name: 'braid_lock_wait_keys',
    text: `SELECT CASE WHEN k.exclusive THEN pg_advisory_xact_lock(k.space, k.hash)
                       ELSE pg_advisory_xact_lock_shared(k.space, k.hash) END
             FROM (SELECT t.space, hashtext(t.value) AS hash, bool_or(t.exclusive) AS exclusive
                     FROM unnest($1::integer[], $2::text[], $3::boolean[]) AS t(space, value, exclusive)
                    GROUP BY 1, 2) AS k
            ORDER BY k.space, k.hash`,
    values: [locks.map((l) => LOCK_SPACES[l.space]), locks.map((l) => l.value), locks.map((l) => l.exclusive)],
  });
}
