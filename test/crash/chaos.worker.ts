/**
 * A Braid worker process for the chaos test, run as `node chaos.worker.js <config JSON>`:
 * a WorkflowExecutor on a PostgresStore with short leases, claiming runs that another process
 * starts. It prints `ready` once registered, and runs until it is killed (the test SIGKILLs it at
 * random and starts another).
 *
 * Every step execution first INSERTs a row into the side-effect table (see chaos.harness.ts), then
 * sleeps a little, then returns: a kill in the sleep leaves an execution with no success.
 * chaos.worker.js is this file compiled for the test run (test/support/compiled.ts).
 */
import pg from 'pg';
import { runWorkerProcess, serveAsWorker } from '../support/workerProcess.js';
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

  // A standby: loaded, and waiting for the test to say `go` before it joins the cluster.
  await serveAsWorker({ ...config, standby: true }, 'braid-chaos', {
    workflows: [parent, child],
    maxParallelNodes: config.maxParallelNodes,
  });
}

runWorkerProcess<ChaosWorkerConfig>(main);
