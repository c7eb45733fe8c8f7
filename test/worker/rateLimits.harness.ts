import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { workflow } from '../../src/index.js';
import { type PostgresWorkerConfig, startWorkerProcess, type WorkerProcess } from '../support/workerProcess.js';

/** Starts per second the limit allows, across every worker. */
export const LIMIT_PER_SECOND = 10;

/**
 * One step under a rate limit of LIMIT_PER_SECOND per second; it returns when its function ran
 * (the moment a rate-limited API would be called) and which process ran it.
 */
export const limitedCall = workflow('pg-rate-limited').step(
  'call',
  { rateLimit: { limit: LIMIT_PER_SECOND, period: '1s', name: 'pg-api' } },
  () => ({ at: Date.now(), pid: process.pid }),
);

/**
 * Run through every worker before the measured runs: the first functions of a worker that has just
 * started ran ~0.5 s after their granted time (first queries, JIT warm-up), bunched with on-time ones.
 */
export const warmUp = workflow('pg-rate-warm-up').step(
  'call',
  { rateLimit: { limit: 1000, period: '1s', name: 'pg-warm-up' } },
  () => process.pid,
);

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'rateLimits.worker.ts');

/** Starts a worker process (see rateLimits.worker.ts). */
export function startRateLimitWorker(config: PostgresWorkerConfig): WorkerProcess {
  return startWorkerProcess(WORKER, config);
}
