import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { workflow } from '../../src/index.js';
import { startWorkerProcess, type WorkerProcess } from '../support/workerProcess.js';

export interface StreamsWorkerConfig {
  url: string;
  leaseMs: number;
  heartbeatMs: number;
  pollMs: number;
  /** Load, then wait for `go` on stdin before joining the cluster (starting a process takes seconds on a loaded machine). */
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

export type StreamsWorker = WorkerProcess;

/** Starts a worker process (see streams.worker.ts). */
export function startStreamsWorker(config: StreamsWorkerConfig): StreamsWorker {
  return startWorkerProcess(WORKER, config);
}
