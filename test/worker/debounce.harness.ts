import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { workflow } from '../../src/index.js';
import { type PostgresWorkerConfig, startWorkerProcess, type WorkerProcess } from '../support/workerProcess.js';

export const RAN_TABLE = 'debounce_ran';

/** One row per step run of the debounced workflow, across every worker. */
export const CREATE_RAN_TABLE = `CREATE TABLE ${RAN_TABLE} (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id text NOT NULL,
  key text NOT NULL,
  text text NOT NULL,
  pid integer NOT NULL
)`;

export interface Draft {
  key: string;
  text: string;
}

/** Saves the latest draft of a key; triggers of one key within 5 s collapse. */
export function draftSaver(record: (runId: string, draft: Draft) => Promise<void>) {
  return workflow('save-draft', { debounce: { key: (input: Draft) => input.key, window: 5_000 } }).step(
    'save',
    async (ctx) => {
      await record(ctx.runId, ctx.input as Draft);
      return (ctx.input as Draft).text;
    },
  );
}

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'debounce.worker.ts');

export function startDebounceWorker(config: PostgresWorkerConfig): WorkerProcess {
  return startWorkerProcess(WORKER, config);
}
