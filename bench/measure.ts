/**
 * Runs one workload on one store in this process and prints its figures as JSON on the last line.
 * `bench/run.ts` starts one of these per row, so a row's peak RSS and GC state are its own.
 *
 * On `postgres` each row gets a fresh database on the server BRAID_DATABASE_URL points at, else
 * on an embedded server started for this row (bench/postgres.ts). Two Postgres-only rows: `W6`
 * (worker processes, bench/w6.ts) and `baseline` (raw `pg` inserts, bench/baselines.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MemoryStore, PostgresStore, SqliteStore, type Store } from '../src/index.js';
import { postgresBatchInsertRate, postgresCommitRate } from './baselines.js';
import { type BenchDatabase, type BenchServer, benchServer } from './postgres.js';
import { pruneWhileW1 } from './prune.js';
import { rateLimitOverhead } from './rateLimitOverhead.js';
import { schedulesRegistered } from './schedules.js';
import { postgresServerCpu } from './serverCpu.js';
import { sqliteSleepProbe } from './sleepProbe.js';
import { w6 } from './w6.js';
import { eventLatencyPostgres } from './waitsPostgres.js';
import { benchExecutor, type Figures, w1, w1Cpu, w2, w3, w4, w5, w7, w8, w9 } from './workloads.js';

const [workload, storeName] = process.argv.slice(2);
/** The PostgreSQL server's CPU so far (ms), when it runs on this machine: for `W1 cpu`. */
let serverCpuMs: (() => number) | undefined;

const workloads: Record<string, (e: ReturnType<typeof benchExecutor>) => Promise<Figures>> = {
  W1: (e) => w1(e, 2000, 50),
  // Long enough that /proc's 10 ms ticks are a small part of the server's figure.
  'W1 cpu': (e) => w1Cpu(e, storeName === 'postgres' ? 10_000 : 20_000, 50, serverCpuMs),
  'W1 @50': (e) => w1(e, 2000, 50),
  'W2 1k': (e) => w2(e, 1000),
  'W2 5k': (e) => w2(e, 5000),
  'W2 100k': (e) => w2(e, 100_000),
  W3: (e) => w3(e, 300, 50),
  'W3 @50': (e) => w3(e, 300, 50),
  W4: (e) => w4(e, 200),
  'W5 500': (e) => w5(e, 500),
  'W5 2000': (e) => w5(e, 2000),
  'W7 keys': (e) => w7(e, 200_000, 50),
  'W8 sleep': (e) => w8(e, sqliteSleepProbe(path.join(scratch, 'bench.db')), 100_000, 1000),
  'W9 event': (e) => w9(e, 200, Number(process.env.W9_BG ?? 10_000)),
  prune: (e) => pruneWhileW1(e, e.store, Number(process.env.PRUNE_RUNS ?? 1_000_000)),
  'schedules 10k': (e) => schedulesRegistered(e, 10_000),
  // Long enough halves (~1 s each off PostgreSQL) that a GC pause or a neighbour's burst is not the figure.
  RL: (e) => rateLimitOverhead(e, storeName === 'postgres' ? 4000 : 20_000, 50),
};
/** Rows measured with `maxParallelNodes: 50` (as many slots as runs in flight) instead of the bench's 1,000. */
const fiftySlots = ['W1 @50', 'W3 @50'];
// Rows that read the SQLite file from outside the engine, or that are not repeated (long, or one-shot).
const sqliteOnly = ['W8 sleep', 'prune'];
const once = ['W2 100k', 'W7 keys', 'W8 sleep', 'W9 event', 'prune', 'schedules 10k'];
const postgresOnly = ['W6', 'W10 events', 'baseline'];
const stores = ['memory', 'sqlite', 'postgres'];
const isKnown = workload !== undefined && (workload in workloads || postgresOnly.includes(workload));
if (
  !isKnown ||
  !stores.includes(storeName ?? '') ||
  (postgresOnly.includes(workload) && storeName !== 'postgres') ||
  (sqliteOnly.includes(workload) && storeName !== 'sqlite')
) {
  console.error(
    `usage: measure.ts <${Object.keys(workloads).join('|')}> <${stores.join('|')}>, or measure.ts <W6|baseline> postgres`,
  );
  process.exit(2);
}

const scratch = mkdtempSync(path.join(os.tmpdir(), 'braid-measure-'));
let server: BenchServer | undefined;
let database: BenchDatabase | undefined;
let figures: Figures;
try {
  if (storeName === 'postgres') server = await benchServer();
  if (workload === 'W6') {
    figures = await w6({ newDatabase: () => (server as BenchServer).newDatabase() });
  } else if (workload === 'W10 events') {
    figures = await eventLatencyPostgres({ newDatabase: () => (server as BenchServer).newDatabase() });
  } else if (workload === 'baseline') {
    database = await (server as BenchServer).newDatabase();
    figures = {
      postgresRowsPerSecond1x8: await postgresCommitRate(database.url, 8, 4000),
      postgresRowsPerSecond100: await postgresBatchInsertRate(database.url, 100, 100_000),
    };
  } else {
    if (server) database = await server.newDatabase();
    if (database && workload === 'W1 cpu') serverCpuMs = await postgresServerCpu(database.url);
    const store: Store =
      storeName === 'memory'
        ? new MemoryStore()
        : storeName === 'sqlite'
          ? new SqliteStore({ path: path.join(scratch, 'bench.db') })
          : new PostgresStore({ connectionString: (database as BenchDatabase).url });
    figures = await measureWorkload(store, workloads[workload]!);
  }
} finally {
  await database?.drop();
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
}
console.log(JSON.stringify(figures));

async function measureWorkload(
  store: Store,
  run: (e: ReturnType<typeof benchExecutor>) => Promise<Figures>,
): Promise<Figures> {
  const executor = benchExecutor(store, fiftySlots.includes(workload as string) ? 50 : undefined);
  await executor.open();
  // Warm up the JIT and the store's prepared statements: the first few thousand runs of a fresh
  // process measured at half the steady rate (W1: ~10k runs/s cold, 20-28k warm). The fan-out path
  // warms more slowly: after one 500-child fan-out, the next three of 1,000 children on SQLite
  // still took 46-108 ms where later ones took 38-47 ms (the JIT compiling the spawn, join and
  // end-of-child code), so W2 gets three more before it is measured.
  // W4 (one run at a time) had no warm-up of its own: right after the others, its first 1,000-1,500
  // runs on the memory store took 22-40 µs each where later ones took 15.
  await w1(executor, 4000, 50);
  await w2(executor, 500);
  for (let i = 0; i < 3; i++) await w2(executor, 1000);
  await w3(executor, 200, 50);
  await w4(executor, 2000);
  // Short workloads are noisy on a 2-core machine: report the median of three repetitions.
  const repetitions = once.includes(workload as string) ? 1 : 3;
  const samples: Figures[] = [];
  for (let i = 0; i < repetitions; i++) samples.push(await run(executor));
  await executor.cleanup();
  await store.close();
  return median(samples);
}

/** The sample in the middle by its first figure (runs/s, ms or p50). */
function median(all: Figures[]): Figures {
  const key = Object.keys(all[0] as Figures)[0] as string;
  return [...all].sort((a, b) => (a[key] as number) - (b[key] as number))[Math.floor(all.length / 2)] as Figures;
}
