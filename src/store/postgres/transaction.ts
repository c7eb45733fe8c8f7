import type pg from 'pg';

/**
 * Runs `work` in a transaction on one pooled connection: COMMIT when it resolves, ROLLBACK when it
 * throws. A connection that broke meanwhile is destroyed rather than handed back to the pool.
 * BEGIN goes out with the work's first statement (the pool pipelines: connectPool.ts), not a round
 * trip before it; the server runs them in order, and BEGIN's own failure is reported.
 *
 * COMMIT goes out once `work` resolves, or earlier, with the work's last statements, if it calls
 * `commit()` as it sends them (deliverWaits.ts: a sendEvent's commit in two round trips, not
 * three). The work must then send nothing more, and what it does with their answers must not
 * throw: the transaction is committed (or, if one of them failed, the server turns COMMIT into a
 * rollback, and that statement's error is the work's).
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient, commit: () => Promise<void>) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  // A checked-out client has no pool error listener: a connection the server ends between two
  // statements would be an uncaught 'error' event. Note it; the failed query reports it.
  let lost: Error | undefined;
  const onError = (error: Error) => {
    lost = error;
  };
  client.on('error', onError);
  const begun = client.query('BEGIN');
  // Observed below; a failure meanwhile is the work's failure too (the connection is gone).
  begun.catch(() => {});
  let committing: Promise<unknown> | undefined;
  const commit = () => {
    committing ??= client.query('COMMIT');
    // Observed below as well; a failure is the transaction's failure.
    committing.catch(() => {});
    return committing.then(() => {});
  };
  try {
    const result = await work(client, commit);
    await begun;
    await (committing ?? client.query('COMMIT'));
    return result;
  } catch (error) {
    // After an early COMMIT there is no transaction left to roll back (it committed, or the server
    // rolled it back because a statement before it failed).
    if (!lost && !committing) await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.off('error', onError);
    client.release(lost ?? false);
  }
}
