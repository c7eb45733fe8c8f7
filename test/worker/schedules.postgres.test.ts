/**
 * Three real worker processes on one PostgreSQL database race for the same per-second schedule for
 * about 5 s: every tick from the first to the last must have exactly one run (none doubled, none
 * lost), and each run's step ran once.
 */
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStore, schedule, WorkflowExecutor, workflow } from '../../src/index.js';
import { createTestDatabase } from '../support/embeddedPostgres.js';
import { postgresWorkers } from '../support/postgresWorkers.js';
import { startWorkerProcess, type WorkerProcess } from '../support/workerProcess.js';

const WORKER = path.join(import.meta.dirname, 'schedules.worker.ts');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let db: { url: string; drop(): Promise<void> } | undefined;
const workers: WorkerProcess[] = [];

afterAll(async () => {
  for (const w of workers) w.child.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.exited));
  await db?.drop().catch(() => {});
});

describe('schedules across PostgreSQL workers', () => {
  it('3 workers racing on a per-second cron for ~5 s: exactly one run per tick, no tick lost', {
    timeout: 90_000,
  }, async () => {
    db = await createTestDatabase();
    const admin = new pg.Pool({ connectionString: db.url, max: 2 });
    try {
      const migrator = new WorkflowExecutor({ store: new PostgresStore({ connectionString: db.url }), worker: false });
      await migrator.open();
      await migrator.cleanup();
      await admin.query(
        'CREATE TABLE schedule_effects (run_id text NOT NULL, scheduled_at bigint, pid int NOT NULL, at timestamptz DEFAULT now())',
      );
      const config = { url: db.url, leaseMs: 2_000, heartbeatMs: 250, pollMs: 250 };
      for (let i = 0; i < 3; i++) workers.push(startWorkerProcess(WORKER, config));
      await Promise.all(workers.map((w) => w.ready));
      await sleep(5_500);
      for (const w of workers) w.child.kill('SIGTERM');
      await Promise.all(workers.map((w) => w.exited));

      const ticks = (
        await admin.query<{ scheduledAt: string; status: string; runId: string | null }>(
          `SELECT scheduled_at AS "scheduledAt", status, run_id AS "runId" FROM braid.schedule_ticks
            WHERE schedule_id = 'per-second' ORDER BY scheduled_at`,
        )
      ).rows;
      const times = ticks.map((t) => Number(t.scheduledAt));
      expect(times.length, workers.map((w) => w.stderr()).join('\n')).toBeGreaterThanOrEqual(4);
      // No tick lost: one tick per second from the first to the last, each started.
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBe(1_000);
      expect(ticks.every((t) => t.status === 'started' && t.runId)).toBe(true);
      // None doubled: one run per tick, and every run is a tick's.
      const runs = (
        await admin.query<{ id: string; key: string; status: string }>(
          `SELECT id, idempotency_key AS key, status FROM braid.runs WHERE workflow = 'per-second-tick'`,
        )
      ).rows;
      expect(runs.map((r) => r.id).sort()).toEqual(ticks.map((t) => t.runId).sort());
      const effects = (await admin.query<{ run_id: string; scheduled_at: string }>('SELECT * FROM schedule_effects'))
        .rows;
      const finished = runs.filter((r) => r.status === 'succeeded').map((r) => r.id);
      // Each run that finished ran its step once, for its own tick.
      for (const id of finished) expect(effects.filter((e) => e.run_id === id)).toHaveLength(1);
      expect(new Set(effects.map((e) => e.scheduled_at)).size).toBe(effects.length);
      expect(finished.length).toBeGreaterThanOrEqual(times.length - 1);
      const schedule = (
        await admin.query<{ next: string; last: string }>(
          `SELECT next_fire_at AS next, last_scheduled_at AS last FROM braid.schedules WHERE id = 'per-second'`,
        )
      ).rows[0]!;
      expect(Number(schedule.last)).toBe(times.at(-1));
      expect(Number(schedule.next)).toBe(times.at(-1)! + 1_000);
    } finally {
      await admin.end();
    }
  });
});

describe('schedules when a worker stops', () => {
  const { executor, sql } = postgresWorkers({ leaseMs: 2_000, heartbeatMs: 250, pollMs: 250 }, { poolSize: 4 });

  it('a worker that stops hands its schedules back at once: the next worker fires the next tick', {
    timeout: 60_000,
  }, async () => {
    const seen: number[] = [];
    const tick = workflow('handover-tick').step('record', (ctx) => {
      seen.push(ctx.schedule?.scheduledAt.getTime() ?? 0);
    });
    const define = () => schedule(tick, { id: 'handover', cron: '* * * * * *', overlap: 'allow_all' });
    const first = executor({ schedules: [define()] });
    await first.open();
    const deadline = Date.now() + 10_000;
    while (!seen.length && Date.now() < deadline) await sleep(50);
    expect(seen.length).toBeGreaterThan(0);
    await first.cleanup();
    const [held] = await sql<{ claimed_by: string | null }>(
      `SELECT claimed_by FROM braid.schedules WHERE id = 'handover'`,
    );
    expect(held?.claimed_by).toBeNull();
    const stoppedAt = Date.now();
    const countBefore = seen.length;
    const second = executor({ schedules: [define()] });
    await second.open();
    while (seen.length === countBefore && Date.now() < stoppedAt + 10_000) await sleep(50);
    // Well within the 30 s lease the stopped worker would otherwise hold.
    expect(Date.now() - stoppedAt).toBeLessThan(5_000);
    const ticks = await sql<{ scheduled_at: string }>(
      `SELECT scheduled_at FROM braid.schedule_ticks WHERE schedule_id = 'handover' ORDER BY scheduled_at`,
    );
    expect(new Set(ticks.map((t) => t.scheduled_at)).size).toBe(ticks.length);
  });
});
