import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotASqliteDatabaseError, SqliteCannotOpenError } from '../../src/model/errors.js';
import { SqliteStore } from '../../src/store/sqlite/sqliteStore.js';

describe('SqliteStore.open on a path that is not a usable database', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'braid-sqlite-open-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a file that is not a SQLite database is a NotASqliteDatabaseError naming it, and the file is untouched', async () => {
    const file = path.join(dir, 'notes.txt');
    const text = 'These are my notes, not a database. '.repeat(10);
    fs.writeFileSync(file, text);
    const error = await new SqliteStore({ path: file }).open().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotASqliteDatabaseError);
    expect(error).toMatchObject({ code: 'not_a_sqlite_database', path: file });
    expect((error as Error).message).toContain(`The file ${file} is not a SQLite database`);
    expect((error as Error).cause).toMatchObject({ code: 'SQLITE_NOTADB' });
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
  });

  it('a directory is a SqliteCannotOpenError naming it', async () => {
    const error = await new SqliteStore({ path: dir }).open().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SqliteCannotOpenError);
    expect(error).toMatchObject({ code: 'sqlite_cannot_open', path: dir });
    expect((error as Error).message).toContain(dir);
  });
});
