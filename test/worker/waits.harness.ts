/**
 * What the SIGKILL test of durable waits on PostgreSQL (waits.crash.test.ts) shares with its worker
 * processes (waits.worker.ts): the workflows, the side-effect table, and starting a worker.
 *
 * Each step records a side effect when it gets past its wait (`after`), with the worker's clock
 * (the same host as the database), so the test can tell when each run woke, where, and how often.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { workflow } from '../../src/index.js';

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
  /** Load, then wait for `go` on stdin before joining the cluster (starting tsx takes seconds). */
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

export interface WaitsWorker {
  child: ChildProcess;
  /** Resolves with the worker id once it has joined the cluster (rejects if it exits first). */
  ready: Promise<string>;
  exited: Promise<number | NodeJS.Signals>;
  stderr: () => string;
  /** Tells a standby to join the cluster now. */
  activate(): void;
}

/** Starts a worker process: node with the tsx loader, no shell. */
export function startWaitsWorker(config: WaitsWorkerConfig): WaitsWorker {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, JSON.stringify(config)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-16_384);
  });
  const exited = new Promise<number | NodeJS.Signals>((resolve) =>
    child.on('exit', (code, signal) => resolve(signal ?? code ?? -1)),
  );
  const ready = new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /ready (\S+)\n/.exec(out);
      if (match) resolve(match[1] as string);
    });
    child.on('exit', () => reject(new Error(`worker exited before it was ready: ${err}`)));
  });
  ready.catch(() => {});
  return { child, ready, exited, stderr: () => err, activate: () => child.stdin?.write('go\n') };
}
