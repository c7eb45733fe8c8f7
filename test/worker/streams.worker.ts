/**
 * A Braid worker process for the SIGKILL test of step output streams (streams.crash.test.ts), run
 * as `node streams.worker.js <config JSON>`: a WorkflowExecutor on a PostgresStore
 * with short leases. It prints `ready <worker id>` once registered and runs until it is killed.
 * streams.worker.js is this file compiled for the test run (test/support/compiled.ts).
 */
import { runWorkerProcess, serveAsWorker } from '../support/workerProcess.js';
import { type StreamsWorkerConfig, streamer } from './streams.harness.js';

async function main(config: StreamsWorkerConfig): Promise<void> {
  await serveAsWorker(config, 'braid-streams-crash', { workflows: [streamer] });
}

runWorkerProcess<StreamsWorkerConfig>(main);
