import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { StoreOpenError } from '../../model/errors.js';

export interface OpenedDatabaseFile {
  db: Database.Database;
  /** The file did not exist before: this open created it. */
  isNew: boolean;
}

/**
 * Opens (or creates, with its directory) a Braid SQLite file in WAL mode: readers (the API, the
 * dashboard) never block the engine's commits, and a commit is one sequential append to the log.
 * Statement journals and temporary tables stay in memory.
 * A path that cannot be used becomes a StoreOpenError naming it, never a raw SqliteError.
 */
export function openDatabaseFile(file: string, busyTimeoutMs: number): OpenedDatabaseFile {
  const isNew = !fs.existsSync(file);
  createDirectory(file, path.dirname(path.resolve(file)));
  let db: Database.Database;
  try {
    db = new Database(file, { timeout: busyTimeoutMs });
  } catch (error) {
    throw toOpenError(file, error);
  }
  try {
    // A new file gives the space of pruned runs back to the file system (incremental auto-vacuum).
    // The mode lives in the header, which the switch to WAL writes: set before, it costs nothing;
    // after, only a VACUUM changes it. An older file keeps its mode (see SqliteStore.vacuum).
    if (isNew) db.pragma('auto_vacuum = INCREMENTAL');
    // The first statement reads the file's header: a file that is not a database fails here.
    db.pragma('journal_mode = WAL');
    // better-sqlite3 builds SQLite with temporary files on disk. A multi-row INSERT or upsert inside
    // a commit keeps a statement journal (to undo that statement alone if a row fails), and past
    // 64 KiB it spills to a new temporary file: W1 created, wrote and deleted about one per commit
    // (100 for 6,000 runs), half of all its pwrite calls. In memory, W1 on SQLite measured 22 % less CPU per
    // run (bench/README.md). Nothing durable lives there: the WAL is what survives a crash.
    db.pragma(TEMP_STORE_MEMORY);
  } catch (error) {
    db.close();
    throw toOpenError(file, error);
  }
  return { db, isNew };
}

const TEMP_STORE_MEMORY = 'temp_store = MEMORY';

/**
 * Runs `work` with SQLite's temporary data in files, then back in memory: for work whose temporary
 * data grows with the database. VACUUM's copy of the whole file is a temporary database, and
 * CREATE INDEX sorts every row of its table. On an 82 MB file, peak RSS grew by 101 MB (VACUUM) and
 * 93 MB (an index on its one column) in memory, and by 33 and 21 MB with files. Not inside a
 * transaction: SQLite refuses to change temp_store there.
 */
export function withTemporariesOnDisk<T>(db: Database.Database, work: () => T): T {
  db.pragma('temp_store = FILE');
  try {
    return work();
  } finally {
    db.pragma(TEMP_STORE_MEMORY);
  }
}

/**
 * Creates `dir` and its missing parents, one level at a time. Not `mkdirSync(dir, { recursive })`:
 * under /proc, Linux answers ENOENT to a mkdir of a new name, which node's recursive mkdir takes
 * for a missing parent; the parent exists, so it retries forever at 100 % CPU (a path such as
 * /proc/nope/x.db hung `braid dev`). Here each level is tried once and its error is final.
 */
function createDirectory(file: string, dir: string): void {
  const missing: string[] = [];
  for (let d = dir; !fs.existsSync(d) && d !== path.dirname(d); d = path.dirname(d)) missing.unshift(d);
  for (const d of missing) {
    try {
      fs.mkdirSync(d);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue; // created by another process meanwhile
      throw new StoreOpenError(file, 'directory', (error as Error).message, { cause: error, directory: dir });
    }
  }
}

/** SQLite's answer for a file it cannot use, as the problem the user can fix; anything else as it is. */
export function toOpenError(file: string, error: unknown): unknown {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'SQLITE_NOTADB') return new StoreOpenError(file, 'not_a_database', message, { cause: error });
  if (code === 'SQLITE_CANTOPEN' || code === 'SQLITE_READONLY' || code === 'SQLITE_PERM') {
    return new StoreOpenError(file, 'cannot_open', `${message} (${code})`, { cause: error });
  }
  return error;
}
