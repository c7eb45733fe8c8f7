import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';
import { StoreVersionError } from '../../model/errors.js';

/**
 * Brings a SQLite database up to the schema this code knows, from the numbered `.sql` files in
 * `migrations/` (`0001_init.sql`, `0002_...`). Each migration runs in one transaction together
 * with the `braid_migrations` row that records it: a crash mid-migration leaves neither, so the
 * next open retries it cleanly instead of finding half a schema that claims to be complete.
 */

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const MIGRATION_FILE = /^(\d+)_([\w-]+)\.sql$/;

/** Applies the pending migrations; returns the versions it applied (empty when up to date). */
export function migrate(db: Database.Database, where: string, migrations = loadMigrations()): number[] {
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
  const applied: number[] = [];
  for (const migration of migrations) {
    // IMMEDIATE takes the write lock before the check, so two processes opening the same file
    // cannot both decide a migration is pending and both run it.
    db.transaction(() => {
      if (isApplied.get(migration.version)) return;
      db.exec(migration.sql);
      record.run(migration.version, migration.name, Date.now());
      applied.push(migration.version);
    }).immediate();
  }
  return applied;
}

export function highestApplied(db: Database.Database): number {
  const row = db.prepare('SELECT max(version) AS version FROM braid_migrations').get() as { version: number | null };
  return row.version ?? 0;
}

/** Reads the migration files, in version order. */
export function loadMigrations(dir = migrationsDir()): Migration[] {
  const migrations: Migration[] = [];
  for (const file of fs.readdirSync(dir)) {
    const match = MIGRATION_FILE.exec(file);
    if (!match) continue;
    const version = Number(match[1]);
    const clash = migrations.find((m) => m.version === version);
    if (clash) throw new Error(`Two SQLite migrations share version ${version} (${clash.name}, ${file}) in ${dir}.`);
    migrations.push({ version, name: file, sql: fs.readFileSync(path.join(dir, file), 'utf8') });
  }
  return migrations.sort((a, b) => a.version - b.version);
}

/**
 * The sibling `migrations/` folder when running from src (tsx, vitest). tsc does not copy `.sql`
 * files, so from dist/store/sqlite/ the module falls back to the package's shipped
 * src/store/sqlite/migrations (listed in package.json "files").
 */
export function migrationsDir(): string {
  const candidates = [
    new URL('./migrations/', import.meta.url),
    new URL('../../../src/store/sqlite/migrations/', import.meta.url),
  ].map((url) => fileURLToPath(url));
  const dir = candidates.find((candidate) => fs.existsSync(candidate));
  if (!dir) throw new Error(`Braid's SQLite migrations are missing: looked in ${candidates.join(' and ')}.`);
  return dir;
}
