/**
 * A Braid worker process whose host clock is off by `skewMs` (Date.now, which the engine's system
 * clock reads, is moved; the database's clock is not), for schedules.skew.postgres.test.ts. It
 * defines a per-second schedule, as every copy of a deployment would, and records when each run's
 * step ran by the database's clock.
 */
import pg from 'pg';
import { schedule, workflow } from '../../src/index.js';
import { type PostgresWorkerConfig, runWorkerProcess, serveAsWorker } from '../support/workerProcess.js';

async function main(config: PostgresWorkerConfig & { skewMs: number }): Promise<void> {
  const realNow = Date.now.bind(Date);
  Date.now = () => realNow() + config.skewMs;
  const effects = new pg.Pool({ connectionString: config.url, max: 2 });
  effects.on('error', () => {});
  const tick = workflow('skewed-tick').step('record', async (ctx) => {
    await effects.query(
      `INSERT INTO schedule_effects (run_id, scheduled_at, skew_ms, at_ms)
       VALUES ($1, $2, $3, (extract(epoch from clock_timestamp()) * 1000)::bigint)`,
      [ctx.runId, ctx.schedule?.scheduledAt.getTime() ?? null, config.skewMs],
    );
  });
  await serveAsWorker(config, 'braid-schedules-skew', {
    schedules: [schedule(tick, { id: 'skewed', cron: '* * * * * *', overlap: 'allow_all', catchupWindow: '1m' })],
  });
}

runWorkerProcess<PostgresWorkerConfig & { skewMs: number }>(main);
