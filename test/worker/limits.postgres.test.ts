import { describe, expect, it } from 'vitest';
import { type WorkflowExecutor, workflow } from '../../src/index.js';
import { postgresWorkers } from '../support/postgresWorkers.js';

const FAST = { leaseMs: 3_000, heartbeatMs: 500, pollMs: 60_000, shutdownGraceMs: 2_000 };
const { executor, sql } = postgresWorkers(FAST);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntil(predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(10);
  }
}

/** Steps that each wait for their own gate, whichever worker runs them; `entered` lists who got in, in order. */
function gates() {
  const open = new Map<string, () => void>();
  const waiting = new Map<string, Promise<void>>();
  const entered: string[] = [];
  const gateOf = (label: string) => {
    let gate = waiting.get(label);
    if (!gate) {
      gate = new Promise<void>((resolve) => open.set(label, resolve));
      waiting.set(label, gate);
    }
    return gate;
  };
  return {
    entered,
    async enter(label: string) {
      entered.push(label);
      await gateOf(label);
      return label;
    },
    open(label: string) {
      gateOf(label);
      open.get(label)?.();
    },
  };
}

const labelOf = (input: unknown) => (input as { label: string }).label;

describe('limits changed at run time, across PostgreSQL workers', { timeout: 60_000 }, () => {
  it('a maxRuns raised in one process admits queued runs on every worker at once; lowered, none until under it', async () => {
    const g = gates();
    const wf = workflow('pg-max-runs', { maxRuns: 1 }).step('s', (ctx) => g.enter(labelOf(ctx.input)));
    const workers = [executor({ workflows: [wf] }), executor({ workflows: [wf] })];
    await Promise.all(workers.map((w) => w.open()));
    // The process that changes the limit runs nothing itself: the workers hear of it through the store.
    const admin = executor({ workflows: [wf], worker: false });
    const handles = [];
    for (const label of ['a', 'b', 'c']) handles.push(await admin.start(wf, { label }));
    await waitUntil(() => g.entered.length === 1);
    await sleep(100);
    expect(g.entered).toHaveLength(1);

    const view = await admin.setMaxRuns('pg-max-runs', 3);
    expect(view).toMatchObject({ maxRuns: 3, defined: 1 });
    await waitUntil(() => g.entered.length === 3);
    await waitUntil(async () => {
      const [usage] = (await admin.limits()).maxRuns;
      return usage?.keys[0]?.active === 3 && usage.keys[0].queued === 0;
    });

    await admin.setMaxRuns('pg-max-runs', 1);
    handles.push(await admin.start(wf, { label: 'd' }));
    g.open('a');
    g.open('b');
    await Promise.all([handles[0]?.result(), handles[1]?.result()]);
    await sleep(300);
    expect(g.entered).not.toContain('d');
    expect((await admin.limits()).maxRuns[0]?.keys).toEqual([{ key: '', active: 1, queued: 1 }]);

    await admin.resetMaxRuns('pg-max-runs');
    g.open('c');
    await waitUntil(() => g.entered.includes('d'));
    g.open('d');
    expect((await handles[3]?.result())?.output).toBe('d');
  });

  it('cancel-newest counts against the maxRuns set at run time, and its error says that limit', async () => {
    const g = gates();
    const wf = workflow('pg-cancel-newest', { maxRuns: 1, onConcurrencyLimit: 'cancel-newest' }).step('s', (ctx) =>
      g.enter(labelOf(ctx.input)),
    );
    const worker = executor({ workflows: [wf] });
    await worker.open();
    const admin = executor({ workflows: [wf], worker: false });
    await admin.setMaxRuns('pg-cancel-newest', 2);
    const first = await admin.start(wf, { label: 'a' });
    const second = await admin.start(wf, { label: 'b' });
    await waitUntil(() => g.entered.length === 2);
    const third = await (await admin.start(wf, { label: 'c' })).result();
    expect(third.status).toBe('cancelled');
    expect(third.error?.message).toContain('already has 2 active run(s)');
    g.open('a');
    g.open('b');
    expect((await Promise.all([first.result(), second.result()])).map((r) => r.status)).toEqual([
      'succeeded',
      'succeeded',
    ]);
  });

  it('a pool size set in one process holds for every worker, with busy and waiting counted across them', async () => {
    const g = gates();
    const wf = workflow('pg-pool-size').step('s', { pool: 'gpu' }, (ctx) => g.enter(labelOf(ctx.input)));
    const workers = [
      executor({ workflows: [wf], pools: { gpu: 1 } }),
      executor({ workflows: [wf], pools: { gpu: 1 } }),
    ];
    await Promise.all(workers.map((w) => w.open()));
    const admin = executor({ workflows: [wf], pools: { gpu: 1 }, worker: false });
    const handles = [];
    for (const label of ['a', 'b', 'c', 'd']) handles.push(await admin.start(wf, { label }));
    await waitUntil(() => g.entered.length === 1);
    await waitUntil(async () => (await admin.limits()).pools[0]?.waiting === 3);
    expect((await admin.limits()).pools).toEqual([
      { pool: 'gpu', size: 1, defined: 1, setting: null, busy: 1, waiting: 3 },
    ]);

    await admin.setPoolSize('gpu', 3);
    await waitUntil(() => g.entered.length === 3);
    expect((await admin.limits()).pools[0]).toMatchObject({ size: 3, busy: 3, waiting: 1 });

    await admin.resetPoolSize('gpu');
    for (const label of [...g.entered]) g.open(label);
    await waitUntil(() => g.entered.length === 4);
    g.open(g.entered[3] as string);
    const results = await Promise.all(handles.map((h) => h.result()));
    expect(results.every((r) => r.status === 'succeeded')).toBe(true);
    expect(await sql('SELECT * FROM braid.semaphore_holders')).toEqual([]);
    expect(await sql('SELECT * FROM braid.semaphore_waiters')).toEqual([]);
  });

  it('a pool gate admits waiting steps by priority then arrival across workers, every 4th to the oldest', async () => {
    const g = gates();
    const wf = workflow('pg-pool-priority').step('s', { pool: 'gpu' }, (ctx) => g.enter(labelOf(ctx.input)));
    const workers: WorkflowExecutor[] = [
      executor({ workflows: [wf], pools: { gpu: 1 } }),
      executor({ workflows: [wf], pools: { gpu: 1 } }),
    ];
    await Promise.all(workers.map((w) => w.open()));
    const admin = executor({ workflows: [wf], pools: { gpu: 1 }, worker: false });
    const blocker = await admin.start(wf, { label: 'blocker' });
    await waitUntil(() => g.entered.length === 1);
    const handles = [blocker];
    for (const label of ['low-1', 'low-2', 'low-3']) {
      handles.push(await admin.start(wf, { label }, { priority: -1 }));
      // Each in line before the next, so arrival order is known.
      await waitUntil(async () => (await admin.limits()).pools[0]?.waiting === handles.length - 1);
    }
    for (const label of ['high-1', 'high-2', 'high-3']) {
      handles.push(await admin.start(wf, { label }, { priority: 5 }));
      await waitUntil(async () => (await admin.limits()).pools[0]?.waiting === handles.length - 1);
    }

    // One unit: each grant waits for the holder before to end. The blocker was grant 0; grant 3
    // (every OLDEST_EVERY-th) goes to the oldest waiter whatever its priority.
    for (let i = 0; i < handles.length; i++) {
      await waitUntil(() => g.entered.length === i + 1);
      g.open(g.entered[i] as string);
    }
    await Promise.all(handles.map((h) => h.result()));
    expect(g.entered).toEqual(['blocker', 'high-1', 'high-2', 'low-1', 'high-3', 'low-2', 'low-3']);
  });
});
