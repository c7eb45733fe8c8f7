/**
 * Runs one workload on one store in this process and prints its figures as JSON on the last line.
 * `bench/run.ts` starts one of these per row, so a row's peak RSS and GC state are its own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MemoryStore, SqliteStore, type Store } from '../src/index.js';
import { benchExecutor, type Figures, w1, w2, w3, w4 } from './workloads.js';

const [workload, storeName] = process.argv.slice(2);
const scratch = mkdtempSync(path.join(os.tmpdir(), 'braid-measure-'));
const store: Store =
  storeName === 'memory' ? new MemoryStore() : new SqliteStore({ path: path.join(scratch, 'bench.db') });

const workloads: Record<string, (e: ReturnType<typeof benchExecutor>) => Promise<Figures>> = {
  W1: (e) => w1(e, 2000, 50),
  'W2 1k': (e) => w2(e, 1000),
  'W2 5k': (e) => w2(e, 5000),
  'W2 100k': (e) => w2(e, 100_000),
  W3: (e) => w3(e, 300, 50),
  W4: (e) => w4(e, 200),
};
const run = workloads[workload ?? ''];
if (!run || (storeName !== 'memory' && storeName !== 'sqlite')) {
  console.error(`usage: measure.ts <${Object.keys(workloads).join('|')}> <memory|sqlite>`);
  process.exit(2);
}

const executor = benchExecutor(store);
await executor.open();
// Warm up the JIT and the store's prepared statements before measuring.
await w1(executor, 500, 50);
const figures = await run(executor);
await executor.cleanup();
await store.close();
rmSync(scratch, { recursive: true, force: true });
console.log(JSON.stringify(figures));
