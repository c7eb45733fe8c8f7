/**
 * W1's storage floor: what the SQLite store spends on a one-step run's writes, with no engine code.
 *
 *   npx tsx bench/w1Floor.ts [runs=40000] [inFlight=50]
 *
 * Runs W1 through the engine on a fresh file twice: once to measure it, once recording every
 * WriteBatch the engine hands the store (a structured clone taken before the store sees it, so the
 * recording costs the engine, not the replay). Then it replays the recorded batches, in order,
 * through a fresh SqliteStore's commit(): the same rows, the same statements, the same transactions,
 * with nothing else running. Prints CPU µs per run (process.cpuUsage, all threads) for W1 through
 * the engine and for the replay, the commits and rows per run, and the runs per CPU-second the
 * replay alone allows: no engine on this store, on one thread, can run W1 faster than that.
 *
 * The replayed file is checked against the engine's: the same runs, all succeeded, the same steps
 * and events. A figure is never bought with a wrong answer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore } from '../src/store/sqlite/sqliteStore.js';
import type { WriteBatch } from '../src/store/types.js';
import { cpuUs } from './cpu.js';
import { benchExecutor, w1, w1Cpu } from './workloads.js';

const total = Number(process.argv[2] ?? 40_000);
const inFlight = Number(process.argv[3] ?? 50);

interface Recording {
  batches: WriteBatch[];
  engineUsPerRun: number;
}

/** Warms up, measures W1 through the engine, then runs it again recording its batches. */
async function recordW1(file: string): Promise<Recording> {
  const store = new SqliteStore({ path: file });
  const executor = benchExecutor(store);
  await executor.open();
  try {
    await w1(executor, Math.min(total, 4000), inFlight);
    const engineUsPerRun = (await w1Cpu(executor, total, inFlight)).workerUsPerRun as number; // always set
    const batches: WriteBatch[] = [];
    const commit = store.commit.bind(store);
    store.commit = (batch) => {
      batches.push(structuredClone(batch));
      return commit(batch);
    };
    await w1(executor, total, inFlight);
    store.commit = commit;
    return { batches, engineUsPerRun };
  } finally {
    await executor.cleanup();
  }
}

/** The recorded batches through a fresh store's commit(), one after another as the engine sent them. */
async function replay(file: string, batches: readonly WriteBatch[]): Promise<number> {
  const store = new SqliteStore({ path: file });
  await store.open();
  try {
    const before = cpuUs();
    for (const batch of batches) await store.commit(batch);
    return cpuUs() - before;
  } finally {
    await store.close();
  }
}

interface Counts {
  runs: number;
  succeeded: number;
  steps: number;
  events: number;
}

function countRows(file: string, runIds: readonly string[]): Counts {
  const db = new Database(file, { readonly: true });
  try {
    const ids = JSON.stringify(runIds);
    const count = (sql: string) => (db.prepare(sql).get(ids) as { n: number }).n;
    const recorded = 'IN (SELECT value FROM json_each(?))';
    return {
      runs: count(`SELECT count(*) AS n FROM runs WHERE id ${recorded}`),
      succeeded: count(`SELECT count(*) AS n FROM runs WHERE id ${recorded} AND status = 'succeeded'`),
      steps: count(`SELECT count(*) AS n FROM steps WHERE run_id ${recorded}`),
      events: count(`SELECT count(*) AS n FROM events WHERE run_id ${recorded}`),
    };
  } finally {
    db.close();
  }
}

const scratch = mkdtempSync(path.join(os.tmpdir(), 'braid-w1-floor-'));
try {
  const engineFile = path.join(scratch, 'engine.db');
  const { batches, engineUsPerRun } = await recordW1(engineFile);
  const runIds = batches.flatMap((b) => b.newRuns.map((r) => r.id));
  const rows = batches.reduce(
    (n, b) => n + b.newRuns.length + b.runUpdates.length + b.steps.length + b.events.length,
    0,
  );
  const replayFile = path.join(scratch, 'replay.db');
  const replayUs = await replay(replayFile, batches);

  const expected = countRows(engineFile, runIds);
  const replayed = countRows(replayFile, runIds);
  if (
    runIds.length !== total ||
    expected.succeeded !== total ||
    JSON.stringify(expected) !== JSON.stringify(replayed)
  ) {
    throw new Error(
      `W1 floor check failed: ${runIds.length} runs recorded for ${total}; ` +
        `engine file ${JSON.stringify(expected)}, replayed file ${JSON.stringify(replayed)}`,
    );
  }
  const floorUsPerRun = replayUs / total;
  console.log(
    `W1 through the engine: ${engineUsPerRun.toFixed(1)} µs CPU per run (${Math.round(1e6 / engineUsPerRun)} runs per CPU-second)`,
  );
  console.log(
    `the store alone, replaying its ${batches.length} commits (${(batches.length / total).toFixed(3)} per run, ` +
      `${(rows / total).toFixed(1)} rows per run): ${floorUsPerRun.toFixed(1)} µs CPU per run ` +
      `(${Math.round(1e6 / floorUsPerRun)} runs per CPU-second), ${((100 * floorUsPerRun) / engineUsPerRun).toFixed(0)} % of W1's`,
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
