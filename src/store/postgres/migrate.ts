import type pg from 'pg';
import { StoreMigrationError, StoreMigrationRequiredError, StoreVersionError } from '../../model/errors.js';
import { findMigrationsDir, loadMigrationFiles, type Migration } from '../migrationFiles.js';
import { redactConnectionString } from './connectionString.js';
import { connectPool } from './connectPool.js';

export type { Migration };

/** A migration as reported once applied: `{ version: 1, name: '0001_init.sql' }`. */
export type AppliedMigration = Pick<Migration, 'version' | 'name'>;

/** What `migrateDatabase` did. */
export interface PostgresMigrationReport {
  /** The connection string, its password hidden. */
  where: string;
  /** Applied now, in order; empty when the schema was up to date. */
  applied: AppliedMigration[];
  /** The schema version the database is at now. */
  version: number;
}

/**
 * Brings a PostgreSQL database up to the schema this code knows, from the numbered `.sql` files in
 * `migrations/` (`0001_init.sql`, `0002_...`). Each migration runs in one transaction together
 * with the `braid.migrations` row that records it: a crash mid-migration leaves neither, so the
 * next open retries it cleanly instead of finding half a schema that claims to be complete.
 *
 * The whole run holds a session advisory lock on one dedicated connection, so workers starting at
 * once against a fresh database queue up: the first applies the schema, the others find it done.
 * The lock is needed before `CREATE SCHEMA IF NOT EXISTS` already: two of those racing can fail
 * with a unique violation on pg_namespace, IF NOT EXISTS notwithstanding. A session lock rather
 * than a transaction-level one because it must span several transactions (one per migration).
 */

/** pg_advisory_lock key: "braid_mi" in ASCII, so it is recognisable in pg_locks. */
const MIGRATION_LOCK_KEY = '7094435055004977513';

/** Applies the pending migrations; returns those it applied, in order (empty when up to date). */
export async function migrate(
  pool: pg.Pool,
  where: string,
  migrations = loadMigrations(),
): Promise<AppliedMigration[]> {
  const client = await pool.connect();
  // A checked-out client has no pool error listener: a connection the server ends mid-migration
  // would be an uncaught 'error' event. The failed query reports it instead.
  const ignore = () => {};
  client.on('error', ignore);
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const applied = await applyPending(client, where, migrations);
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    client.off('error', ignore);
    client.release();
    return applied;
  } catch (error) {
    // A client that failed mid-way may still hold the lock: close its connection (which releases
    // the lock) rather than hand it back to the pool.
    client.off('error', ignore);
    client.release(true);
    throw error;
  }
}

async function applyPending(
  client: pg.PoolClient,
  where: string,
  migrations: Migration[],
): Promise<AppliedMigration[]> {
  await client.query('CREATE SCHEMA IF NOT EXISTS braid');
  await client.query(
    `CREATE TABLE IF NOT EXISTS braid.migrations (
       version integer PRIMARY KEY,
       name text NOT NULL,
       applied_at timestamptz NOT NULL DEFAULT now())`,
  );
  const known = highestKnown(migrations);
  const found = await highestApplied(client);
  // A newer Braid has migrated this database: its schema may mean things this code would get wrong.
  if (found > known) throw new StoreVersionError(where, found, known);

  const applied: AppliedMigration[] = [];
  for (const migration of migrations) {
    if (migration.version <= found) continue;
    await client.query('BEGIN');
    try {
      await client.query(migration.sql);
      await client.query('INSERT INTO braid.migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw new StoreMigrationError(where, migration.name, { cause: error });
    }
    applied.push({ version: migration.version, name: migration.name });
  }
  return applied;
}

/**
 * `braid migrate` on PostgreSQL: connects on one connection (a StoreConnectionError says what to
 * fix when it cannot), applies what is pending, and says what it did.
 */
export async function migrateDatabase(
  connectionString: string,
  applicationName = 'braid migrate',
): Promise<PostgresMigrationReport> {
  const where = redactConnectionString(connectionString);
  const pool = await connectPool({ connectionString, where, poolSize: 1, applicationName });
  try {
    const applied = await migrate(pool, where);
    return { where, applied, version: await highestApplied(pool) };
  } finally {
    await pool.end();
  }
}

/**
 * For `migrate: false`: throws unless the database is at exactly the version this code knows,
 * StoreMigrationRequiredError when it is behind (or has no Braid schema), StoreVersionError ahead.
 */
export async function checkSchemaVersion(pool: pg.Pool, where: string, migrations = loadMigrations()): Promise<void> {
  const known = highestKnown(migrations);
  const found = await highestApplied(pool);
  if (found > known) throw new StoreVersionError(where, found, known);
  if (found < known) throw new StoreMigrationRequiredError(where, found, known);
}

/** The highest applied version; 0 when the database has no Braid schema yet. */
export async function highestApplied(db: pg.Pool | pg.PoolClient): Promise<number> {
  const { rows } = await db.query<{ version: number | null }>(
    `SELECT CASE WHEN to_regclass('braid.migrations') IS NULL THEN 0 END AS version`,
  );
  if (rows[0]?.version === 0) return 0;
  const max = await db.query<{ version: number | null }>('SELECT max(version) AS version FROM braid.migrations');
  return max.rows[0]?.version ?? 0;
}

function highestKnown(migrations: readonly Migration[]): number {
  return migrations.reduce((max, m) => Math.max(max, m.version), 0);
}

/** Reads the migration files, in version order. */
export function loadMigrations(dir = migrationsDir()): Migration[] {
  return loadMigrationFiles(dir, 'PostgreSQL');
}

export function migrationsDir(): string {
  return findMigrationsDir('postgres', 'PostgreSQL');
}
