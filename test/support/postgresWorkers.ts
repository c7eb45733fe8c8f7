/**
 * Several executors on one real PostgreSQL database in one test process: each a worker with its
 * own pool and worker id, as separate processes would be. Registers the hooks that give each test
 * a fresh database and clean the executors up after it.
 */
import pg from 'pg';
import { afterEach, beforeEach } from 'vitest';
import { type ExecutorOptions, type WorkerOptions, WorkflowExecutor } from '../../src/index.js';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { createTestDatabase } from './embeddedPostgres.js';

export interface PostgresWorkers {
  /** A new executor on this test's database: a worker with `defaults` unless `worker: false`. */
  executor(options?: ExecutorOptions): WorkflowExecutor;
  /** This test's database. */
  url(): string;
  /** Cleans `executor` up after the test, with the ones made here. */
  track(executor: WorkflowExecutor): void;
  /** One query on this test's database, on a connection of its own. */
  sql<T extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<T[]>;
}

export function postgresWorkers(defaults: WorkerOptions, store: { poolSize?: number } = {}): PostgresWorkers {
  let db: { url: string; drop(): Promise<void> };
  let executors: WorkflowExecutor[] = [];

  beforeEach(async () => {
    db = await createTestDatabase();
    executors = [];
  });

  afterEach(async () => {
    await Promise.all(executors.map((e) => e.cleanup().catch(() => {})));
    await db.drop();
  });

  return {
    url: () => db.url,
    track: (executor) => {
      executors.push(executor);
    },
    executor(options = {}) {
      const postgres = new PostgresStore({ connectionString: db.url, ...store });
      const ex = new WorkflowExecutor({
        ...options,
        store: postgres,
        worker:
          options.worker === false ? false : { ...defaults, log: () => {}, ...(options.worker as object | undefined) },
      });
      const cleanup = ex.cleanup.bind(ex);
      ex.cleanup = async () => {
        await cleanup();
        await postgres.close();
      };
      executors.push(ex);
      return ex;
    },
    async sql<T extends pg.QueryResultRow>(text: string, values: unknown[] = []) {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        return (await client.query<T>(text, values)).rows;
      } finally {
        await client.end();
      }
    },
  };
}
