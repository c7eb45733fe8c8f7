/**
 * A Braid worker process for the claim-order test (priority.postgres.test.ts), run as
 * `node priority.worker.js <config JSON>`: one step at a time (maxParallelNodes 1), so
 * it claims one run whenever it has a free slot. Each step start is recorded in a table.
 * priority.worker.js is this file compiled for the test run (test/support/compiled.ts).
 */
import pg from 'pg';
import type { PostgresWorkerConfig } from '../support/workerProcess.js';
import { runWorkerProcess, serveAsWorker } from '../support/workerProcess.js';
import { prioritised, STARTS_TABLE } from './priority.harness.js';

async function main(config: PostgresWorkerConfig): Promise<void> {
  const db = new pg.Pool({ connectionString: config.url, max: 2 });
  db.on('error', () => {});
  const wf = prioritised(async (runId, label) => {
    await db.query(`INSERT INTO ${STARTS_TABLE} (run_id, label, pid) VALUES ($1, $2, $3)`, [runId, label, process.pid]);
  });
  await serveAsWorker(config, 'braid-priority', { workflows: [wf], maxParallelNodes: 1 });
}

runWorkerProcess<PostgresWorkerConfig>(main);
