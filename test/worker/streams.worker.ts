/**
 * A Braid worker process for the SIGKILL test of step output streams (streams.crash.test.ts), run
 * as `node --import tsx streams.worker.ts <config JSON>`: a WorkflowExecutor on a PostgresStore
 * with short leases. It prints `ready <worker id>` once registered and runs until it is killed.
 */
import { PostgresStore, WorkflowExecutor } from '../../src/index.js';
import { logToStderr, runWorkerProcess, untilGo } from '../support/workerProcess.js';
import { type StreamsWorkerConfig, streamer } from './streams.harness.js';

async function main(config: StreamsWorkerConfig): Promise<void> {
  const executor = new WorkflowExecutor({
    store: new PostgresStore({ connectionString: config.url, poolSize: 4, applicationName: 'braid-streams-crash' }),
    workflows: [streamer],
    worker: {
      leaseMs: config.leaseMs,
      heartbeatMs: config.heartbeatMs,
      pollMs: config.pollMs,
      log: logToStderr,
    },
  });
  if (config.standby) {
    await untilGo();
  }
  await executor.open();
  process.stdout.write(`ready ${executor.workerId}\n`);
}

runWorkerProcess<StreamsWorkerConfig>(main);
