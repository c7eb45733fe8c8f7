import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { postgresBatchInsertRate, postgresCommitRate, sqliteInsertRate } from '../bench/baselines.js';
import { pruneWhileW1 } from '../bench/prune.js';
import { schedulesRegistered } from '../bench/schedules.js';
import { postgresServerCpu } from '../bench/serverCpu.js';
import { sqliteSleepProbe } from '../bench/sleepProbe.js';
import { w6 } from '../bench/w6.js';
import { benchExecutor, w1, w1Cpu, w2, w3, w4, w5, w7, w8 } from '../bench/workloads.js';
import { MemoryStore, PostgresStore, SqliteStore, type Store } from '../src/index.js';
import { nodeArgs } from './support/compiled.js';
import { createTestDatabase } from './support/embeddedPostgres.js';

// The benchmark's workloads with tiny N, so `npm run bench` cannot rot. No timing is asserted:
// each workload checks its own results and throws when one is wrong.
const dir = mkdtempSync(path.join(tmpdir(), 'braid-bench-smoke-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const databases: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const drop of databases) await drop();
});

/** Runs a bench script in its own process (compiled, as `npm run bench` does) and returns what it printed. */
function runBenchScript(script: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  const child = spawnSync(
    process.execPath,
    [...nodeArgs(path.join(import.meta.dirname, '..', 'bench', script)), ...args],
    {
      encoding: 'utf8',
      timeout: 60_000,
      env,
    },
  );
  expect(child.status, child.stderr).toBe(0);
  return child.stdout;
}

const stores: Array<[string, () => Promise<Store>]> = [
  ['memory', async () => new MemoryStore()],
  ['sqlite', async () => new SqliteStore({ path: path.join(dir, `${Math.random().toString(36).slice(2)}.db`) })],
  [
    'postgres',
    async () => {
      const database = await createTestDatabase();
      databases.push(database.drop);
      return new PostgresStore({ connectionString: database.url });
    },
  ],
];

describe.each(stores)('bench workloads on %s', (_name, makeStore) => {
  it('W1, W2, W3 and W4 run and check their results', async () => {
    const store = await makeStore();
    const executor = benchExecutor(store);
    try {
      expect((await w1(executor, 40, 5)).runsPerSecond).toBeGreaterThan(0);
      expect((await w2(executor, 30)).ms).toBeGreaterThan(0);
      expect((await w3(executor, 20, 5)).runsPerSecond).toBeGreaterThan(0);
      const latency = await w4(executor, 10);
      expect(latency.p99Ms).toBeGreaterThanOrEqual(latency.p50Ms as number);
      expect((await w5(executor, 20)).msPerStep).toBeGreaterThan(0);
      expect((await w7(executor, 40, 5)).heapMbAt100pct).toBeGreaterThan(0);
      expect((await schedulesRegistered(executor, 50)).timersAfter).toBeDefined();
    } finally {
      await executor.cleanup();
      await store.close();
    }
  });

  it('W1 with its CPU per run, and W1 and W3 with 50 slots', async () => {
    const store = await makeStore();
    const executor = benchExecutor(store, 50);
    try {
      // The server's CPU is read from /proc through the store's own database (PostgreSQL only).
      const url = store instanceof PostgresStore ? store.connectionString : undefined;
      const serverCpuMs = url === undefined ? undefined : await postgresServerCpu(url);
      if (url !== undefined) expect(serverCpuMs, 'the test server runs on this machine').toBeDefined();
      const figures = await w1Cpu(executor, 40, 5, serverCpuMs);
      expect(figures.runsPerSecond).toBeGreaterThan(0);
      expect(figures.workerUsPerRun).toBeGreaterThan(0);
      if (url !== undefined) {
        expect(figures.serverUsPerRun).toBeGreaterThanOrEqual(0);
        expect(figures.projected16CoreRunsPerSecond).toBeGreaterThan(0);
      } else expect(figures.serverUsPerRun).toBeUndefined();
      expect((await w3(executor, 20, 5)).runsPerSecond).toBeGreaterThan(0);
    } finally {
      await executor.cleanup();
      await store.close();
    }
  });
});

describe('W8 (runs asleep at once on SQLite)', () => {
  it('puts every run to sleep in the store, wakes each after its deadline, and reports the lateness', async () => {
    const file = path.join(dir, 'w8.db');
    const store = new SqliteStore({ path: file });
    const executor = benchExecutor(store);
    await executor.open();
    const probe = sqliteSleepProbe(file);
    try {
      const figures = await w8(executor, probe, 60, 10);
      expect(figures.asleepInStore).toBe(60);
      expect(figures.residentWhileAsleep).toBe(0);
      expect(figures.p99LatenessMs).toBeGreaterThanOrEqual(figures.p50LatenessMs as number);
      expect(figures.cpuUsPerWakeUp).toBeGreaterThan(0);
      expect(figures.peakWakingRssMb).toBeGreaterThan(0);
    } finally {
      probe.close();
      await executor.cleanup();
      await store.close();
    }
  }, 60_000);
});

describe('W6 (worker processes on PostgreSQL)', () => {
  it('runs W1-shaped load on 1 and 2 worker processes, triggered from a process with no worker', async () => {
    const figures = await w6({
      newDatabase: async () => {
        const database = await createTestDatabase();
        databases.push(database.drop);
        return { url: database.url, drop: async () => {} };
      },
      workerCounts: [1, 2],
      runsPerWorker: 20,
      inFlightPerWorker: 5,
      warmUpPerWorker: 5,
      repetitions: 1,
    });
    expect(figures.workers1RunsPerSecond).toBeGreaterThan(0);
    expect(figures.workers2RunsPerSecond).toBeGreaterThan(0);
    expect(figures.speedup2).toBeGreaterThan(0);
  }, 60_000);
});

describe('bench runner', () => {
  it('measures one row in its own process and prints its figures as JSON', () => {
    const stdout = runBenchScript('measure.ts', ['W4', 'memory']);
    const figures = JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
    expect(figures.p50Ms).toBeGreaterThan(0);
  });

  it('measures the storage floor of a wake-up (bench/wakeFloor.ts), checking every row it wrote', () => {
    const stdout = runBenchScript('wakeFloor.ts', ['300', '50']);
    expect(stdout).toMatch(/^sql: [\d.]+ µs CPU per wake-up/m);
    expect(stdout).toMatch(/^store: [\d.]+ µs CPU per wake-up/m);
  });

  it("measures W1's storage floor (bench/w1Floor.ts): the engine's batches replayed, checked row for row", () => {
    const stdout = runBenchScript('w1Floor.ts', ['400', '20']);
    expect(stdout).toMatch(/^W1 through the engine: [\d.]+ µs CPU per run/m);
    expect(stdout).toMatch(/^the store alone, replaying its \d+ commits .*: [\d.]+ µs CPU per run/m);
  });

  it('measures a Postgres row on a fresh database of the server BRAID_DATABASE_URL names', () => {
    const stdout = runBenchScript('measure.ts', ['baseline', 'postgres'], {
      ...process.env,
      BRAID_DATABASE_URL: inject('postgresAdminUrl'),
    });
    const figures = JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
    expect(figures.postgresRowsPerSecond100).toBeGreaterThan(0);
  }, 60_000);

  it('times a PostgreSQL workload statement by statement (bench/pgStatements.ts)', () => {
    const stdout = runBenchScript('pgStatements.ts', ['W4', '20', '1'], {
      ...process.env,
      BRAID_DATABASE_URL: inject('postgresAdminUrl'),
    });
    expect(stdout).toMatch(/^W4 n=20: \{"p50Ms":/m);
    // Each W4 run is two commits: creation, then the step and the end.
    const commits = [...stdout.matchAll(/^\s+(\d+) calls .* braid_commit_batch_\d+$/gm)].map((m) => Number(m[1]));
    expect(commits.reduce((a, b) => a + b, 0)).toBe(40);
  }, 60_000);
});

describe('bench prune row', () => {
  it('prunes seeded finished runs while W1 runs, and reports W1 alone and meanwhile', async () => {
    const store = new SqliteStore({ path: path.join(dir, 'prune.db') });
    const executor = benchExecutor(store);
    try {
      await executor.open();
      const figures = await pruneWhileW1(executor, store, 3000);
      expect(figures.finishedRuns).toBe(3000);
      expect(figures.w1AloneRunsPerSecond).toBeGreaterThan(0);
      expect(figures.w1CostPct).toBeTypeOf('number');
    } finally {
      await executor.cleanup();
      await store.close();
    }
  }, 120_000);
});

describe('bench baselines', () => {
  it('measures raw SQLite inserts', () => {
    expect(sqliteInsertRate(path.join(dir, 'raw.db'), 10, 200)).toBeGreaterThan(0);
  });

  it('measures raw PostgreSQL commits and batched inserts', async () => {
    const database = await createTestDatabase();
    databases.push(database.drop);
    expect(await postgresCommitRate(database.url, 8, 80)).toBeGreaterThan(0);
    expect(await postgresBatchInsertRate(database.url, 100, 300)).toBeGreaterThan(0);
  });
});
