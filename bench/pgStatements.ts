/**
 * Where a PostgreSQL workload's time goes, statement by statement, as the worker sees it:
 * `npx tsx bench/pgStatements.ts <W1|W2|W3|W4> [n] [repetitions]`. It warms up (W1, three
 * 1,000-child fan-outs, 500 sequential runs: shorter than `measure.ts`'s), then runs the workload
 * `repetitions` times (default 2) with every `pool.query` of the store timed from call to reply,
 * grouped by the statement's name (the store names the hot ones), and prints per repetition: the
 * workload's figure, then each statement's calls, total and longest time, and rows. Time is wall
 * time seen by the client: the server's work, the round trip and the wait for the WAL flush of an
 * autocommitted statement. Statements sent inside an explicit transaction (`inTransaction`: a
 * commit that carries waits or an inbox, schedules, pruning) go through a checked-out client and
 * are not seen; W1-W4's commits and claims are single autocommitted statements.
 *
 * Like the bench rows, it uses the server BRAID_DATABASE_URL names, or else an embedded one.
 */
import pg from 'pg';
import { PostgresStore } from '../src/index.js';
import { benchServer } from './postgres.js';
import { benchExecutor, type Figures, w1, w2, w3, w4 } from './workloads.js';

interface StatementTime {
  calls: number;
  ms: number;
  maxMs: number;
  rows: number;
}

type Query = (this: pg.Pool, config: unknown, values?: unknown) => unknown;

const [workload = 'W2', nArg, repetitionsArg] = process.argv.slice(2);
const runs: Record<string, (e: ReturnType<typeof benchExecutor>, n: number) => Promise<Figures>> = {
  W1: (e, n) => w1(e, n, 50),
  W2: (e, n) => w2(e, n),
  W3: (e, n) => w3(e, n, 50),
  W4: (e, n) => w4(e, n),
};
const defaultN: Record<string, number> = { W1: 5000, W2: 5000, W3: 1000, W4: 1000 };
const run = runs[workload];
if (!run) {
  console.error(`usage: pgStatements.ts <${Object.keys(runs).join('|')}> [n] [repetitions]`);
  process.exit(2);
}
const n = Number(nArg ?? defaultN[workload]);
const repetitions = Number(repetitionsArg ?? 2);

const times = new Map<string, StatementTime>();
let timing = false;
const query = pg.Pool.prototype.query as unknown as Query;
(pg.Pool.prototype as unknown as { query: Query }).query = function timedQuery(config, values) {
  const reply = query.call(this, config, values);
  if (!timing || !(reply instanceof Promise)) return reply;
  const name = statementName(config);
  const sent = performance.now();
  reply.then(
    (result: { rowCount?: number | null }) => {
      const ms = performance.now() - sent;
      const t = times.get(name) ?? { calls: 0, ms: 0, maxMs: 0, rows: 0 };
      t.calls++;
      t.ms += ms;
      t.maxMs = Math.max(t.maxMs, ms);
      t.rows += result?.rowCount ?? 0;
      times.set(name, t);
    },
    () => {},
  );
  return reply;
};

/** A named statement by its name; any other by the start of its text. */
function statementName(config: unknown): string {
  if (typeof config === 'string') return config.replace(/\s+/g, ' ').slice(0, 60);
  const { name, text } = config as { name?: string; text?: string };
  return name ?? String(text).replace(/\s+/g, ' ').slice(0, 60);
}

const server = await benchServer();
const database = await server.newDatabase();
const store = new PostgresStore({ connectionString: database.url });
const executor = benchExecutor(store);
try {
  await executor.open();
  await w1(executor, 2000, 50);
  for (let i = 0; i < 3; i++) await w2(executor, 1000);
  await w4(executor, 500);
  for (let i = 0; i < repetitions; i++) {
    times.clear();
    timing = true;
    const figures = await run(executor, n);
    timing = false;
    console.log(`${workload} n=${n}: ${JSON.stringify(figures)}`);
    for (const [name, t] of [...times].sort((a, b) => b[1].ms - a[1].ms)) {
      console.log(
        `  ${String(t.calls).padStart(6)} calls ${t.ms.toFixed(1).padStart(9)} ms (longest ${t.maxMs.toFixed(1)}) ${String(t.rows).padStart(7)} rows  ${name}`,
      );
    }
  }
} finally {
  await executor.cleanup();
  await store.close();
  await database.drop();
  await server.stop();
}
