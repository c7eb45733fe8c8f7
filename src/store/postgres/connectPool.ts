import pg from 'pg';
import { StoreConnectionError } from '../../model/errors.js';
import { connectionStringProblem } from './connectionString.js';

/**
 * Creates the store's pool and proves it can connect, turning each way connecting fails into a
 * StoreConnectionError that says what to fix.
 */

export interface PoolSettings {
  connectionString: string;
  /** Redacted, for messages. */
  where: string;
  poolSize: number;
  applicationName: string;
}

/** A connect that has not finished after this long fails: a blackholed host must not hang open(). */
export const CONNECT_TIMEOUT_MS = 5000;

const INT8_OID = 20;
const INT8_ARRAY_OID = 1016;

/**
 * bigint columns (epoch-ms times, seqs, counts) as numbers. pg returns them as strings by default
 * because they may exceed 2^53; Braid's values never do. Set on this pool only: changing pg's
 * global parsers would change them for the application's own pools too.
 */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID) return (value: string) => Number(value);
    if (oid === INT8_ARRAY_OID) {
      // pg's own int8[] parser (1016 is not in pg-types' TypeId list, hence the widened signature).
      const getParser = pg.types.getTypeParser as (oid: number, format: 'text') => (value: string) => unknown;
      const parseStrings = getParser(INT8_ARRAY_OID, 'text') as (value: string) => (string | null)[];
      return (value: string) => parseStrings(value).map((n) => (n === null ? null : Number(n)));
    }
    return pg.types.getTypeParser(oid, format as 'text');
  },
} as pg.CustomTypesConfig;

export async function connectPool(settings: PoolSettings): Promise<pg.Pool> {
  const problem = connectionStringProblem(settings.connectionString);
  if (problem) throw new StoreConnectionError(settings.where, 'malformed_url', problem);

  let pool: pg.Pool;
  try {
    pool = new pg.Pool({
      connectionString: settings.connectionString,
      max: settings.poolSize,
      application_name: settings.applicationName,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      types,
      // Queries on a checked-out connection go out without waiting for the answer before them
      // (each with its own Sync, so each still fails alone): a transaction sends BEGIN with its
      // first statement, and statements whose results the next does not need go out together
      // (transaction.ts, commitBatch.ts, deliverWaits.ts). Awaited one by one, nothing changes.
      pipeline: true,
    });
  } catch (error) {
    throw new StoreConnectionError(settings.where, 'malformed_url', (error as Error).message, { cause: error });
  }
  // An idle client whose connection drops (server restart) emits 'error' on the pool; unhandled,
  // that would crash the process. The next query gets a fresh connection instead.
  pool.on('error', () => {});
  // And a checked-out client may hear its connection end after its query already failed with it
  // (a server shutdown: 57P01), once pg-pool has dropped its own listener to release the client:
  // a client with no 'error' listener would crash the process then. The query reports the error.
  pool.on('connect', (client) => client.on('error', () => {}));
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end().catch(() => {});
    throw toConnectionError(settings.where, error);
  }
  return pool;
}

/** Maps a failed connect to the problem the user can fix; anything unrecognised is rethrown. */
function toConnectionError(where: string, error: unknown): unknown {
  const e = error as { code?: string; message?: string };
  const message = e.message ?? String(error);
  switch (e.code) {
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ECONNRESET':
      return new StoreConnectionError(where, 'unreachable', `the connection was refused (${e.code})`, { cause: error });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new StoreConnectionError(where, 'unreachable', `the host name does not resolve (${e.code})`, {
        cause: error,
      });
    case '28P01':
    case '28000':
      return new StoreConnectionError(where, 'authentication', `authentication failed (${message})`, { cause: error });
    case '3D000':
      return new StoreConnectionError(where, 'missing_database', message, { cause: error });
  }
  if (/timeout/i.test(message)) {
    return new StoreConnectionError(where, 'timeout', `no answer within ${CONNECT_TIMEOUT_MS / 1000} s`, {
      cause: error,
    });
  }
  if (/terminated unexpectedly|ECONNRESET/i.test(message)) {
    // The host answered and closed the connection (no server on that port behind a proxy, say).
    return new StoreConnectionError(where, 'unreachable', 'the server closed the connection', { cause: error });
  }
  if (/password/i.test(message)) {
    // pg's own client-side checks (a SCRAM server and no password given, say).
    return new StoreConnectionError(where, 'authentication', message, { cause: error });
  }
  return error;
}
