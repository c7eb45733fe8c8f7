import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

/**
 * Copies the WAL back into the database file on a worker thread, so that the engine's thread
 * never does.
 *
 * SQLite's automatic checkpoint runs inside the commit that crosses its threshold: that commit
 * copies every page of the WAL into the database and syncs it. At Braid's 10,000-page threshold
 * that was a 28-45 ms commit every ~250 commits, 14 % of W1's time on SQLite and a quarter of W4's
 * (sequential runs) wall time (bench/README.md). Here the main connection's automatic checkpoint is
 * raised to a fallback bound, and a second connection on a worker thread checkpoints in PASSIVE
 * mode (it takes no lock a writer needs, so commits go on meanwhile) every `chunkFrames` new
 * frames. A PASSIVE checkpoint on another thread can never let the WAL start over, though: SQLite
 * rewinds it only when a write transaction begins with every frame already copied, and by the time
 * the worker finishes the engine has appended more. So once the WAL is past `restartFrames`, the
 * next commit first runs one PASSIVE checkpoint itself, which copies only the frames written since
 * the worker's, and the write after it rewinds the WAL.
 *
 * Nothing durable depends on it: a checkpoint cut short by a crash is redone from the WAL on the
 * next open, as with SQLite's own.
 */
export interface WalCheckpointerOptions {
  /** New WAL frames (pages) that start a checkpoint on the worker. */
  chunkFrames: number;
  /**
   * WAL frames past which the next commit finishes the checkpoint so the WAL starts over. It is
   * also SQLite's automatic threshold whenever the worker is not there (not started, or failed).
   */
  restartFrames: number;
}

/**
 * 500 pages of 4 KiB (2 MB) per worker checkpoint; the WAL starts over at ~40 MB, as before the
 * worker. Smaller chunks measured the better tail for sequential runs (W4 on SQLite, 10,000 runs:
 * p99.9 2.6-3.0 ms at 500 frames, 3.3-5.0 at 1,000, 8.4-8.6 at 10,000; 31-36 ms with SQLite's own
 * checkpoint), each a short copy and two syncs rather than one long one.
 */
export const DEFAULT_CHECKPOINTER_OPTIONS: WalCheckpointerOptions = { chunkFrames: 500, restartFrames: 10_000 };

/** While the worker checkpoints, SQLite's own automatic checkpoint is only a bound, far past restartFrames. */
const FALLBACK_FACTOR = 4;

/** The worker: one connection, one PASSIVE checkpoint per message, its counts posted back. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
parentPort.on('message', () => {
  const [result] = db.pragma('wal_checkpoint(PASSIVE)');
  parentPort.postMessage(result);
});
`;

interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

/** What the checkpointer has done: the tests' and the bench's view of it. */
export interface CheckpointerStats {
  /** Checkpoints the worker ran. */
  workerCheckpoints: number;
  /** Checkpoints run on the store's thread to let the WAL start over. */
  restartCheckpoints: number;
  /** Frames those restart checkpoints found in the WAL (most already copied by the worker). */
  restartFrames: number;
  /** Why the worker stopped, if it failed (checkpoints are then SQLite's own again). */
  workerError?: string;
}

/** Where the wal-index header keeps mxFrame, the WAL's valid frame count (sqlite.org/walformat.html). */
const MX_FRAME_OFFSET = 16;

export class WalCheckpointer {
  private worker: Worker | undefined;
  private shm: number | undefined;
  private readonly header = Buffer.alloc(4);
  private inFlight = false;
  /** mxFrame when the worker was last asked to checkpoint. */
  private askedAt = 0;
  private restartDue = false;
  private failed = false;
  private readonly stats: CheckpointerStats = { workerCheckpoints: 0, restartCheckpoints: 0, restartFrames: 0 };

  constructor(
    private readonly file: string,
    private readonly db: Database.Database,
    private readonly options: WalCheckpointerOptions = DEFAULT_CHECKPOINTER_OPTIONS,
  ) {
    db.pragma(`wal_autocheckpoint = ${options.restartFrames * FALLBACK_FACTOR}`);
  }

  /** Called after each commit, outside its transaction. */
  afterCommit(): void {
    if (this.failed) return;
    if (this.restartDue && !this.inFlight) {
      this.restartDue = false;
      const [result] = this.db.pragma('wal_checkpoint(PASSIVE)') as CheckpointResult[];
      this.stats.restartCheckpoints++;
      this.stats.restartFrames += result?.log ?? 0;
      this.askedAt = 0;
      return;
    }
    const frames = this.walFrames();
    if (frames === undefined) {
      this.giveUp();
      return;
    }
    if (frames < this.askedAt) this.askedAt = 0; // the WAL started over
    if (this.inFlight || frames - this.askedAt < this.options.chunkFrames) return;
    this.askedAt = frames;
    this.inFlight = true;
    this.startWorker().postMessage(null);
  }

  getStats(): CheckpointerStats {
    return { ...this.stats };
  }

  async close(): Promise<void> {
    this.failed = true;
    if (this.shm !== undefined) fs.closeSync(this.shm);
    this.shm = undefined;
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private startWorker(): Worker {
    if (this.worker) return this.worker;
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    // execArgv: none of the process's own flags. A worker inherits them, and `--input-type=module`
    // (node -e with an ES module) made this CommonJS source fail to load.
    const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], workerData: { driver, file: this.file } });
    worker.on('message', (result: CheckpointResult) => {
      this.inFlight = false;
      this.stats.workerCheckpoints++;
      if (result.log >= this.options.restartFrames) this.restartDue = true;
    });
    worker.on('error', (error) => {
      this.stats.workerError = error instanceof Error ? error.message : String(error);
      this.giveUp();
    });
    worker.on('exit', () => {
      if (this.worker === worker) this.giveUp();
    });
    // A worker with nothing to do must not hold the process open; close() ends it. After the
    // listeners: adding a 'message' listener refs the worker's port again.
    worker.unref();
    this.worker = worker;
    return worker;
  }

  /**
   * The worker is gone (it failed to load the driver, or died), or the WAL's frame count cannot be
   * read: checkpoints go back to SQLite's automatic ones inside commits, as without a checkpointer.
   */
  private giveUp(): void {
    if (this.failed) return;
    this.failed = true;
    const worker = this.worker;
    this.worker = undefined;
    void worker?.terminate();
    try {
      this.db.pragma(`wal_autocheckpoint = ${this.options.restartFrames}`);
    } catch {
      // the store is closing: nothing left to checkpoint for
    }
  }

  /** mxFrame from the wal-index (the -shm file SQLite maps), or undefined where it cannot be read. */
  private walFrames(): number | undefined {
    try {
      this.shm ??= fs.openSync(`${this.file}-shm`, 'r');
      if (fs.readSync(this.shm, this.header, 0, 4, MX_FRAME_OFFSET) !== 4) return undefined;
    } catch {
      return undefined;
    }
    return os.endianness() === 'LE' ? this.header.readUInt32LE(0) : this.header.readUInt32BE(0);
  }
}
