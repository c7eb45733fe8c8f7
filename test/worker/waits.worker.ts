/**
 * A Braid worker process for the SIGKILL test of durable waits (waits.crash.test.ts), run as
 * `node waits.worker.js <config JSON>`: a WorkflowExecutor on a PostgresStore with
 * short leases. It prints `ready <worker id>` once registered and runs until it is killed.
 * waits.worker.js is this file compiled for the test run (test/support/compiled.ts).
 */
import pg from 'pg';
import { runWorkerProcess, serveAsWorker } from '../support/workerProcess.js';
import { EFFECTS_TABLE, type WaitsWorkerConfig, waitsWorkflows } from './waits.harness.js';

async function main(config: WaitsWorkerConfig): Promise<void> {
  const effects = new pg.Pool({ connectionString: config.url, max: 2 });
  effects.on('error', () => {});
  const { sleeper, waiter } = waitsWorkflows(async (runId, value) => {
    await effects.query(`INSERT INTO ${EFFECTS_TABLE} (run_id, pid, at, value) VALUES ($1, $2, $3, $4)`, [
      runId,
      process.pid,
      Date.now(),
      JSON.stringify(value),
    ]);
  });
  await serveAsWorker(config, 'braid-waits-crash', { workflows: [sleeper, waiter] });
}

runWorkerProcess<WaitsWorkerConfig>(main);
