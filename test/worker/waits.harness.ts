import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { workflow } from '../../src/index.js';
import { startWorkerProcess, type WorkerProcess } from '../support/workerProcess.js';

export const EFFECTS_TABLE = 'wait_effects';

export const CREATE_EFFECTS_TABLE = `CREATE TABLE ${EFFECTS_TABLE} (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id text NOT NULL,
  pid integer NOT NULL,
  at bigint NOT NULL,
  value text
)`;

export interface WaitsWorkerConfig {
  url: string;
  leaseMs: number;
  heartbeatMs: number;
  pollMs: number;
  /** Load, then wait for `go` on stdin before joining the cluster (starting a process takes seconds on a loaded machine). */
  standby: boolean;
}

type Effect = (runId: string, value: unknown) => Promise<void>;

/** A sleeper sleeps `ms` (once, named); a waiter waits for `wake.up` with its key. */
export function waitsWorkflows(effect: Effect) {
  const sleeper = workflow('crash-sleeper').step('nap', async (ctx) => {
    const { ms } = ctx.input as { ms: number };
    await ctx.sleep(ms, { name: 'nap' });
    const at = Date.now();
    await effect(ctx.runId, null);
    return { at };
  });
  const waiter = workflow('crash-waiter').step('wait', async (ctx) => {
    const { key } = ctx.input as { key: string };
    const got = await ctx.waitForEvent<{ n: number }>('wake.up', { match: key, timeout: '1h' });
    await effect(ctx.runId, got);
    return got;
  });
  return { sleeper, waiter };
}

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'waits.worker.ts');

export type WaitsWorker = WorkerProcess;

/** Starts a worker process (see waits.worker.ts). */
export function startWaitsWorker(config: WaitsWorkerConfig): WaitsWorker {
  return startWorkerProcess(WORKER, config);
}
