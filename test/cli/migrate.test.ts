import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../support/embeddedPostgres.js';
import { braid, tempDb } from './harness.js';

describe('braid migrate', () => {
  let database: { url: string; drop(): Promise<void> };

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('migrates the SQLite file by default', async () => {
    const db = tempDb();
    const result = await braid(['migrate', '--db', db]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Schema is up to date (sqlite:${db}).`);
  });

  it('--database-url (or BRAID_DATABASE_URL) migrates that PostgreSQL database, never printing its password', async () => {
    const redacted = database.url.replace(/:[^:@/]+@/, ':***@');
    const byOption = await braid(['migrate', '--database-url', database.url]);
    expect(byOption.code, byOption.stderr).toBe(0);
    expect(byOption.stdout.trim()).toBe(`Schema is up to date (${redacted}).`);

    const byEnv = await braid(['migrate'], { env: { BRAID_DATABASE_URL: database.url } });
    expect(byEnv.code, byEnv.stderr).toBe(0);
    expect(byEnv.stdout.trim()).toBe(`Schema is up to date (${redacted}).`);
  });

  it('an unreachable database exits 1 and says what to check', async () => {
    const result = await braid(['migrate', '--database-url', 'postgres://braid:secret@127.0.0.1:1/app']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('postgres://braid:***@127.0.0.1:1/app');
    expect(result.stderr).toMatch(/BRAID_DATABASE_URL/);
    expect(result.stderr).not.toContain('secret');
  });
});
