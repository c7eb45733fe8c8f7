/**
 * `npm run bench [-- --store memory|sqlite|all] [--full]`: runs W1-W4 on each store, with raw
 * SQLite insert baselines measured in the same run, prints a table and writes bench/results.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sqliteInsertRate } from './baselines.js';
import type { Figures } from './workloads.js';

const measureScript = path.join(import.meta.dirname, 'measure.ts');

const { values: args } = parseArgs({
  options: {
    store: { type: 'string', default: 'all' },
    full: { type: 'boolean', default: false },
    out: { type: 'string', default: path.join(import.meta.dirname, 'results.json') },
  },
});
const storeNames = args.store === 'all' ? ['memory', 'sqlite'] : [args.store as string];
for (const name of storeNames) {
  if (name !== 'memory' && name !== 'sqlite') {
    console.error(`Unknown store "${name}": use memory, sqlite or all.`);
    process.exit(2);
  }
}

const scratch = mkdtempSync(path.join(os.tmpdir(), 'braid-bench-'));

interface Row {
  workload: string;
  store: string;
  figures: Figures;
}
const rows: Row[] = [];

/** Measures one row in a fresh process (`bench/measure.ts`), so peak RSS and GC are the row's own. */
function measure(workload: string, store: string): void {
  const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', measureScript, workload, store], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const last = child.stdout.trim().split('\n').pop() ?? '';
  if (child.status !== 0) throw new Error(`${workload} on ${store} failed (exit ${child.status})`);
  const figures = JSON.parse(last) as Figures;
  rows.push({ workload, store, figures });
  const shown = Object.entries(figures)
    .map(([k, v]) => `${k}=${v.toFixed(v < 10 ? 3 : 0)}`)
    .join(' ');
  console.log(`  ${workload.padEnd(12)} ${store.padEnd(7)} ${shown}`);
}

console.log('Baselines (raw better-sqlite3, WAL, synchronous=NORMAL)');
const baseline = {
  sqliteRowsPerSecond1: sqliteInsertRate(path.join(scratch, 'raw1.db'), 1, 20_000),
  sqliteRowsPerSecond100: sqliteInsertRate(path.join(scratch, 'raw100.db'), 100, 200_000),
};
console.log(`  1 row/txn:    ${baseline.sqliteRowsPerSecond1.toFixed(0)} rows/s`);
console.log(`  100 rows/txn: ${baseline.sqliteRowsPerSecond100.toFixed(0)} rows/s`);

console.log('\nWorkloads');
for (const store of storeNames) {
  for (const workload of ['W1', 'W2 1k', 'W2 5k', ...(args.full ? ['W2 100k'] : []), 'W3', 'W4']) {
    measure(workload, store);
  }
}

const targets: Record<string, string> = {
  W1: '>= 40,000 runs/s',
  'W2 1k': '<= 30 ms',
  'W2 5k': '<= 120 ms',
  'W2 100k': '<= 3 s, RSS <= 512 MB',
  W3: '>= 10,000 runs/s',
  W4: 'p50 <= 0.2 ms, p99 <= 1 ms',
};
console.log('\n| workload | store | result | target (SQLite) | vs raw SQLite |');
console.log('|---|---|---|---|---|');
for (const r of rows) {
  const f = r.figures;
  const result =
    f.runsPerSecond !== undefined
      ? `${f.runsPerSecond.toFixed(0)} runs/s`
      : f.ms !== undefined
        ? `${f.ms.toFixed(1)} ms, peak RSS ${f.peakRssMb?.toFixed(0)} MB`
        : `p50 ${f.p50Ms?.toFixed(3)} ms, p99 ${f.p99Ms?.toFixed(3)} ms`;
  const ratio =
    f.runsPerSecond !== undefined
      ? `${((f.runsPerSecond / baseline.sqliteRowsPerSecond100) * 100).toFixed(1)} % of batched rows/s`
      : '';
  console.log(`| ${r.workload} | ${r.store} | ${result} | ${targets[r.workload] ?? ''} | ${ratio} |`);
}

const results = {
  at: new Date().toISOString(),
  machine: {
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  },
  settings: {
    sqlite: 'WAL, synchronous=NORMAL (durable across process crashes; SIGKILL tests pass with it)',
    maxParallelNodes: 1000,
    inFlight: 50,
  },
  baseline,
  rows,
};
writeFileSync(args.out as string, `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nWrote ${args.out}`);
rmSync(scratch, { recursive: true, force: true });
