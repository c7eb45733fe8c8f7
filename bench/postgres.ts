/**
 * The PostgreSQL server the benchmark measures against: the one BRAID_DATABASE_URL points at
 * (its user must be allowed to CREATE DATABASE), else a throw-away embedded server (data
 * directory under /tmp, removed on stop; fsync and synchronous_commit on, as shipped). Every
 * row gets a fresh database, so no row measures on another row's leftovers.
 */
import { createTestDatabase, startEmbeddedPostgres } from '../test/support/embeddedPostgres.js';

export interface BenchDatabase {
  url: string;
  drop(): Promise<void>;
}

export interface BenchServer {
  /** A URL of the server's maintenance database (creates and drops the bench databases). */
  url: string;
  /** An empty database on the server; Braid's store migrates it on open. */
  newDatabase(): Promise<BenchDatabase>;
  /** Stops the embedded server (a BRAID_DATABASE_URL server is left running). */
  stop(): Promise<void>;
}

export async function benchServer(): Promise<BenchServer> {
  const given = process.env.BRAID_DATABASE_URL;
  const embedded = given ? undefined : await startEmbeddedPostgres();
  const url = given ?? (embedded as { url: string }).url;
  return {
    url,
    newDatabase: () => createTestDatabase(url),
    stop: async () => {
      await embedded?.stop();
    },
  };
}
