import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { pruneStore } from '../../src/index.js';
import { SqliteStore } from '../../src/store/sqlite/sqliteStore.js';
import { emptyBatch } from '../../src/store/types.js';
import { makeRun } from './conformance.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tempPath(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'braid-space-'));
  dirs.push(dir);
  return path.join(dir, 'braid.db');
}

/** The file's size once its WAL is folded in: what the database holds on disk. */
function checkpointedSize(file: string): number {
  const db = new Database(file);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return fs.statSync(file).size;
}

async function fill(store: SqliteStore, runs: number): Promise<void> {
  const big = JSON.stringify({ blob: 'x'.repeat(4000) });
  const batch = emptyBatch();
  for (let i = 0; i < runs; i++) {
    batch.newRuns.push(makeRun({ id: `r${i}`, status: 'succeeded', input: big, finishedAt: 1 }));
  }
  await store.commit(batch);
}

describe('SQLite space after pruning', () => {
  it('a new file is in incremental auto-vacuum mode and shrinks when its runs are pruned', async () => {
    const file = tempPath();
    const store = new SqliteStore({ path: file });
    await store.open();
    await fill(store, 2000);
    const full = checkpointedSize(file);
    expect(full).toBeGreaterThan(8_000_000);
    expect((await pruneStore(store, { batchSize: 1000 })).runs).toBe(2000);
    await store.close();
    expect(checkpointedSize(file)).toBeLessThan(full / 4);
    const db = new Database(file, { readonly: true });
    expect(db.pragma('auto_vacuum', { simple: true })).toBe(2);
    db.close();
  });

  it('an older file (no auto-vacuum) keeps its size but reuses the space, until vacuum() converts it', async () => {
    const file = tempPath();
    const store = new SqliteStore({ path: file });
    await store.open();
    await store.close();
    const raw = new Database(file);
    raw.pragma('auto_vacuum = NONE');
    raw.exec('VACUUM');
    raw.close();
    await store.open();
    await fill(store, 2000);
    const full = checkpointedSize(file);
    await pruneStore(store, {});
    expect(checkpointedSize(file)).toBe(full);
    await store.vacuum();
    await store.close();
    expect(checkpointedSize(file)).toBeLessThan(full / 4);
  });
});
