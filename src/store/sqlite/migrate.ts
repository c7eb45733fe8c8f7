import type Database from 'better-sqlite3';
import { StoreVersionError } from '../../model/errors.js';
import { findMigrationsDir, loadMigrationFiles, type Migration } from '../migrationFiles.js';
import { openDatabaseFile, toOpenError, withTemporariesOnDisk } from './openDatabaseFile.js';

export type { Migration };

/** A migration as reported once applied: `{ version: 1, name: '0001_init.sql' }`. */
export type AppliedMigration = Pick<Migration, 'version' | 'name'>;

/** What `migrateFile` did. */
export interface SqliteMigrationReport {
  /** `sqlite:<file>`. */
  where: string;
  /** The file did not exist: migrating created it. */
  isNew: boolean;
  /** Applied now, in order; empty when the schema was up to date. */
  applied: AppliedMigration[];
  /** The schema version the file is at now. */
  version: number;
}

/**
 * Brings a SQLite database up to the schema this code knows, from the numbered `.sql` files in
 * `migrations/` (`0001_init.sql`, `0002_...`). Each migration runs in one transaction together
 * with the `braid_migrations` row that records it: a crash mid-migration leaves neither, so the
 * next open retries it cleanly instead of finding half a schema that claims to be complete.
 */

/** Applies the pending migrations; returns those it applied, in order (empty when up to date). */
export function migrate(db: Database.Database, where: string, migrations = loadMigrations()): AppliedMigration[] {
  db.exec(
    'CREATE TABLE IF NOT EXISTS braid_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
  );
  const known = migrations.reduce((max, m) => Math.max(max, m.version), 0);
  const found = highestApplied(db);
  // A newer Braid has migrated this file: its schema may mean things this code would get wrong.
  if (found > known) throw new StoreVersionError(where, found, known);

  const isApplied = db.prepare<[number]>('SELECT 1 FROM braid_migrations WHERE version = ?').pluck();
  const record = db.prepare<[number, string, number]>(
    'INSERT INTO braid_migrations (version, name, applied_at) VALUES (?, ?, ?)',
  );
  const applied: AppliedMigration[] = [];
  // A migration that builds an index sorts the whole table: in files, not in RAM.
  withTemporariesOnDisk(db, () => {
    for (const migration of migrations) {
      // IMMEDIATE takes the write lock before the check, so two processes opening the same file
      // cannot both decide a migration is pending and both run it.
      db.transaction(() => {
        if (isApplied.get(migration.version)) return;
        db.exec(migration.sql);
        record.run(migration.version, migration.name, Date.now());
        applied.push({ version: migration.version, name: migration.name });
      }).immediate();
    }
  });
  return applied;
}

/**
 * `braid migrate` on a SQLite file: opens it as the store does (creating it and its directory when
 * missing), applies what is pending, and says what it did.
 */
export function migrateFile(file: string, busyTimeoutMs = 5000): SqliteMigrationReport {
  const where = `sqlite:${file}`;
  const { db, isNew } = openDatabaseFile(file, busyTimeoutMs);
  try {
    const applied = migrate(db, where);
    return { where, isNew, applied, version: highestApplied(db) };
  } catch (error) {
    throw toOpenError(file, error);
  } finally {
    db.close();
  }
}

export function highestApplied(db: Database.Database): number {
  const row = db.prepare('SELECT max(version) AS version FROM braid_migrations').get() as { version: number | null };
  return row.version ?? 0;
}

/** Reads the migration files, in version order. */
export function loadMigrations(dir = migrationsDir()): Migration[] {
  return loadMigrationFiles(dir, 'SQLite');
}

export function migrationsDir(): string {
  return findMigrationsDir('sqlite', 'SQLite');
}
