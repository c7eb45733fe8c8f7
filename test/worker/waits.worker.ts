/**
 * A Braid worker process for the SIGKILL test of durable waits (waits.crash.test.ts), run as
 * `node --import tsx waits.worker.ts <config JSON>`: a WorkflowExecutor on a PostgresStore with
 * short leases. It prints `ready <worker id>` once registered and runs until it is killed.
 */
import pg from 'pg';
import { PostgresStore, WorkflowExecutor } from '../../src/index.js';
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
      log: (line) => process.stderr.write(`${line}\n`),
    },
  });
  if (config.standby) {
    await new Promise<void>((resolve) => {
      let input = '';
      process.stdin.on('data', (d: Buffer) => {
        input += d.toString();
        if (input.includes('go')) resolve();
      });
    });
    process.stdin.pause();
  }
  await executor.open();
  process.stdout.write(`ready ${executor.workerId}\n`);
}

process.on('unhandledRejection', (error) => {
  console.error('unhandled rejection:', error);
  process.exit(1);
});

main(JSON.parse(process.argv[2] ?? '{}') as WaitsWorkerConfig).catch((error) => {
  console.error(error);
  process.exit(1);
});
