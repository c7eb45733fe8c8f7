import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/store/postgres/postgresStore.js';
import { SqliteStore } from '../../src/store/sqlite/sqliteStore.js';
import type { Store } from '../../src/store/store.js';
import { emptyBatch, type RunRecord, type RunStatus } from '../../src/store/types.js';
import { makeRun } from '../store/conformance.js';
import { createTestDatabase } from '../support/embeddedPostgres.js';
import { braid, parseJson, tempDb } from './harness.js';

const DAY = 86_400_000;

/** Finished roots, each with one child, finished `daysAgo` days ago; and one running root. */
async function seed(store: Store, rows: Array<{ id: string; status: RunStatus; daysAgo: number; workflow?: string }>) {
  const now = Date.now();
  const runs: RunRecord[] = [];
  for (const r of rows) {
    const at = now - r.daysAgo * DAY;
    const ended = r.status !== 'running';
    const base = { workflow: r.workflow ?? 'report', createdAt: at, startedAt: at, finishedAt: ended ? at : null };
    runs.push(makeRun({ ...base, id: r.id, status: r.status, rootRunId: r.id }));
    runs.push(
      makeRun({
        ...base,
        id: `${r.id}.child`,
        status: ended ? 'succeeded' : 'running',
        rootRunId: r.id,
        parentRunId: r.id,
        parentStep: 'fan',
        spawnKey: 'k',
        finishedAt: at,
      }),
    );
  }
  await store.commit({ ...emptyBatch(), newRuns: runs });
}

async function sqliteWith(rows: Parameters<typeof seed>[1]): Promise<string> {
  const db = tempDb();
  const store = new SqliteStore({ path: db });
  await store.open();
  await seed(store, rows);
  await store.close();
  return db;
}

function runIds(db: string): string[] {
  const conn = new Database(db, { readonly: true });
  try {
    return conn.prepare('SELECT id FROM runs ORDER BY id').pluck().all() as string[];
  } finally {
    conn.close();
  }
}

const ROWS = [
  { id: 'old-ok', status: 'succeeded' as const, daysAgo: 40 },
  { id: 'old-failed', status: 'timed_out' as const, daysAgo: 40 },
  { id: 'old-other', status: 'succeeded' as const, daysAgo: 40, workflow: 'other' },
  { id: 'new-ok', status: 'succeeded' as const, daysAgo: 1 },
  { id: 'running', status: 'running' as const, daysAgo: 90 },
];

describe('braid prune (SQLite)', () => {
  it('--dry-run counts and deletes nothing; then prunes finished trees older than --older-than', async () => {
    const db = await sqliteWith(ROWS);
    const before = runIds(db);
    const dry = await braid(['prune', '--db', db, '--older-than', '30d', '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(parseJson(dry)).toMatchObject({ dryRun: true, roots: 3, runs: 6, batches: 0 });
    expect(runIds(db)).toEqual(before);

    const text = await braid(['prune', '--db', db, '--older-than', '30d', '--dry-run']);
    expect(text.stdout).toContain('Would delete 6 runs (3 run trees)');
    expect(text.stdout).toContain('Nothing was deleted');

    const real = await braid(['prune', '--db', db, '--older-than', '30d', '--workflow', 'report', '--batch-size', '1']);
    expect(real.code, real.stderr).toBe(0);
    expect(real.stdout).toContain('Deleted 4 runs (2 run trees)');
    expect(runIds(db)).toEqual(['new-ok', 'new-ok.child', 'old-other', 'old-other.child', 'running', 'running.child']);

    const failedOnly = await braid(['prune', '--db', db, '--status', 'failed', '--json']);
    expect(parseJson(failedOnly)).toMatchObject({ roots: 0 });
    const all = await braid(['prune', '--db', db, '--json']);
    expect(parseJson(all)).toMatchObject({ roots: 2, runs: 4 });
    expect(runIds(db)).toEqual(['running', 'running.child']);
  });

  it('refuses bad options naming them (exit 2), and a missing file', async () => {
    const db = await sqliteWith(ROWS);
    for (const [args, named] of [
      [['--older-than', '-5d'], '--older-than'],
      [['--older-than', 'soon'], '--older-than'],
      [['--status', 'timed_out'], '--status'],
      [['--batch-size', '0'], '--batch-size'],
    ] as const) {
      const result = await braid(['prune', '--db', db, ...args]);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain(named);
    }
    expect(runIds(db)).toHaveLength(10);
    const missing = await braid(['prune', '--db', `${db}.nope`]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('There is no database');
  });

  it('--vacuum turns a file made before incremental vacuum into one that gives space back', async () => {
    const db = await sqliteWith(ROWS);
    // A file from before this version: no auto-vacuum.
    const conn = new Database(db);
    conn.pragma('auto_vacuum = NONE');
    conn.exec('VACUUM');
    expect(conn.pragma('auto_vacuum', { simple: true })).toBe(0);
    conn.close();
    const result = await braid(['prune', '--db', db, '--older-than', '30d', '--vacuum']);
    expect(result.code, result.stderr).toBe(0);
    const after = new Database(db, { readonly: true });
    expect(after.pragma('auto_vacuum', { simple: true })).toBe(2);
    after.close();
  });
});

describe('braid prune (PostgreSQL)', () => {
  let database: { url: string; drop(): Promise<void> };

  beforeAll(async () => {
    database = await createTestDatabase();
    const store = new PostgresStore({ connectionString: database.url });
    await store.open();
    await seed(store, ROWS);
    await store.close();
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('--database-url prunes that database; --vacuum is refused there', async () => {
    const vacuum = await braid(['prune', '--database-url', database.url, '--vacuum']);
    expect(vacuum.code).toBe(2);
    expect(vacuum.stderr).toContain('autovacuum');
    const result = await braid(['prune', '--database-url', database.url, '--older-than', '30d', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(parseJson(result)).toMatchObject({ dryRun: false, roots: 3, runs: 6 });
  });
});
