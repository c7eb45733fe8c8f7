import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sqliteInsertRate } from '../bench/baselines.js';
import { benchExecutor, w1, w2, w3, w4 } from '../bench/workloads.js';
import { MemoryStore, SqliteStore, type Store } from '../src/index.js';

// The benchmark's workloads with tiny N, so `npm run bench` cannot rot. No timing is asserted:
// each workload checks its own results and throws when one is wrong.
const dir = mkdtempSync(path.join(tmpdir(), 'braid-bench-smoke-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const stores: Array<[string, () => Store]> = [
  ['memory', () => new MemoryStore()],
  ['sqlite', () => new SqliteStore({ path: path.join(dir, `${Math.random().toString(36).slice(2)}.db`) })],
];

describe.each(stores)('bench workloads on %s', (_name, makeStore) => {
  it('W1, W2, W3 and W4 run and check their results', async () => {
    const store = makeStore();
    const executor = benchExecutor(store);
    try {
      expect((await w1(executor, 40, 5)).runsPerSecond).toBeGreaterThan(0);
      expect((await w2(executor, 30)).ms).toBeGreaterThan(0);
      expect((await w3(executor, 20, 5)).runsPerSecond).toBeGreaterThan(0);
      const latency = await w4(executor, 10);
      expect(latency.p99Ms).toBeGreaterThanOrEqual(latency.p50Ms as number);
    } finally {
      await executor.cleanup();
      await store.close();
    }
  });
});

describe('bench runner', () => {
  it('measures one row in its own process and prints its figures as JSON', () => {
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', path.join(import.meta.dirname, '..', 'bench', 'measure.ts'), 'W4', 'memory'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(child.status, child.stderr).toBe(0);
    const figures = JSON.parse(child.stdout.trim().split('\n').pop() ?? '{}');
    expect(figures.p50Ms).toBeGreaterThan(0);
  });
});

describe('bench baselines', () => {
  it('measures raw SQLite inserts', () => {
    expect(sqliteInsertRate(path.join(dir, 'raw.db'), 10, 200)).toBeGreaterThan(0);
  });
});
