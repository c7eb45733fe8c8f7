import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MigrationFilesError } from '../../src/index.js';
import { findMigrationsDir, loadMigrationFiles } from '../../src/store/migrationFiles.js';

describe("Braid's migration files", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });
  const folder = (files: Record<string, string>) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'braid-migrations-'));
    dirs.push(dir);
    for (const [name, sql] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), sql);
    return dir;
  };

  it('are read in version order, other files passed over', () => {
    const dir = folder({ '0002_b.sql': 'B', '0001_a.sql': 'A', 'README.md': 'not a migration' });
    expect(loadMigrationFiles(dir, 'SQLite')).toEqual([
      { version: 1, name: '0001_a.sql', sql: 'A' },
      { version: 2, name: '0002_b.sql', sql: 'B' },
    ]);
  });

  it('two files with one version are a MigrationFilesError naming both', () => {
    const dir = folder({ '0001_a.sql': 'A', '0001_b.sql': 'B' });
    const error = (() => {
      try {
        loadMigrationFiles(dir, 'SQLite');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(MigrationFilesError);
    expect(error).toMatchObject({ code: 'migration_files', store: 'SQLite' });
    expect((error as Error).message).toMatch(/0001_a\.sql and 0001_b\.sql .* share version 1/);
    expect((error as Error).message).toMatch(/reinstall braid/);
  });

  it('a store whose folder is missing is a MigrationFilesError saying where it looked', () => {
    expect(() => findMigrationsDir('no-such-store', 'Nowhere')).toThrow(MigrationFilesError);
    expect(() => findMigrationsDir('no-such-store', 'Nowhere')).toThrow(
      /Nowhere migrations .* missing \(looked in .*no-such-store/,
    );
  });

  it('the shipped stores find theirs', () => {
    for (const store of ['sqlite', 'postgres']) {
      const dir = findMigrationsDir(store, store);
      expect(loadMigrationFiles(dir, store)[0]?.version).toBe(1);
    }
  });
});
