import type pg from 'pg';

/**
 * Locks the runs whose waits a commit is about to settle (FOR NO KEY UPDATE, in id order), before
 * their waits: every transaction that writes both a run and its waits (an owner's commit, a claim)
 * takes the run first, so settling an event at the instant the owner times the wait out queues one
 * behind the other instead of deadlocking (a deadlock costs a second before PostgreSQL breaks it).
 * Holding the runs also fixes their owner until COMMIT: a claim under way finishes first, so
 * settleWaits tells the owner that will hold the run, and the claim, had it come second, would have
 * read the waits settled. Index: runs primary key.
 */
export async function lockRunsOfWaits(client: pg.PoolClient, runIds: readonly string[]): Promise<void> {
  if (!runIds.length) return;
  await client.query({
    name: 'braid_lock_runs_of_waits',
    text: 'SELECT id FROM braid.runs WHERE id = ANY($1::text[]) ORDER BY id FOR NO KEY UPDATE',
    values: [runIds],
  });
}
