/**
 * What the SIGKILL test of step output streams on PostgreSQL (streams.crash.test.ts) shares with
 * its worker processes (streams.worker.ts): the workflow and starting a worker.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { workflow } from '../../src/index.js';

export interface StreamsWorkerConfig {
  url: string;
  leaseMs: number;
  heartbeatMs: number;
  pollMs: number;
  /** Load, then wait for `go` on stdin before joining the cluster (starting tsx takes seconds). */
  standby: boolean;
}

/** Chunks each attempt of the step writes, one every CHUNK_EVERY_MS. */
export const CHUNKS_PER_ATTEMPT = 40;
export const CHUNK_EVERY_MS = 25;

/** One step that writes `{ attempt, i }` chunks slowly, each awaited (durable before the next). */
export const streamer = workflow('crash-streamer').step('write', async (ctx) => {
  for (let i = 0; i < CHUNKS_PER_ATTEMPT; i++) {
    await ctx.emit({ attempt: ctx.attempt, i });
    await new Promise((resolve) => setTimeout(resolve, CHUNK_EVERY_MS));
  }
  return { attempt: ctx.attempt };
});

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'streams.worker.ts');

export interface StreamsWorker {
  child: ChildProcess;
  /** Resolves with the worker id once it has joined the cluster (rejects if it exits first). */
  ready: Promise<string>;
  exited: Promise<number | NodeJS.Signals>;
  stderr: () => string;
  /** Tells a standby to join the cluster now. */
  activate(): void;
}

/** Starts a worker process: node with the tsx loader, no shell. */
export function startStreamsWorker(config: StreamsWorkerConfig): StreamsWorker {
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
