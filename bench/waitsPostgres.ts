/**
 * W10 events (PostgreSQL): event delivery latency, trigger to resume. A process that runs no steps
 * (`worker: false`, as an API server receiving webhooks) calls `sendEvent`; the step waiting for
 * it runs on a worker (another executor, with its own pool and LISTEN connection, as another
 * process would have). One event at a time; the clock stops when the step's code after
 * `waitForEvent` runs. Two paths, both measured:
 * - `p50Ms` / `p99Ms`: the usual case, a run that only waits for an event with no timeout soon: it
 *   has left its worker (owner NULL, waiting); the event's commit sets its wake_at to now and
 *   announces it on braid_ready, a worker claims it with its waits, and the step runs again from
 *   its start, its wait returning at once.
 * - `heldP50Ms` / `heldP99Ms`: a run kept in its worker's memory (another step of it still
 *   runs): its owner hears braid_waits, reads the run's settled waits and resumes the call.
 * - `sendP50Ms` / `heldSendP50Ms`: how long `sendEvent` itself took (its commit, which settles the
 *   wait and sends the notice), the first part of each path: the rest is the worker's.
 */
import { PostgresStore, WorkflowExecutor, workflow } from '../src/index.js';
import type { BenchDatabase } from './postgres.js';
import type { Figures } from './workloads.js';

export interface EventLatencyOptions {
  newDatabase(): Promise<BenchDatabase>;
  /** Events measured per path (default 200). */
  events?: number;
  /** Events before measuring (default 30): JIT, prepared statements, pools. */
  warmUp?: number;
}

export async function eventLatencyPostgres(options: EventLatencyOptions): Promise<Figures> {
  const events = options.events ?? 200;
  const warmUp = options.warmUp ?? 30;
  const database = await options.newDatabase();
  const resumed = new Map<string, (at: number) => void>();
  let release = () => {};
  const busy = new Promise<void>((resolve) => {
    release = resolve;
  });
  const asleep = workflow('w8-asleep').step('wait', async (ctx) => {
    const { key } = ctx.input as { key: string };
    await ctx.waitForEvent('w8.go', { match: key });
    resumed.get(key)?.(performance.now());
    return key;
  });
  const resident = workflow('w8-resident')
    .step('wait', async (ctx) => {
      const { key } = ctx.input as { key: string };
      await ctx.waitForEvent('w8.go', { match: key });
      resumed.get(key)?.(performance.now());
      return key;
    })
    .step('busy', async () => {
      await busy;
      return 'done';
    });
  const workerStore = new PostgresStore({ connectionString: database.url });
  const senderStore = new PostgresStore({ connectionString: database.url });
  const worker = new WorkflowExecutor({ store: workerStore, workflows: [asleep, resident], maxParallelNodes: 1000 });
  const sender = new WorkflowExecutor({ store: senderStore, worker: false, workflows: [asleep, resident] });
  try {
    await worker.open();
    await sender.open();
    const measure = async (wf: typeof asleep | typeof resident, prefix: string, count: number) => {
      // Every run waits first (handed back, or held), then the events go one by one.
      const keys = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
      const runs = await Promise.all(keys.map((key) => worker.start(wf, { key })));
      await untilWaiting(
        senderStore,
        runs.map((r) => r.runId),
        wf === asleep,
      );
      const latencies: number[] = [];
      const sends: number[] = [];
      for (const key of keys) {
        const done = new Promise<number>((resolve) => resumed.set(key, resolve));
        const t0 = performance.now();
        await sender.sendEvent('w8.go', { key }, { key });
        sends.push(performance.now() - t0);
        latencies.push((await done) - t0);
        resumed.delete(key);
      }
      const byValue = (a: number, b: number) => a - b;
      return { latencies: latencies.sort(byValue), sends: sends.sort(byValue) };
    };
    await measure(asleep, 'warm-asleep', warmUp);
    const handedBack = await measure(asleep, 'asleep', events);
    await measure(resident, 'warm-resident', warmUp);
    const held = await measure(resident, 'resident', events);
    const at = (l: number[], q: number) => l[Math.min(l.length - 1, Math.floor(q * l.length))] as number;
    return {
      p50Ms: at(handedBack.latencies, 0.5),
      p99Ms: at(handedBack.latencies, 0.99),
      heldP50Ms: at(held.latencies, 0.5),
      heldP99Ms: at(held.latencies, 0.99),
      sendP50Ms: at(handedBack.sends, 0.5),
      heldSendP50Ms: at(held.sends, 0.5),
    };
  } finally {
    release();
    await sender.cleanup();
    await worker.cleanup();
    await senderStore.close();
    await workerStore.close();
    await database.drop();
  }
}

/**
 * Waits until every run waits for its event: handed back (no owner, status waiting), or held by
 * its worker (running: its other step runs).
 */
async function untilWaiting(store: PostgresStore, runIds: string[], handedBack: boolean): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { rows } = await store.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM braid.runs r
        WHERE r.id = ANY($1) AND r.status = $2 AND (r.owner_id IS NULL) = $3
          AND EXISTS (SELECT 1 FROM braid.waits w WHERE w.run_id = r.id AND w.status = 'pending')`,
      [runIds, handedBack ? 'waiting' : 'running', handedBack],
    );
    if (rows[0]?.n === runIds.length) return;
    if (Date.now() > deadline) throw new Error('W10: the runs never all waited for their events');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
