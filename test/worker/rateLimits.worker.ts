/**
 * A Braid worker process for the rate limit test across workers (rateLimits.postgres.test.ts), run
 * as `node rateLimits.worker.js <config JSON>`. It prints `ready <worker id>` once
 * registered and runs until it is killed.
 * rateLimits.worker.js is this file compiled for the test run (test/support/compiled.ts).
 */
import { type PostgresWorkerConfig, runWorkerProcess, serveAsWorker } from '../support/workerProcess.js';
import { limitedCall, warmUp } from './rateLimits.harness.js';

async function main(config: PostgresWorkerConfig): Promise<void> {
  await serveAsWorker(config, 'braid-rate-limits', { workflows: [limitedCall, warmUp] });
}

runWorkerProcess<PostgresWorkerConfig>(main);
