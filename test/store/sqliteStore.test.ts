import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreVersionError } from '../../src/model/errors.js';
import { loadMigrations } from '../../src/store/sqlite/migrate.js';
import { SqliteStore } from '../../src/store/sqlite/sqliteStore.js';
import { type EventRecord, emptyBatch, type RunRecord } from '../../src/store/types.js';
import { describeStoreConformance } from './conformance.js';

describeStoreConformance('SqliteStore', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'braid-sqlite-'));
  return {
    store: new SqliteStore({ path: path.join(dir, 'braid.db') }),
    cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
});

describe('SqliteStore on disk', () => {
  let dir: string;
  let dbPath: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'braid-sqlite-'));
    dbPath = path.join(dir, 'braid.db');
  });

  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const run: RunRecord = {
    id: 'kept',
    workflow: 'wf',
    version: '1',
    status: 'running',
    input: '{}',
    output: null,
    error: null,
    globals: '{"g":1}',
    idempotencyKey: 'idem',
    parentRunId: null,
    parentStep: null,
    spawnKey: null,
    rootRunId: 'kept',
    concurrencyKey: null,
    replayOf: null,
    createdAt: 1,
    startedAt: 2,
    finishedAt: null,
    deadlineAt: 3,
    checkpointSeq: 0,
    wakeAt: null,
    pausedAt: null,
    priority: 0,
  };

  it('keeps data across close and reopen', async () => {
    const store = new SqliteStore({ path: dbPath });
    await store.open();
    const events: EventRecord[] = [
      { runId: 'kept', step: null, type: 'run_started', at: 2, attempt: null, data: null },
    ];
    await store.commit({
      ...emptyBatch(),
      newRuns: [run],
      steps: [
        {
          runId: 'kept',
          name: 'a',
          status: 'succeeded',
          attempts: 1,
          output: '1',
          error: null,
          startedAt: 2,
          finishedAt: 3,
          nextAttemptAt: null,
          route: null,
          cacheHit: true,
          fallbackUsed: false,
        },
      ],
      events,
      cache: [{ key: 'c', output: '"x"', createdAt: 1, expiresAt: null }],
    });
    await store.close();

    const reopened = new SqliteStore({ path: dbPath, synchronous: 'full' });
    await reopened.open();
    expect(await reopened.getRun('kept')).toEqual(run);
    expect(await reopened.findRunByIdempotencyKey('idem')).toEqual(run);
    expect((await reopened.getSteps('kept'))[0]?.cacheHit).toBe(true);
    expect(await reopened.listEvents({ runId: 'kept' })).toEqual(events);
    expect(await reopened.getCache('c', 5)).toEqual({ key: 'c', output: '"x"', createdAt: 1, expiresAt: null });
    expect(await reopened.listUnfinishedRuns()).toEqual([run]);

    // Seqs keep increasing after a reopen.
    const next: EventRecord[] = [{ runId: 'kept', step: null, type: 'run_paused', at: 3, attempt: null, data: null }];
    await reopened.commit({ ...emptyBatch(), events: next });
    expect(next[0]!.seq).toBeGreaterThan(events[0]!.seq!);
    await reopened.close();
  });

  it('records each migration once and does not re-apply it', async () => {
    const known = loadMigrations().map((m) => m.version);
    expect(known[0]).toBe(1);
    for (let i = 0; i < 3; i++) {
      const store = new SqliteStore({ path: dbPath });
      await store.open();
      await store.close();
    }
    const db = new Database(dbPath, { readonly: true });
    try {
      const rows = db.prepare('SELECT version, name FROM braid_migrations ORDER BY version').all();
      expect(rows).toEqual(loadMigrations().map((m) => ({ version: m.version, name: m.name })));
    } finally {
      db.close();
    }
  });

  it('refuses a database migrated by a newer Braid', async () => {
    const store = new SqliteStore({ path: dbPath });
    await store.open();
    await store.close();
    const db = new Database(dbPath);
    db.prepare('INSERT INTO braid_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(9999, 'future', 0);
    db.close();

    const error = await new SqliteStore({ path: dbPath }).open().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreVersionError);
    expect(error).toMatchObject({ code: 'store_version', found: 9999 });
  });

  it('creates the parent directory of the database file', async () => {
    const nested = path.join(dir, 'a', 'b', 'braid.db');
    const store = new SqliteStore({ path: nested });
    expect(store.description).toBe(`sqlite:${nested}`);
    await store.open();
    await store.open();
    expect(fs.existsSync(nested)).toBe(true);
    await store.close();
  });

  it('uses WAL journal mode', async () => {
    const store = new SqliteStore({ path: dbPath });
    await store.open();
    await store.close();
    const db = new Database(dbPath);
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
    }
  });

  it('says to open the store when it is used before open()', async () => {
    await expect(new SqliteStore({ path: dbPath }).getRun('x')).rejects.toThrow(/open\(\)/);
  });
});
