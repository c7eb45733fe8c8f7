/**
 * A Braid worker process for the SIGKILL test of durable waits (waits.crash.test.ts), run as
 * `node --import tsx waits.worker.ts <config JSON>`: a WorkflowExecutor on a PostgresStore with
 * short leases. It prints `ready <worker id>` once registered and runs until it is killed.
 */
import pg from 'pg';
import { PostgresStore, WorkflowExecutor } from '../../src/index.js';
import { logToStderr, runWorkerProcess, untilGo } from '../support/workerProcess.js';
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
  const executor = new WorkflowExecutor({
    store: new PostgresStore({ connectionString: config.url, poolSize: 4, applicationName: 'braid-waits-crash' }),
    workflows: [sleeper, waiter],
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

runWorkerProcess<WaitsWorkerConfig>(main);
