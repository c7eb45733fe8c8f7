/**
 * Real store faults during a run of 20 runs: another process holding SQLite's write lock for
 * seconds, and a full disk. Every run must finish without a restart, the event loop must stay free,
 * and the store must end up holding every result (the README's promise: runs resume from their
 * last committed state, here without restarting anything).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SqliteStore, type WorkflowExecutor, workflow } from '../../src/index.js';
import { deferred, useEngineFixture, waitUntil } from './helpers.js';

/** 20 runs whose one step waits for `gate`, then returns its input doubled. */
async function twentyWaitingRuns(executor: WorkflowExecutor, name: string) {
  const gate = deferred();
  let started = 0;
  const wf = workflow(name).step('work', async (ctx) => {
    started++;
    await gate.promise;
    return (ctx.input as number) * 2;
  });
  const handles = await Promise.all(Array.from({ length: 20 }, (_, i) => executor.start(wf, i)));
  await waitUntil(() => started === 20);
  return { gate, handles };
}

/** The longest gap between ticks of a 10 ms interval while `work` runs: how long the event loop was blocked. */
async function longestStall<T>(work: Promise<T>): Promise<{ value: T; stallMs: number }> {
  let last = performance.now();
  let stallMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    stallMs = Math.max(stallMs, now - last);
    last = now;
  }, 10);
  try {
    return { value: await work, stallMs };
  } finally {
    clearInterval(timer);
  }
}

describe('a store that fails for a while', () => {
  const fx = useEngineFixture();
  const quiet = () => vi.spyOn(console, 'error').mockImplementation(() => {});
  afterEach(() => vi.restoreAllMocks());

  it('another process holds the write lock for 6 s: commits wait without blocking, every run finishes', async () => {
    quiet();
    const file = fx.sqlitePath();
    const executor = fx.executor({ store: fx.sqliteStore(file), maxParallelNodes: 20 });
    const { gate, handles } = await twentyWaitingRuns(executor, 'busy-db');

    // A real second process takes SQLite's write lock and keeps it for 6 s.
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const Database = require('better-sqlite3');
         const db = new Database(process.argv[1]);
         db.exec('BEGIN IMMEDIATE');
         console.log('locked');
         setTimeout(() => { db.exec('COMMIT'); db.close(); }, 6000);`,
        file,
      ],
      { cwd: path.resolve(import.meta.dirname, '..', '..'), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    const t0 = Date.now();
    gate.resolve();
    const { value: results, stallMs } = await longestStall(Promise.all(handles.map((h) => h.result())));
    expect(results.map((r) => r.output)).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(5500); // they did wait for the lock
    expect(stallMs).toBeLessThan(500); // the busy timeout is short; the waiting is the queue's, asynchronous
    for (const h of handles) expect((await executor.store.getRun(h.runId))?.status).toBe('succeeded');
  });

  it('the disk fills up for half a second: commits are retried, every run finishes', async () => {
    quiet();
    const disk = smallDisk();
    const store = new SqliteStore({ path: path.join(disk.dir, 'braid.db') });
    const executor = fx.executor({ store, maxParallelNodes: 20 });
    try {
      const { gate, handles } = await twentyWaitingRuns(executor, 'full-disk');
      disk.fill();
      gate.resolve();
      // Commits fail with SQLITE_FULL meanwhile; the space comes back after half a second.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await Promise.race([handles[0]?.result(), new Promise((r) => setTimeout(() => r('waiting'), 10))])).toBe(
        'waiting',
      );
      disk.free();
      const results = await Promise.all(handles.map((h) => h.result()));
      expect(results.map((r) => r.output)).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
      for (const h of handles) expect((await store.getRun(h.runId))?.status).toBe('succeeded');
    } finally {
      disk.free();
      await executor.cleanup();
      await store.close();
      disk.remove();
    }
  });
});

/**
 * A directory on a real, small disk: a 4 MiB tmpfs mounted for the test (this suite runs as root,
 * as CI does). `fill` takes every free byte with a filler file, `free` deletes it.
 */
function smallDisk() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'braid-full-'));
  const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir], { encoding: 'utf8' });
  if (mount.status !== 0) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(
      `The full-disk test mounts a small tmpfs and needs root to do it (mount said: ${mount.stderr.trim() || mount.error}). ` +
        'Run the suite as root, as CI does.',
    );
  }
  const filler = path.join(dir, 'filler');
  return {
    dir,
    fill() {
      const fd = fs.openSync(filler, 'w');
      const chunk = Buffer.alloc(64 * 1024);
      try {
        for (;;) fs.writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      }
      // The last bytes, smaller than a chunk.
      try {
        for (;;) fs.writeSync(fd, Buffer.alloc(512));
      } catch {}
      fs.closeSync(fd);
    },
    free() {
      fs.rmSync(filler, { force: true });
    },
    remove() {
      spawnSync('umount', [dir]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
