import type pg from 'pg';

/**
 * Runs `work` in a transaction on one pooled connection: COMMIT when it resolves, ROLLBACK when it
 * throws. A connection that broke meanwhile is destroyed rather than handed back to the pool.
 * BEGIN goes out with the work's first statement (the pool pipelines: connectPool.ts), not a round
 * trip before it; the server runs them in order, and BEGIN's own failure is reported.
 */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
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
  try {
    const result = await work(client);
    await begun;
    await client.query('COMMIT');
    return result;
  } catch (error) {
    if (!lost) await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.off('error', onError);
    client.release(lost ?? false);
  }
}
