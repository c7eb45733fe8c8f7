import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabaseFile } from './openDatabaseFile.js';
import { WalCheckpointer } from './walCheckpointer.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'braid-checkpointer-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const OPTIONS = { chunkFrames: 40, restartFrames: 200 };

/** mxFrame from the wal-index header, as SQLite keeps it (sqlite.org/walformat.html). */
function walFrames(file: string): number {
  const header = fs.readFileSync(`${file}-shm`).subarray(0, 48);
  return os.endianness() === 'LE' ? header.readUInt32LE(16) : header.readUInt32BE(16);
}

function openTable(name: string): { file: string; db: Database.Database } {
  const file = path.join(dir, name);
  const { db } = openDatabaseFile(file, 1000);
  db.exec('CREATE TABLE rows (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  return { file, db };
}

/** Commits of 10 rows of 1 KB (3-4 new pages each), each followed by afterCommit, as SqliteStore does. */
async function writeCommits(db: Database.Database, checkpointer: WalCheckpointer, commits: number): Promise<void> {
  const insert = db.prepare('INSERT INTO rows (body) VALUES (?)');
  const commit = db.transaction(() => {
    for (let i = 0; i < 10; i++) insert.run('x'.repeat(1000));
  });
  for (let i = 0; i < commits; i++) {
    commit();
    checkpointer.afterCommit();
    // Let the worker's answer in, as the engine's event loop would between commits.
    if (i % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Waits (up to 10 s) for the worker's answer: its thread starts and loads the driver first. */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('the checkpointer never answered');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('WalCheckpointer', () => {
  it("raises SQLite's own automatic checkpoint to a fallback bound while the worker copies", async () => {
    const { file, db } = openTable('bound.db');
    const checkpointer = new WalCheckpointer(file, db, OPTIONS);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(800);
    await checkpointer.close();
    db.close();
  });

  it('copies the WAL on its worker and lets it start over, the store thread copying only the tail', async () => {
    const { file, db } = openTable('load.db');
    const checkpointer = new WalCheckpointer(file, db, OPTIONS);
    // The worker's thread takes ~100 ms to start; measure once it is there.
    await writeCommits(db, checkpointer, 20);
    await until(() => checkpointer.getStats().workerCheckpoints > 0);
    let maxFrames = 0;
    const insert = db.prepare('INSERT INTO rows (body) VALUES (?)');
    const commit = db.transaction(() => {
      for (let i = 0; i < 10; i++) insert.run('x'.repeat(1000));
    });
    for (let i = 0; i < 3000; i++) {
      commit();
      checkpointer.afterCommit();
      maxFrames = Math.max(maxFrames, walFrames(file));
      if (i % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const stats = checkpointer.getStats();
    await checkpointer.close();

    expect(stats.workerError).toBeUndefined();
    expect(stats.workerCheckpoints).toBeGreaterThan(10);
    expect(stats.restartCheckpoints).toBeGreaterThan(3);
    // The WAL started over again and again: without the restarts it would hold every frame of the
    // 3,000 commits (over 9,000), and SQLite's own checkpoint would only act at 800.
    expect(maxFrames).toBeLessThan(800);
    // Nothing lost, nothing damaged.
    expect(db.prepare('SELECT count(*) AS n FROM rows').get()).toEqual({ n: 30_200 });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });

  it('after close, commits go on with no worker and SQLite checkpointing as before', async () => {
    const { file, db } = openTable('closed.db');
    const checkpointer = new WalCheckpointer(file, db, OPTIONS);
    await writeCommits(db, checkpointer, 100);
    await until(() => checkpointer.getStats().workerCheckpoints > 0);
    const before = checkpointer.getStats();
    await checkpointer.close();
    await writeCommits(db, checkpointer, 100);
    expect(before.workerCheckpoints).toBeGreaterThan(0);
    expect(checkpointer.getStats()).toEqual(before);
    db.close();
  });

  it('a store left open does not keep the process alive once the worker has run', () => {
    const file = path.join(dir, 'left-open.db');
    const script = `
      const { SqliteStore } = await import(${JSON.stringify(new URL('./sqliteStore.ts', import.meta.url).href)});
      const store = new SqliteStore({ path: ${JSON.stringify(file)} });
      await store.open();
      const run = (i) => ({ id: 'r' + i, workflow: 'w', version: '1', status: 'succeeded', input: 'x'.repeat(2000), output: null,
        error: null, globals: '{}', idempotencyKey: null, parentRunId: null, parentStep: null, spawnKey: null, rootRunId: 'r' + i,
        concurrencyKey: null, replayOf: null, createdAt: i, startedAt: null, finishedAt: null, deadlineAt: null, checkpointSeq: 0,
        wakeAt: null, pausedAt: null, priority: 0 });
      for (let c = 0; c < 150; c++) {
        await store.commit({ newRuns: Array.from({ length: 20 }, (_, i) => run(c * 20 + i)), runUpdates: [], steps: [], events: [], cache: [] });
      }
      const checkpointer = store.opened.checkpointer;
      while (checkpointer.getStats().workerCheckpoints === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      console.log(JSON.stringify(checkpointer.getStats()));
    `;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    const stats = JSON.parse(out.trim().split('\n').pop() as string);
    expect(stats.workerCheckpoints).toBeGreaterThan(0);
  });
});
