import { PostgresStore } from '../store/postgres/postgresStore.js';
import { SqliteStore } from '../store/sqlite/sqliteStore.js';
import type { Store } from '../store/store.js';

export const DEFAULT_DB_PATH = '.braid/braid.db';

/**
 * The store an executor uses when it is given none: PostgreSQL when BRAID_DATABASE_URL names a
 * server (the scale-out setting), else the embedded SQLite file at BRAID_DB or `.braid/braid.db`
 * (zero set-up). The one place that names concrete stores.
 */
export function defaultStore(env: NodeJS.ProcessEnv = process.env): Store {
  const url = env.BRAID_DATABASE_URL;
  if (url) return new PostgresStore({ connectionString: url });
  return new SqliteStore({ path: env.BRAID_DB ?? DEFAULT_DB_PATH });
}
