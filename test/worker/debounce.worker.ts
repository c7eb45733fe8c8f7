/**
 * A Braid worker process for the debounce test (debounce.postgres.test.ts), run as
 * `node debounce.worker.js <config JSON>`: it runs the debounced workflow and records
 * each step run in a table.
 * debounce.worker.js is this file compiled for the test run (test/support/compiled.ts).
 */
import pg from 'pg';
import { type PostgresWorkerConfig, runWorkerProcess, serveAsWorker } from '../support/workerProcess.js';
import { draftSaver, RAN_TABLE } from './debounce.harness.js';

async function main(config: PostgresWorkerConfig): Promise<void> {
  const db = new pg.Pool({ connectionString: config.url, max: 2 });
  db.on('error', () => {});
  const wf = draftSaver(async (runId, draft) => {
    await db.query(`INSERT INTO ${RAN_TABLE} (run_id, key, text, pid) VALUES ($1, $2, $3, $4)`, [
      runId,
      draft.key,
      draft.text,
      process.pid,
    ]);
  });
  await serveAsWorker(config, 'braid-debounce', { workflows: [wf] });
}

runWorkerProcess<PostgresWorkerConfig>(main);
