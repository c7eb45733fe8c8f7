import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { workflow } from '../../src/index.js';
import { type PostgresWorkerConfig, startWorkerProcess, type WorkerProcess } from '../support/workerProcess.js';

export const STARTS_TABLE = 'priority_starts';

/** One row per step start, in the order the database saw them (the identity column). */
export const CREATE_STARTS_TABLE = `CREATE TABLE ${STARTS_TABLE} (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id text NOT NULL,
  label text NOT NULL,
  pid integer NOT NULL
)`;

/** A one-step workflow whose step records its start (`record`), then works for `ms`. */
export function prioritised(record: (runId: string, label: string) => Promise<void>) {
  return workflow('prio-claim').step('work', async (ctx) => {
    const { label, ms } = ctx.input as { label: string; ms: number };
    await record(ctx.runId, label);
    await new Promise((resolve) => setTimeout(resolve, ms));
    return label;
  });
}

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'priority.worker.ts');

/** Starts a worker process (see priority.worker.ts) that runs one step at a time. */
export function startPriorityWorker(config: PostgresWorkerConfig): WorkerProcess {
  return startWorkerProcess(WORKER, config);
}
