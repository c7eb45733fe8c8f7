/**
 * W6: W1-shaped load (single-step runs, a closed loop of callers) spread over 1, 2 and 4 worker
 * processes sharing one PostgreSQL database. The runs are triggered from this process, which does
 * not run steps (`worker: false`): each run is claimed by a worker (FOR UPDATE SKIP LOCKED) and
 * its result comes back through LISTEN/NOTIFY. Reports runs/s per worker count and the speed-up
 * over one worker.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { PostgresStore, WorkflowExecutor } from '../src/index.js';
import type { BenchDatabase } from './postgres.js';
import { benchWorkflows, type Figures, w1 } from './workloads.js';

const workerScript = path.join(import.meta.dirname, 'w6Worker.ts');

export interface W6Options {
  /** A fresh database for each worker count. */
  newDatabase(): Promise<BenchDatabase>;
  workerCounts?: readonly number[];
  /** Runs measured per worker, per repetition (default 1,000). */
  runsPerWorker?: number;
  /** Callers in flight per worker (W1 keeps 50 in flight on its one process). */
  inFlightPerWorker?: number;
  /** Runs before measuring, per worker: JIT, prepared statements, connection pools. */
  warmUpPerWorker?: number;
  repetitions?: number;
}

export async function w6(options: W6Options): Promise<Figures> {
  const counts = options.workerCounts ?? [1, 2, 4];
  const figures: Figures = {};
  for (const count of counts) {
    const database = await options.newDatabase();
    const workers: ChildProcess[] = [];
    const store = new PostgresStore({ connectionString: database.url });
    const trigger = new WorkflowExecutor({ store, worker: false, workflows: benchWorkflows, historySize: 1 });
    try {
      // The trigger process migrates the database first, so workers do not queue on the migration lock.
      await trigger.open();
      for (let i = 0; i < count; i++) workers.push(await startWorker(database.url));
      const total = (options.runsPerWorker ?? 1000) * count;
      const inFlight = (options.inFlightPerWorker ?? 50) * count;
      await w1(trigger, (options.warmUpPerWorker ?? 500) * count, inFlight);
      const samples: number[] = [];
      for (let r = 0; r < (options.repetitions ?? 3); r++) {
        samples.push((await w1(trigger, total, inFlight)).runsPerSecond as number);
      }
      samples.sort((a, b) => a - b);
      figures[`workers${count}RunsPerSecond`] = samples[Math.floor(samples.length / 2)] as number;
    } finally {
      await trigger.cleanup();
      await store.close();
      await Promise.all(workers.map(stopWorker));
      await database.drop();
    }
  }
  const one = figures.workers1RunsPerSecond;
  if (one !== undefined) {
    for (const count of counts) {
      if (count !== 1) figures[`speedup${count}`] = (figures[`workers${count}RunsPerSecond`] as number) / one;
    }
  }
  return figures;
}

/** Starts a worker process and resolves once it has registered. */
function startWorker(url: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', workerScript, url], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NonNullable<typeof child.stdout> });
    lines.once('line', (line) => {
      if (line === 'ready') resolve(child);
      else reject(new Error(`W6 worker said "${line}" instead of "ready"`));
    });
    child.once('exit', (code) => reject(new Error(`W6 worker exited with ${code} before it was ready`)));
  });
}

function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.stdin?.end();
  });
}
