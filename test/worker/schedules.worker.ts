/**
 * A Braid worker process for the schedule race test (schedules.postgres.test.ts), run as
 * `node schedules.worker.js <config JSON>`: it defines the per-second schedule (as every
 * copy of a deployment would) and records each run's tick in an effects table.
 * schedules.worker.js is this file compiled for the test run (test/support/compiled.ts).
 */
import pg from 'pg';
import { schedule, workflow } from '../../src/index.js';
import { type PostgresWorkerConfig, runWorkerProcess, serveAsWorker } from '../support/workerProcess.js';

export const SCHEDULE_EFFECTS = 'schedule_effects';

async function main(config: PostgresWorkerConfig): Promise<void> {
  const effects = new pg.Pool({ connectionString: config.url, max: 2 });
  effects.on('error', () => {});
  const tick = workflow('per-second-tick').step('record', async (ctx) => {
    await effects.query(`INSERT INTO ${SCHEDULE_EFFECTS} (run_id, scheduled_at, pid) VALUES ($1, $2, $3)`, [
      ctx.runId,
      ctx.schedule?.scheduledAt.getTime() ?? null,
      process.pid,
    ]);
  });
  await serveAsWorker(config, 'braid-schedules-race', {
    schedules: [schedule(tick, { id: 'per-second', cron: '* * * * * *', overlap: 'allow_all', catchupWindow: '1m' })],
  });
}

runWorkerProcess<PostgresWorkerConfig>(main);
