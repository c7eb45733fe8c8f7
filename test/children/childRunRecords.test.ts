import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MemoryStore, type Workflow, WorkflowExecutor, workflow } from '../../src/index.js';
import { listAllRuns } from './helpers.js';

let executor: WorkflowExecutor | undefined;
afterEach(async () => {
  await executor?.cleanup();
  executor = undefined;
});

const double = workflow('double', { input: z.object({ n: z.number() }) }).step('double', (ctx) => ctx.input.n * 2);

describe('child run records', () => {
  it('carry parentRunId, parentStep, spawnKey and rootRunId, and list and count by parent', async () => {
    executor = new WorkflowExecutor({ store: new MemoryStore() });
    const parent = workflow('parent')
      .step('prepare', () => 3)
      .step('fan', { parents: ['prepare'] }, async (ctx) => {
        const handles = Array.from({ length: ctx.parent('prepare') }, (_, n) =>
          ctx.spawnWorkflow(double, { n }, { key: `n-${n}` }),
        );
        return ctx.join(handles);
      });
    const result = await executor.execute(parent, undefined);
    expect(result.output).toEqual([0, 2, 4]);

    // Children created in the same millisecond list in id order, not spawn order: sort by key.
    const children = (await listAllRuns(executor.store, { parentRunId: result.runId })).sort((a, b) =>
      (a.spawnKey ?? '').localeCompare(b.spawnKey ?? ''),
    );
    expect(children.map((c) => c.spawnKey)).toEqual(['n-0', 'n-1', 'n-2']);
    for (const child of children) {
      expect(child).toMatchObject({
        workflow: 'double',
        status: 'succeeded',
        parentRunId: result.runId,
        parentStep: 'fan',
        rootRunId: result.runId,
      });
      expect(await executor.store.getRun(child.id)).toEqual(child);
    }
    expect(children.map((c) => JSON.parse(c.output ?? 'null'))).toEqual([0, 2, 4]);
    expect(await executor.store.countRuns({ parentRunId: result.runId })).toEqual({ succeeded: 3 });
    expect(await executor.store.countRuns({ parentRunId: result.runId, parentStep: 'prepare' })).toEqual({});
    const top = await executor.store.getRun(result.runId);
    expect(top).toMatchObject({ parentRunId: null, parentStep: null, spawnKey: null, rootRunId: result.runId });
  });

  it('counts children by status while some fail', async () => {
    executor = new WorkflowExecutor({ store: new MemoryStore() });
    const maybe = workflow('maybe', { input: z.object({ n: z.number() }) }).step('x', (ctx) => {
      if (ctx.input.n % 3 === 0) throw new Error(`no ${ctx.input.n}`);
      return ctx.input.n;
    });
    const parent = workflow('parent').step('fan', async (ctx) => {
      const outcomes = await ctx.joinSettled(Array.from({ length: 9 }, (_, n) => ctx.spawnWorkflow(maybe, { n })));
      return outcomes.filter((o) => o.status === 'succeeded').length;
    });
    const result = await executor.execute(parent, undefined);
    expect(result.output).toBe(6);
    expect(await executor.store.countRuns({ parentRunId: result.runId })).toEqual({ succeeded: 6, failed: 3 });
  });

  it('lets children spawn children: three levels, each with the top run as rootRunId', async () => {
    executor = new WorkflowExecutor({ store: new MemoryStore() });
    const leaf = workflow('leaf', { input: z.object({ n: z.number() }) }).step('leaf', (ctx) => ({
      n: ctx.input.n,
      root: ctx.rootRunId,
    }));
    const middle = workflow('middle', { input: z.object({ n: z.number() }) }).step('spawn', async (ctx) => {
      const leaves = await ctx.join([
        ctx.spawnWorkflow(leaf, { n: ctx.input.n * 10 }),
        ctx.spawnWorkflow(leaf, { n: ctx.input.n * 10 + 1 }),
      ]);
      return { root: ctx.rootRunId, leaves };
    });
    const top = workflow('top').step('spawn', (ctx) =>
      ctx.join([ctx.spawnWorkflow(middle, { n: 1 }), ctx.spawnWorkflow(middle, { n: 2 })]),
    );
    const result = await executor.execute(top, undefined);
    const root = result.runId;
    expect(result.output).toEqual([
      {
        root,
        leaves: [
          { n: 10, root },
          { n: 11, root },
        ],
      },
      {
        root,
        leaves: [
          { n: 20, root },
          { n: 21, root },
        ],
      },
    ]);
    const middles = await listAllRuns(executor.store, { parentRunId: root });
    expect(middles).toHaveLength(2);
    for (const m of middles) {
      const leaves = await listAllRuns(executor.store, { parentRunId: m.id });
      expect(leaves).toHaveLength(2);
      for (const l of leaves) expect(l).toMatchObject({ workflow: 'leaf', parentStep: 'spawn', rootRunId: root });
    }
    expect(await executor.store.countRuns({ rootRunId: root })).toEqual({ succeeded: 7 });
  });

  it('may spawn a DAG workflow as a child', async () => {
    executor = new WorkflowExecutor({ store: new MemoryStore() });
    const dag: Workflow<{ x: number }, any, number> = workflow('dag', { input: z.object({ x: z.number() }) })
      .step('a', (ctx) => ctx.input.x + 1)
      .step('b', { parents: ['a'] }, (ctx) => ctx.parent('a') * 2)
      .step('c', { parents: ['a'] }, (ctx) => ctx.parent('a') * 3)
      .step('d', { parents: ['b', 'c'] }, (ctx) => ctx.parent('b') + ctx.parent('c'));
    const parent = workflow('parent').step('fan', (ctx) =>
      ctx.join([1, 2, 3].map((x) => ctx.spawnWorkflow(dag, { x }))),
    );
    const result = await executor.execute(parent, undefined);
    // d = 2(x+1) + 3(x+1) = 5(x+1)
    expect(result.output).toEqual([10, 15, 20]);
    const [child] = await listAllRuns(executor.store, { parentRunId: result.runId });
    const steps = await executor.store.getSteps(child?.id ?? '');
    expect(steps.map((s) => [s.name, s.status]).sort()).toEqual([
      ['a', 'succeeded'],
      ['b', 'succeeded'],
      ['c', 'succeeded'],
      ['d', 'succeeded'],
    ]);
  });
});
