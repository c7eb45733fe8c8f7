/**
 * A Braid worker process for the chaos test, run as `node --import tsx chaos.worker.ts <config JSON>`:
 * a WorkflowExecutor on a PostgresStore with short leases, claiming runs that another process
 * starts. It prints `ready` once registered, and runs until it is killed (the test SIGKILLs it at
 * random and starts another).
 *
 * Every step execution first INSERTs a row into the side-effect table (see chaos.harness.ts), then
 * sleeps a little, then returns: a kill in the sleep leaves an execution with no success.
 */
import pg from 'pg';
import { PostgresStore, WorkflowExecutor } from '../../src/index.js';
import { logToStderr, runWorkerProcess, untilGo } from '../support/workerProcess.js';
import { type ChaosWorkerConfig, chaosWorkflows, EFFECTS_TABLE } from './chaos.harness.js';

async function main(config: ChaosWorkerConfig): Promise<void> {
  const effects = new pg.Pool({ connectionString: config.url, max: 2 });
  effects.on('error', () => {});
  const [minMs, maxMs] = config.stepMs;
  const { parent, child } = chaosWorkflows(async (ctx, key) => {
    await effects.query(
      `INSERT INTO ${EFFECTS_TABLE} (run_id, step, attempt, key, pid, at) VALUES ($1, $2, $3, $4, $5, $6)`,
      [ctx.runId, ctx.stepName, ctx.attempt, key, process.pid, Date.now()],
    );
    await new Promise((resolve) => setTimeout(resolve, minMs + Math.random() * (maxMs - minMs)));
  });

  const executor = new WorkflowExecutor({
    // A small pool: four of these share the test server with the other test files.
    store: new PostgresStore({ connectionString: config.url, poolSize: 4, applicationName: 'braid-chaos' }),
    workflows: [parent, child],
    maxParallelNodes: config.maxParallelNodes,
    worker: {
      leaseMs: config.leaseMs,
      heartbeatMs: config.heartbeatMs,
      pollMs: config.pollMs,
      log: logToStderr,
    },
  });
  // A standby: loaded, and waiting for the test to say `go` before it joins the cluster.
  await untilGo();
  await executor.open();
  process.stdout.write(`ready ${executor.workerId}\n`);
}

runWorkerProcess<ChaosWorkerConfig>(main);
