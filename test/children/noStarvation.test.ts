import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MemoryStore, type Workflow, WorkflowExecutor, workflow } from '../../src/index.js';

let executor: WorkflowExecutor | undefined;
afterEach(async () => {
  await executor?.cleanup();
  executor = undefined;
});

const item = workflow('item', { input: z.object({ i: z.number() }) }).step('work', async (ctx) => {
  await new Promise((resolve) => setImmediate(resolve));
  return ctx.input.i;
});

describe('no starvation: a parent waiting in join does not hold the slot its children need', () => {
  it('100 children finish under maxParallelNodes 1', async () => {
    executor = new WorkflowExecutor({ store: new MemoryStore(), maxParallelNodes: 1 });
    const parent = workflow('parent').step('fan', async (ctx) => {
      const outputs = await ctx.join(Array.from({ length: 100 }, (_, i) => ctx.spawnWorkflow(item, { i })));
      return outputs.reduce((a, b) => a + b, 0);
    });
    const result = await executor.execute(parent, undefined);
    expect(result.status).toBe('succeeded');
    expect(result.output).toBe((99 * 100) / 2);
    expect(await executor.store.countRuns({ parentRunId: result.runId })).toEqual({ succeeded: 100 });
  });

  it('Promise.all over handle.result() finishes under maxParallelNodes 1', async () => {
    executor = new WorkflowExecutor({ store: new MemoryStore(), maxParallelNodes: 1 });
    const parent = workflow('parent').step('fan', async (ctx) => {
      const outputs = await Promise.all(
        Array.from({ length: 20 }, (_, i) => ctx.spawnWorkflow(item, { i })).map((h) => h.result()),
      );
      return outputs.reduce((a, b) => a + b, 0);
    });
    const result = await executor.execute(parent, undefined);
    expect(result.output).toBe((19 * 20) / 2);
  });

  it('a parent step whose DAG sibling also waits still lets the children run (maxParallelNodes 1)', async () => {
    executor = new WorkflowExecutor({ store: new MemoryStore(), maxParallelNodes: 1 });
    const parent = workflow('parent')
      .step('left', (ctx) => ctx.join(Array.from({ length: 10 }, (_, i) => ctx.spawnWorkflow(item, { i }))))
      .step('right', (ctx) => ctx.join(Array.from({ length: 10 }, (_, i) => ctx.spawnWorkflow(item, { i: i + 10 }))))
      .step('sum', { parents: ['left', 'right'] }, (ctx) =>
        [...ctx.parent('left'), ...ctx.parent('right')].reduce((a, b) => a + b, 0),
      );
    const result = await executor.execute(parent, undefined);
    expect(result.output).toBe((19 * 20) / 2);
  });

  // Levels 1 (the root) to 5: every run above level 5 spawns 4 runs of the same workflow and sums
  // their outputs; a level-5 run returns 1. Leaves: 4^4 = 256. Runs: 1 + 4 + 16 + 64 + 256 = 341.
  const tree: Workflow<{ level: number }, any, number> = workflow('tree', {
    input: z.object({ level: z.number() }),
  }).step('node', async (ctx): Promise<number> => {
    if (ctx.input.level === 5) return 1;
    const handles = [0, 1, 2, 3].map(() => ctx.spawnWorkflow(tree, { level: ctx.input.level + 1 }));
    const sums = await ctx.join(handles);
    return sums.reduce((a, b) => a + b, 0);
  });

  it.each([2, 1])('a tree 5 levels deep and 4 wide finishes under maxParallelNodes %i', async (maxParallelNodes) => {
    executor = new WorkflowExecutor({ store: new MemoryStore(), maxParallelNodes });
    const result = await executor.execute(tree, { level: 1 });
    expect(result.status).toBe('succeeded');
    expect(result.output).toBe(256);
    expect(await executor.store.countRuns({ rootRunId: result.runId })).toEqual({ succeeded: 341 });
  });
});
