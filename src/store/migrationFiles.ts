import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MigrationFilesError } from '../model/errors.js';

/** One numbered schema change: `migrations/0001_init.sql` is version 1. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const MIGRATION_FILE = /^(\d+)_([\w-]+)\.sql$/;

/** Reads a SQL store's migration files, in version order. `label` names the store in errors. */
export function loadMigrationFiles(dir: string, label: string): Migration[] {
  const migrations: Migration[] = [];
  for (const file of fs.readdirSync(dir)) {
    const match = MIGRATION_FILE.exec(file);
    if (!match) continue;
    const version = Number(match[1]);
    const clash = migrations.find((m) => m.version === version);
    if (clash) throw new MigrationFilesError(label, `${clash.name} and ${file} in ${dir} share version ${version}`);
    migrations.push({ version, name: file, sql: fs.readFileSync(path.join(dir, file), 'utf8') });
  }
  return migrations.sort((a, b) => a.version - b.version);
}

/**
 * The `migrations/` folder of the store `store` (`sqlite`, `postgres`): beside its module when
 * running from src (tsx, vitest). tsc does not copy `.sql` files, so from dist/store/<store>/ it
 * falls back to the package's shipped src/store/<store>/migrations (listed in package.json "files").
 */
export function findMigrationsDir(store: string, label: string): string {
  const candidates = [
    new URL(`./${store}/migrations/`, import.meta.url),
    new URL(`../../src/store/${store}/migrations/`, import.meta.url),
  ].map((url) => fileURLToPath(url));
  const dir = candidates.find((candidate) => fs.existsSync(candidate));
  if (!dir) throw new MigrationFilesError(label, `they are missing (looked in ${candidates.join(' and ')})`);
  return dir;
}
