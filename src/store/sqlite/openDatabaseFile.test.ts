import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BraidError, StoreOpenError } from '../../model/errors.js';
import { openDatabaseFile, withTemporariesOnDisk } from './openDatabaseFile.js';
import { SqliteStore } from './sqliteStore.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'braid-open-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** What `open()` rejects with. (A path under /proc is pinned in a subprocess: it used to hang the process.) */
async function openError(file: string): Promise<StoreOpenError> {
  const store = new SqliteStore({ path: file });
  const error = await store.open().then(
    () => undefined,
    (e: unknown) => e,
  );
  await store.close();
  expect(error).toBeInstanceOf(StoreOpenError);
  expect(error).toBeInstanceOf(BraidError);
  return error as StoreOpenError;
}

describe('SqliteStore.open on a path it cannot use', () => {
  it('a directory that cannot be created: names the path and the directory', async () => {
    const file = path.join(dir, 'plain.txt');
    fs.writeFileSync(file, 'not a directory');
    const error = await openError(path.join(file, 'sub', 'braid.db'));
    expect(error).toMatchObject({ code: 'store_open', problem: 'directory', path: path.join(file, 'sub', 'braid.db') });
    expect(error.message).toContain(`Cannot create the directory ${path.join(file, 'sub')}`);
    expect(error.message).toContain('ENOTDIR');
  });

  it('a file that is not a SQLite database: left as it was', async () => {
    const file = path.join(dir, 'notes.md');
    fs.writeFileSync(file, '# Notes\n\nNothing to see here, but more than a header of text.\n'.repeat(20));
    const before = fs.readFileSync(file);
    const error = await openError(file);
    expect(error).toMatchObject({ problem: 'not_a_database' });
    expect(error.message).toContain(`${file} is not a SQLite database`);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });

  it('a directory where the file should be', async () => {
    const error = await openError(dir);
    expect(error).toMatchObject({ problem: 'cannot_open' });
    expect(error.message).toContain(`Cannot open the SQLite database ${dir}`);
  });

  it('creates the missing directories of a new file', async () => {
    const file = path.join(dir, 'a', 'b', 'braid.db');
    const store = new SqliteStore({ path: file });
    await store.open();
    await store.close();
    expect(fs.existsSync(file)).toBe(true);
  });
});

describe('openDatabaseFile', () => {
  it('keeps temporary data in memory (temp_store = MEMORY)', () => {
    // Behind the pragma: a commit's multi-row statements spilled their statement journals to new
    // temporary files, about one created and deleted per commit (W1 on SQLite: 22 % of its CPU per run).
    const { db } = openDatabaseFile(path.join(dir, 'temp-store.db'), 50);
    try {
      expect(db.pragma('temp_store', { simple: true })).toBe(2); // MEMORY
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
    }
  });

  it('withTemporariesOnDisk: files while the work runs (a VACUUM copies the whole file), memory again after', () => {
    const { db } = openDatabaseFile(path.join(dir, 'temp-files.db'), 50);
    try {
      expect(withTemporariesOnDisk(db, () => db.pragma('temp_store', { simple: true }))).toBe(1); // FILE
      expect(db.pragma('temp_store', { simple: true })).toBe(2);
      expect(() =>
        withTemporariesOnDisk(db, () => {
          throw new Error('the work failed');
        }),
      ).toThrow('the work failed');
      expect(db.pragma('temp_store', { simple: true })).toBe(2);
    } finally {
      db.close();
    }
  });
});
