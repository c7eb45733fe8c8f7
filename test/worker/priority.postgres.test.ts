import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStore, WorkflowExecutor, workflow } from '../../src/index.js';
import { createTestDatabase } from '../support/embeddedPostgres.js';
import { postgresWorkers } from '../support/postgresWorkers.js';
import type { WorkerProcess } from '../support/workerProcess.js';
import { CREATE_STARTS_TABLE, prioritised, STARTS_TABLE, startPriorityWorker } from './priority.harness.js';

const WORKER = { leaseMs: 3_000, heartbeatMs: 500, shutdownGraceMs: 2_000 };
const { executor } = postgresWorkers(WORKER, { poolSize: 4 });

describe('priority on PostgreSQL: the claim', { timeout: 60_000 }, () => {
  it('claims by priority, then arrival, and gives every 4th claim to the oldest run (no starvation)', async () => {
    const order: string[] = [];
    const wf = workflow('prio-claim-one').step('work', (ctx) => {
      order.push((ctx.input as { label: string }).label);
    });
    // Every run is stored before any worker exists: what the worker takes first is the claim's choice.
    const client = executor({ worker: false });
    const low = await client.start(wf, { label: 'low' }, { priority: -5 });
    const highs = [];
    for (let i = 0; i < 8; i++) highs.push(await client.start(wf, { label: `high-${i}` }, { priority: 5 }));
    const worker = executor({ workflows: [wf], maxParallelNodes: 1 });
    await worker.open();
    await Promise.all([low, ...highs].map((h) => h.result()));
    expect(order).toEqual(['high-0', 'high-1', 'high-2', 'low', 'high-3', 'high-4', 'high-5', 'high-6', 'high-7']);
  });

  it('admits runs waiting for a maxRuns slot by priority', async () => {
    const order: string[] = [];
    const wf = workflow('prio-claim-keyed', { maxRuns: 1 }).step('work', async (ctx) => {
      order.push((ctx.input as { label: string }).label);
    });
    const client = executor({ worker: false });
    const handles = [
      await client.start(wf, { label: 'low' }, { priority: -1 }),
      await client.start(wf, { label: 'mid' }),
      await client.start(wf, { label: 'high' }, { priority: 1 }),
    ];
    const worker = executor({ workflows: [wf] });
    await worker.open();
    await Promise.all(handles.map((h) => h.result()));
    expect(order).toEqual(['high', 'mid', 'low']);
  });
});

describe('priority on PostgreSQL: three worker processes', { timeout: 120_000 }, () => {
  let db: { url: string; drop(): Promise<void> } | undefined;
  let client: WorkflowExecutor | undefined;
  const workers: WorkerProcess[] = [];

  afterAll(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    await client?.cleanup().catch(() => {});
    await db?.drop().catch(() => {});
  });

  it('the first runs any worker takes are the high-priority ones, and every run starts exactly once', async () => {
    db = await createTestDatabase();
    const admin = new pg.Pool({ connectionString: db.url, max: 2 });
    try {
      client = new WorkflowExecutor({
        store: new PostgresStore({ connectionString: db.url, poolSize: 4 }),
        worker: false,
      });
      await client.open(); // migrates
      await admin.query(CREATE_STARTS_TABLE);
      const wf = prioritised(async () => {
        throw new Error('steps run on the workers only');
      });
      // Low priority first, so arrival order alone would start them first.
      const handles = [];
      for (let i = 0; i < 6; i++) handles.push(await client.start(wf, { label: `low-${i}`, ms: 50 }, { priority: 0 }));
      for (let i = 0; i < 6; i++) handles.push(await client.start(wf, { label: `high-${i}`, ms: 50 }, { priority: 9 }));

      const config = { url: db.url, leaseMs: 2_000, heartbeatMs: 250, pollMs: 250 };
      for (let i = 0; i < 3; i++) workers.push(startPriorityWorker(config));
      await Promise.all(workers.map((w) => w.ready));
      const results = await Promise.all(handles.map((h) => h.result()));
      expect(results.every((r) => r.success)).toBe(true);

      const { rows } = await admin.query<{ label: string; run_id: string; pid: number }>(
        `SELECT label, run_id, pid FROM ${STARTS_TABLE} ORDER BY id`,
      );
      // Exactly once each, across the workers.
      expect(rows).toHaveLength(12);
      expect(new Set(rows.map((r) => r.run_id)).size).toBe(12);
      // A worker's first three claims go by priority (its 4th goes to the oldest run): whatever
      // the interleaving, the first three starts in the cluster are high-priority runs.
      expect(rows.slice(0, 3).map((r) => r.label.split('-')[0])).toEqual(['high', 'high', 'high']);
      expect(new Set(rows.map((r) => r.pid)).size).toBeGreaterThan(1);
    } finally {
      await admin.end();
    }
  });
});
