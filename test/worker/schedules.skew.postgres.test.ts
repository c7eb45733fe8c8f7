/**
 * Schedules fire on the database's clock: two worker processes whose host clocks are 20 s ahead and
 * 20 s behind the database share a per-second schedule. Judged on their own clocks, the one ahead
 * would start ticks 20 s early and the one behind would start them 20 s late (or leave them to the
 * other); on the database's clock every tick starts once, on time, and none is missed.
 */
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStore, WorkflowExecutor } from '../../src/index.js';
import { createTestDatabase } from '../support/embeddedPostgres.js';
import { startWorkerProcess, type WorkerProcess } from '../support/workerProcess.js';

const WORKER = path.join(import.meta.dirname, 'skewedSchedules.worker.ts');
const SKEW_MS = 20_000;
/** A tick's step runs this soon after its scheduled time at the latest (claim, start, one step). */
const ON_TIME_MS = 2_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let db: { url: string; drop(): Promise<void> } | undefined;
const workers: WorkerProcess[] = [];

afterAll(async () => {
  for (const w of workers) w.child.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.exited));
  await db?.drop().catch(() => {});
});

describe('schedules on PostgreSQL follow the database clock', () => {
  it(`workers ${SKEW_MS / 1000} s ahead and behind neither fire a tick early nor miss one`, {
    timeout: 90_000,
  }, async () => {
    db = await createTestDatabase();
    const admin = new pg.Pool({ connectionString: db.url, max: 2 });
    const dbNow = async () =>
      Number(
        (await admin.query<{ now: string }>(`SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint AS now`))
          .rows[0]?.now,
      );
    try {
      const migrator = new WorkflowExecutor({ store: new PostgresStore({ connectionString: db.url }), worker: false });
      await migrator.open();
      await migrator.cleanup();
      await admin.query(
        'CREATE TABLE schedule_effects (run_id text NOT NULL, scheduled_at bigint, skew_ms int NOT NULL, at_ms bigint NOT NULL)',
      );
      const config = { url: db.url, leaseMs: 2_000, heartbeatMs: 250, pollMs: 250 };
      const startedAt = await dbNow();
      for (const skewMs of [SKEW_MS, -SKEW_MS]) workers.push(startWorkerProcess(WORKER, { ...config, skewMs }));
      await Promise.all(workers.map((w) => w.ready));
      const readyAt = await dbNow();
      await sleep(5_000);
      const stoppedAt = await dbNow();
      for (const w of workers) w.child.kill('SIGTERM');
      await Promise.all(workers.map((w) => w.exited));
      const logs = workers.map((w) => w.stderr()).join('\n');

      const ticks = (
        await admin.query<{ scheduledAt: string; status: string; runId: string | null }>(
          `SELECT scheduled_at AS "scheduledAt", status, run_id AS "runId" FROM braid.schedule_ticks
            WHERE schedule_id = 'skewed' ORDER BY scheduled_at`,
        )
      ).rows;
      const times = ticks.map((t) => Number(t.scheduledAt));
      // None early: no tick is scheduled beyond the database's time when the workers stopped.
      expect(
        times.filter((t) => t > stoppedAt),
        logs,
      ).toEqual([]);
      // None missed: the first tick is the first second after the schedule was defined, and one
      // follows every second up to when the workers stopped.
      expect(times[0], logs).toBeGreaterThan(startedAt);
      expect(times[0], logs).toBeLessThanOrEqual(readyAt + 1_000);
      expect(times.at(-1), logs).toBeGreaterThanOrEqual(stoppedAt - ON_TIME_MS);
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBe(1_000);
      expect(ticks.every((t) => t.status === 'started' && t.runId)).toBe(true);

      // Each tick's step ran after its scheduled time and within ON_TIME_MS of it, by the database's clock.
      const effects = (
        await admin.query<{ runId: string; scheduledAt: string; atMs: string }>(
          `SELECT run_id AS "runId", scheduled_at AS "scheduledAt", at_ms AS "atMs" FROM schedule_effects`,
        )
      ).rows;
      expect(effects.length).toBeGreaterThanOrEqual(times.length - 1);
      for (const e of effects) {
        const lateMs = Number(e.atMs) - Number(e.scheduledAt);
        expect(lateMs, `tick ${new Date(Number(e.scheduledAt)).toISOString()}`).toBeGreaterThanOrEqual(0);
        expect(lateMs, `tick ${new Date(Number(e.scheduledAt)).toISOString()}`).toBeLessThan(ON_TIME_MS);
      }
      expect(new Set(effects.map((e) => e.scheduledAt)).size).toBe(effects.length);
    } finally {
      await admin.end();
    }
  });
});
