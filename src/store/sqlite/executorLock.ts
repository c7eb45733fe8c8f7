import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { StoreLockedError } from '../../model/errors.js';

/**
 * One executor runs a SQLite file at a time: two would both recover (and so re-run) each other's
 * running steps, and one holding stale state would rewrite runs the other had finished.
 *
 * The lock is SQLite's own: a connection to a side database (`<db>-executor.lock`, empty) that
 * holds a write transaction (BEGIN IMMEDIATE, busy timeout 0) for as long as the executor runs.
 * Taking it is one atomic step in the kernel (an fcntl lock on Unix, LockFileEx on Windows), and the
 * kernel drops it when the process ends however it ends (SIGKILL included, and before the process
 * is reaped, so a zombie owner does not count as alive). Two connections of one process also
 * exclude each other: SQLite tracks its locks per file within a process.
 *
 * Rejected: a lock file created with O_EXCL and deleted when its pid is dead (what this replaced):
 * telling "stale" from "just taken" and deleting it are two steps, and two starters racing after a
 * crash both won in 33 of 40 trials; a zombie's pid also still answers kill(pid, 0). A native
 * flock() binding: a second native dependency for what the SQLite build we ship already does.
 * `locking_mode = EXCLUSIVE` on the database itself: it would lock out the readers (API, CLI).
 *
 * The side file is never deleted: deleting a lock file that another process may have open lets a
 * third process lock a new file of the same name while the second still holds the old one.
 * `<db>.lock` is only a note for people and error messages (the holder's pid), written after the
 * lock is taken and removed before it is let go; nothing decides on its content.
 * Like every SQLite lock, this one is not reliable on network file systems (NFS, SMB).
 */
export class ExecutorLock {
  private readonly token = randomUUID();
  private readonly lockDatabasePath: string;
  private readonly notePath: string;
  private connection: Database.Database | undefined;

  /** `databaseFile`: the store's file, absolute; `shownAs`: how messages name it. */
  constructor(
    databaseFile: string,
    private readonly shownAs: string,
  ) {
    this.lockDatabasePath = `${databaseFile}-executor.lock`;
    this.notePath = `${databaseFile}.lock`;
  }

  acquire(): void {
    if (this.connection) return;
    const connection = new Database(this.lockDatabasePath, { timeout: 0 });
    try {
      connection.exec('BEGIN IMMEDIATE');
    } catch (error) {
      connection.close();
      if ((error as { code?: unknown }).code === 'SQLITE_BUSY') {
        throw new StoreLockedError(this.shownAs, livePidInNote(this.notePath));
      }
      throw error;
    }
    this.connection = connection;
    // Written to a temporary name and renamed, so a reader never sees half a note.
    const temporary = `${this.notePath}.${this.token}`;
    fs.writeFileSync(temporary, `${process.pid} ${this.token}\n`);
    fs.renameSync(temporary, this.notePath);
  }

  release(): void {
    const connection = this.connection;
    if (!connection) return;
    this.connection = undefined;
    // While still holding the lock: no other process can have written its own note yet.
    if (readOrEmpty(this.notePath).includes(this.token)) fs.rmSync(this.notePath, { force: true });
    connection.close();
  }
}

/** The pid in the note, when that process is alive; the note may name a dead owner or none. */
function livePidInNote(notePath: string): number | undefined {
  const pid = Number(readOrEmpty(notePath).split(' ')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

function readOrEmpty(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
