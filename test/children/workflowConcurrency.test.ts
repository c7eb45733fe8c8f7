import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ConcurrencyLimitError,
  MemoryStore,
  SqliteStore,
  type Workflow,
  WorkflowExecutor,
  workflow,
} from '../../src/index.js';
import { removeTempDirs, sleep, tempDir, until } from './helpers.js';

let executor: WorkflowExecutor | undefined;
afterEach(async () => {
  await executor?.cleanup();
  executor = undefined;
});
afterAll(removeTempDirs);

function makeExecutor(): WorkflowExecutor {
  executor = new WorkflowExecutor({ store: new MemoryStore(), maxParallelNodes: 50 });
  return executor;
}

describe('maxRuns', () => {
  it('keeps at most maxRuns runs active; the others queue and start in arrival order', async () => {
    const ex = makeExecutor();
    let active = 0;
    let maxActive = 0;
    const startOrder: number[] = [];
    // The first runs wait until all six are started, so the count below does not depend on timing.
    let release!: () => void;
    const started = new Promise<void>((resolve) => {
      release = resolve;
    });
    const limited = workflow('limited', { input: z.object({ i: z.number() }), maxRuns: 2 }).step(
      'work',
      async (ctx) => {
        startOrder.push(ctx.input.i);
        active++;
        maxActive = Math.max(maxActive, active);
        await started;
        await sleep(15);
        active--;
        return ctx.input.i;
      },
    );
    const handles = [];
    for (let i = 0; i < 6; i++) handles.push(await ex.start(limited, { i }));
    expect(await ex.store.countRuns({ workflow: 'limited' })).toEqual({ running: 2, queued: 4 });
    release();
    const results = await Promise.all(handles.map((h) => h.result()));
    expect(results.map((r) => r.output)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(maxActive).toBe(2);
    expect(startOrder).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('keeps the queue, its order and the limit across a restart', async () => {
    const file = path.join(tempDir(), 'braid.db');
    const startOrder: number[] = [];
    let active = 0;
    let maxActive = 0;
    let isHeld = true;
    const limited = workflow('limited', { input: z.object({ i: z.number() }), maxRuns: 1 }).step(
      'work',
      async (ctx) => {
        startOrder.push(ctx.input.i);
        active++;
        maxActive = Math.max(maxActive, active);
        try {
          while (isHeld) {
            if (ctx.signal.aborted) throw ctx.signal.reason;
            await sleep(2);
          }
          await sleep(5);
          return ctx.input.i;
        } finally {
          active--;
        }
      },
    );
    const first = new WorkflowExecutor({ store: new SqliteStore({ path: file }), workflows: [limited] });
    executor = first;
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await first.start(limited, { i })).runId);
    await until(() => startOrder.length === 1);
    await first.cleanup();
    await until(() => active === 0);

    isHeld = false;
    startOrder.length = 0;
    maxActive = 0;
    const second = new WorkflowExecutor({ store: new SqliteStore({ path: file }), workflows: [limited] });
    executor = second;
    const results = await Promise.all(ids.map(async (id) => (await second.getHandle(id)).result()));
    expect(results.map((r) => r.output)).toEqual([0, 1, 2, 3]);
    expect(startOrder).toEqual([0, 1, 2, 3]);
    expect(maxActive).toBe(1);
  });

  it('with a concurrencyKey, serialises runs of one key and lets different keys run at once', async () => {
    const ex = makeExecutor();
    const spans: Array<{ customer: string; start: number; end: number }> = [];
    const perCustomer = workflow('per-customer', {
      input: z.object({ customer: z.string(), n: z.number() }),
      maxRuns: 1,
      concurrencyKey: (input: { customer: string }) => input.customer,
    }).step('work', async (ctx) => {
      const start = performance.now();
      await sleep(15);
      spans.push({ customer: ctx.input.customer, start, end: performance.now() });
      return `${ctx.input.customer}${ctx.input.n}`;
    });
    const inputs = ['a', 'b', 'a', 'c', 'b', 'a'].map((customer, n) => ({ customer, n }));
    const handles = await Promise.all(inputs.map((input) => ex.start(perCustomer, input)));
    const runs = await Promise.all(handles.map((h) => ex.store.getRun(h.runId)));
    expect(runs.map((r) => r?.concurrencyKey)).toEqual(['a', 'b', 'a', 'c', 'b', 'a']);
    const results = await Promise.all(handles.map((h) => h.result()));
    expect(results.map((r) => r.output)).toEqual(['a0', 'b1', 'a2', 'c3', 'b4', 'a5']);

    const overlaps = (x: (typeof spans)[number], y: (typeof spans)[number]) => x.start < y.end && y.start < x.end;
    for (const x of spans) {
      for (const y of spans) {
        if (x !== y && x.customer === y.customer) expect(overlaps(x, y), `customer ${x.customer}`).toBe(false);
      }
    }
    // The first run of each customer was admitted at once, so they overlapped each other.
    const firstOf = (c: string) => spans.find((s) => s.customer === c) as (typeof spans)[number];
    expect(overlaps(firstOf('a'), firstOf('b'))).toBe(true);
    expect(overlaps(firstOf('a'), firstOf('c'))).toBe(true);
  });

  it("'cancel-newest' cancels the new run with a ConcurrencyLimitError and keeps the old one", async () => {
    const ex = makeExecutor();
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const single = workflow('single', {
      input: z.object({ i: z.number() }),
      maxRuns: 1,
      onConcurrencyLimit: 'cancel-newest',
    }).step('work', async (ctx) => {
      await held;
      return ctx.input.i;
    });
    const first = await ex.start(single, { i: 1 });
    const second = await ex.start(single, { i: 2 });
    const refused = await second.result();
    expect(refused.status).toBe('cancelled');
    expect(refused.error?.name).toBe(ConcurrencyLimitError.name);
    expect(refused.error?.code).toBe('concurrency_limit');
    expect(refused.error?.message).toContain('single');
    release();
    expect((await first.result()).output).toBe(1);
    // The slot is free again: a third run starts.
    expect((await ex.execute(single, { i: 3 })).output).toBe(3);
  });

  it("'cancel-oldest' cancels the oldest active run (its step signal fires) and starts the new one", async () => {
    const ex = makeExecutor();
    const abortedInputs: number[] = [];
    const single = workflow('single', {
      input: z.object({ i: z.number(), ms: z.number() }),
      maxRuns: 2,
      onConcurrencyLimit: 'cancel-oldest',
    }).step('work', async (ctx) => {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, ctx.input.ms);
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(t);
          abortedInputs.push(ctx.input.i);
          reject(ctx.signal.reason);
        });
      });
      return ctx.input.i;
    });
    const oldest = await ex.start(single, { i: 1, ms: 10_000 });
    const middle = await ex.start(single, { i: 2, ms: 30 });
    const newest = await ex.start(single, { i: 3, ms: 1 });
    const cancelled = await oldest.result();
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.error?.message).toContain(newest.runId);
    expect(abortedInputs).toEqual([1]);
    expect((await middle.result()).output).toBe(2);
    expect((await newest.result()).output).toBe(3);
  });

  it('a parent with maxRuns 1 spawning children of the same workflow does not deadlock', async () => {
    const ex = makeExecutor();
    const recursive: Workflow<{ depth: number }, any, number> = workflow('recursive', {
      input: z.object({ depth: z.number() }),
      maxRuns: 1,
    }).step('node', async (ctx): Promise<number> => {
      if (ctx.input.depth === 0) return 1;
      const kids = [0, 1, 2].map(() => ctx.spawnWorkflow(recursive, { depth: ctx.input.depth - 1 }));
      return 1 + (await ctx.join(kids)).reduce((a, b) => a + b, 0);
    });
    const first = await ex.start(recursive, { depth: 2 });
    const second = await ex.start(recursive, { depth: 1 });
    expect((await ex.store.getRun(second.runId))?.status).toBe('queued');
    // 1 + 3 * (1 + 3) = 13 nodes in the first tree, 4 in the second.
    expect((await first.result()).output).toBe(13);
    expect((await second.result()).output).toBe(4);
  });
});
