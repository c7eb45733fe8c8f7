import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStore, WorkflowExecutor } from '../../src/index.js';
import { createTestDatabase } from '../support/embeddedPostgres.js';
import type { WorkerProcess } from '../support/workerProcess.js';
import { CREATE_RAN_TABLE, draftSaver, RAN_TABLE, startDebounceWorker } from './debounce.harness.js';

const KEYS = ['k0', 'k1', 'k2', 'k3', 'k4'];

describe('debounce on PostgreSQL: three worker processes, three triggering processes', { timeout: 120_000 }, () => {
  let db: { url: string; drop(): Promise<void> } | undefined;
  const clients: WorkflowExecutor[] = [];
  const workers: WorkerProcess[] = [];

  afterAll(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    await Promise.all(clients.map((c) => c.cleanup().catch(() => {})));
    await db?.drop().catch(() => {});
  });

  it('collapses concurrent triggers of a key into one run, started exactly once with the last input', async () => {
    db = await createTestDatabase();
    const admin = new pg.Pool({ connectionString: db.url, max: 2 });
    try {
      for (let i = 0; i < 3; i++) {
        const store = new PostgresStore({ connectionString: db.url, poolSize: 4 });
        clients.push(new WorkflowExecutor({ store, worker: false }));
      }
      await Promise.all(clients.map((c) => c.open()));
      await admin.query(CREATE_RAN_TABLE);
      const config = { url: db.url, leaseMs: 2_000, heartbeatMs: 250, pollMs: 250 };
      for (let i = 0; i < 3; i++) workers.push(startDebounceWorker(config));
      await Promise.all(workers.map((w) => w.ready));

      const wf = draftSaver(async () => {
        throw new Error('steps run on the workers only');
      });
      // Three processes trigger every key at once, 4 times each, on their own connections.
      const burstStart = Date.now();
      const burst = await Promise.all(
        clients.flatMap((client, c) =>
          KEYS.flatMap((key) =>
            [0, 1, 2, 3].map(async (n) => ({
              key,
              runId: (await client.start(wf, { key, text: `c${c}-${n}` })).runId,
            })),
          ),
        ),
      );
      // Then one last trigger per key: the input that must run.
      const last = await Promise.all(
        KEYS.map(async (key) => (await clients[0]!.start(wf, { key, text: 'last' })).runId),
      );
      // Within the 5 s window, or a key's run could rightly have started in the middle.
      expect(Date.now() - burstStart).toBeLessThan(5_000);

      for (const [i, key] of KEYS.entries()) {
        const ids = new Set(burst.filter((b) => b.key === key).map((b) => b.runId));
        expect(ids).toEqual(new Set([last[i]]));
      }
      const results = await Promise.all(last.map(async (runId) => (await clients[1]!.getHandle(runId)).result()));
      expect(results.map((r) => r.output)).toEqual(KEYS.map(() => 'last'));

      const { rows } = await admin.query<{ run_id: string; key: string; text: string }>(
        `SELECT run_id, key, text FROM ${RAN_TABLE} ORDER BY id`,
      );
      // Exactly once per key, across the workers.
      expect(rows.map((r) => r.key).sort()).toEqual(KEYS);
      expect(new Set(rows.map((r) => r.run_id))).toEqual(new Set(last));
      expect(rows.every((r) => r.text === 'last')).toBe(true);
      const { rows: runs } = await admin.query<{ n: string }>(
        `SELECT count(*) AS n FROM braid.runs WHERE workflow = 'save-draft'`,
      );
      expect(Number(runs[0]?.n)).toBe(KEYS.length);
      const { rows: triggers } = await admin.query<{ n: string }>(
        `SELECT count(*) AS n FROM braid.events WHERE type = 'run_queued' AND data LIKE '{"reason":"debounce"%'`,
      );
      expect(Number(triggers[0]?.n)).toBe(KEYS.length * 13);
    } finally {
      await admin.end();
    }
  });
});
