import { InvalidConfigError } from '../model/errors.js';
import type { Workflow } from '../model/workflow.js';
import { PostgresStore } from '../store/postgres/postgresStore.js';
import type { WorkerOptions } from '../worker/clusterMember.js';
import type { ExecutorOptions } from './options.js';
import { WorkflowExecutor } from './workflowExecutor.js';

export interface StartWorkerOptions extends Omit<ExecutorOptions, 'store' | 'worker' | 'workflows'>, WorkerOptions {
  /** The workflows (name and version) this worker runs. */
  workflows: ReadonlyArray<Workflow<any, any, any>>;
  /** The PostgreSQL database. Default: BRAID_DATABASE_URL. */
  databaseUrl?: string;
  /**
   * Stop gracefully on SIGTERM and SIGINT (stop claiming, let running steps finish within
   * `shutdownGraceMs`, hand the runs over), then exit the process. Default true.
   */
  handleSignals?: boolean;
}

/**
 * Starts this process as a worker on PostgreSQL: what `braid worker --database-url` does, from
 * code. Resolves once the worker is registered and claiming; `cleanup()` on the returned executor
 * stops it gracefully.
 */
export async function startWorker(options: StartWorkerOptions): Promise<WorkflowExecutor> {
  const url = options.databaseUrl ?? process.env.BRAID_DATABASE_URL;
  if (!url) {
    throw new InvalidConfigError(
      'startWorker',
      'needs a PostgreSQL database: pass `databaseUrl`, or set BRAID_DATABASE_URL ' +
        '(postgres://user:password@host:5432/database).',
    );
  }
  const {
    databaseUrl: _url,
    handleSignals = true,
    leaseMs,
    heartbeatMs,
    pollMs,
    shutdownGraceMs,
    globalMaxParallelNodes,
    log,
    ...executorOptions
  } = options;
  const store = new PostgresStore({ connectionString: url });
  const worker: WorkerOptions = { leaseMs, heartbeatMs, pollMs, shutdownGraceMs, globalMaxParallelNodes, log };
  for (const key of Object.keys(worker) as Array<keyof WorkerOptions>)
    if (worker[key] === undefined) delete worker[key];
  const executor = new WorkflowExecutor({ ...executorOptions, store, worker });
  const cleanup = executor.cleanup.bind(executor);
  executor.cleanup = async () => {
    await cleanup();
    await store.close();
  };
  try {
    await executor.open();
  } catch (error) {
    await executor.cleanup().catch(() => {});
    throw error;
  }
  if (handleSignals) {
    let stopping = false;
    const stop = () => {
      if (stopping) process.exit(1); // asked twice: do not wait
      stopping = true;
      executor.cleanup().then(
        () => process.exit(0),
        (error) => {
          console.error('braid: the worker could not stop cleanly:', error);
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  }
  return executor;
}
