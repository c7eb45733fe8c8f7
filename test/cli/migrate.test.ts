import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMigrations as loadPostgresMigrations } from '../../src/store/postgres/migrate.js';
import { loadMigrations as loadSqliteMigrations } from '../../src/store/sqlite/migrate.js';
import { createTestDatabase } from '../support/embeddedPostgres.js';
import { braid, tempDb, tempDir } from './harness.js';

/** `0001_init.sql, 0002_...`: every migration a fresh database gets. */
const names = (migrations: Array<{ name: string }>) => migrations.map((m) => m.name).join(', ');
const sqliteVersion = loadSqliteMigrations().at(-1)!.version;
const postgresVersion = loadPostgresMigrations().at(-1)!.version;

describe('braid migrate', () => {
  let database: { url: string; drop(): Promise<void> };

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('with no arguments creates .braid/braid.db and says so, with the migrations it applied', async () => {
    const cwd = tempDir();
    const first = await braid(['migrate'], { cwd });
    expect(first.code, first.stderr).toBe(0);
    const file = path.join(fs.realpathSync(cwd), '.braid', 'braid.db');
    expect(fs.existsSync(file)).toBe(true);
    expect(first.stdout.trim().split('\n')).toEqual([
      `Created the SQLite database ${file}.`,
      `Applied ${names(loadSqliteMigrations())}: the schema is at version ${sqliteVersion} (sqlite:.braid/braid.db).`,
    ]);

    const again = await braid(['migrate'], { cwd });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.trim()).toBe(
      `Schema is up to date at version ${sqliteVersion} (sqlite:.braid/braid.db): no migration to apply.`,
    );
  });

  it('--db migrates that file', async () => {
    const db = tempDb();
    const result = await braid(['migrate', '--db', db]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Created the SQLite database ${db}.`);
    expect(result.stdout).toContain(`(sqlite:${db}).`);
  });

  it('--database-url (or BRAID_DATABASE_URL) migrates that PostgreSQL database, never printing its password', async () => {
    const redacted = database.url.replace(/:[^:@/]+@/, ':***@');
    const byOption = await braid(['migrate', '--database-url', database.url]);
    expect(byOption.code, byOption.stderr).toBe(0);
    expect(byOption.stdout.trim()).toBe(
      `Applied ${names(loadPostgresMigrations())}: the schema is at version ${postgresVersion} (${redacted}).`,
    );

    const byEnv = await braid(['migrate'], { env: { BRAID_DATABASE_URL: database.url } });
    expect(byEnv.code, byEnv.stderr).toBe(0);
    expect(byEnv.stdout.trim()).toBe(
      `Schema is up to date at version ${postgresVersion} (${redacted}): no migration to apply.`,
    );
  });

  it('an unreachable database exits 1 and says what to check', async () => {
    const result = await braid(['migrate', '--database-url', 'postgres://braid:secret@127.0.0.1:1/app']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('postgres://braid:***@127.0.0.1:1/app');
    expect(result.stderr).toMatch(/BRAID_DATABASE_URL/);
    expect(result.stderr).not.toContain('secret');
  });
});
