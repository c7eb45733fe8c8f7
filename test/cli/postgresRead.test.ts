/** `braid runs` and `braid show` reading PostgreSQL directly, when no server answers. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore, WorkflowExecutor } from '../../src/index.js';
import { createTestDatabase } from '../support/embeddedPostgres.js';
import { greet } from './fixtures/workflows.js';
import { braid, closedPort, isListening, parseJson, tempDb, tempDir } from './harness.js';

let db: { url: string; drop(): Promise<void> };
let runId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  const store = new PostgresStore({ connectionString: db.url });
  const executor = new WorkflowExecutor({ store, workflows: [greet] });
  try {
    runId = (await executor.execute(greet, { name: 'pg' })).runId;
  } finally {
    await executor.cleanup();
    await store.close();
  }
});

afterAll(async () => {
  await db?.drop();
});

describe('braid runs and show on PostgreSQL', () => {
  it('--database-url reads that database, whatever the SQLite file holds', async () => {
    const cwd = tempDir();
    // A SQLite file here, migrated and empty: it must not be what answers.
    expect((await braid(['migrate'], { cwd })).code).toBe(0);
    const [runs, show, table] = await Promise.all([
      braid(['runs', '--json', '--database-url', db.url], { cwd }),
      braid(['show', runId, '--json', '--database-url', db.url], { cwd }),
      braid(['runs', '--database-url', db.url], { cwd }),
    ]);
    expect(runs.code, runs.stderr).toBe(0);
    expect(parseJson(runs).runs.map((r: { id: string }) => r.id)).toEqual([runId]);
    expect(show.code, show.stderr).toBe(0);
    expect(parseJson(show).run).toMatchObject({ id: runId, status: 'succeeded', output: 'hello PG' });
    expect(parseJson(show).steps.map((s: { name: string }) => s.name)).toEqual(['shout', 'say']);
    expect(table.stdout).toContain(runId);
    expect(table.stdout).not.toContain('No runs match');
  });

  it('BRAID_DATABASE_URL is read when no server answers at the default URL', async () => {
    // Only meaningful when nothing serves the default URL on this machine (it would answer first).
    if (await isListening(7777)) return;
    const cwd = tempDir();
    // The local SQLite file exists (and has no runs): it was read instead ("No runs match.").
    expect((await braid(['migrate', '--db', '.braid/braid.db'], { cwd })).code).toBe(0);
    const env = { BRAID_DATABASE_URL: db.url };
    const [runs, show] = await Promise.all([
      braid(['runs', '--json'], { cwd, env }),
      braid(['show', runId], { cwd, env }),
    ]);
    expect(runs.code, runs.stderr).toBe(0);
    expect(parseJson(runs).runs.map((r: { id: string }) => r.id)).toEqual([runId]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain('"hello PG"');
  });

  it('a server at --url still comes first; --db and --database-url together are refused', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const [viaServer, both] = await Promise.all([
      braid(['runs', '--url', url], { env: { BRAID_DATABASE_URL: db.url } }),
      braid(['runs', '--db', tempDb(), '--database-url', db.url]),
    ]);
    expect(viaServer.code).toBe(3);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--db and --database-url');
  });

  it('an unreachable database exits 1 naming it without its password; an empty one says to migrate', async () => {
    const empty = await createTestDatabase();
    try {
      const [unreachable, unmigrated] = await Promise.all([
        braid(['runs', '--database-url', 'postgres://braid:hunter2@127.0.0.1:1/braid']),
        braid(['runs', '--database-url', empty.url]),
      ]);
      expect(unreachable.code).toBe(1);
      expect(unreachable.stderr).toContain('postgres://braid:***@127.0.0.1:1/braid');
      expect(unreachable.stderr).not.toContain('hunter2');
      expect(unmigrated.code).toBe(1);
      expect(unmigrated.stderr).toContain('braid migrate');
    } finally {
      await empty.drop();
    }
  });
});
