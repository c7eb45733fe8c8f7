import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { hashText } from '../../src/engine/ids.js';
import { MemoryStore, WorkflowExecutor, workflow } from '../../src/index.js';
import { canonicalJson } from '../../src/model/json.js';
import { listAllRuns } from './helpers.js';

const echo = workflow('echo', { input: z.record(z.string(), z.number()) }).step('echo', (ctx) => ctx.input);

/** The documented default key: hash(workflow name + canonical JSON of input), then the ordinal. */
const contentKey = (name: string, input: unknown, ordinal: number) =>
  `${hashText(`${name}\0${canonicalJson(input)}`)}:${ordinal}`;

let executor: WorkflowExecutor | undefined;
afterEach(async () => {
  await executor?.cleanup();
  executor = undefined;
});

function makeExecutor(): WorkflowExecutor {
  executor = new WorkflowExecutor({ store: new MemoryStore(), workflows: [echo] });
  return executor;
}

describe('idempotent spawn: a child is identified by (parent run, parent step, key)', () => {
  it("uses the caller's key as the spawn key", async () => {
    const ex = makeExecutor();
    const parent = workflow('parent').step('fan', (ctx) => {
      const h = ctx.spawnWorkflow(echo, { a: 1 }, { key: 'order-42' });
      return ctx.join([h]).then(() => h.key);
    });
    const result = await ex.execute(parent, undefined);
    expect(result.output).toBe('order-42');
    const [child] = await listAllRuns(ex.store, { parentRunId: result.runId });
    expect(child?.spawnKey).toBe('order-42');
  });

  it('accepts idempotencyKey as an alias of key', async () => {
    const ex = makeExecutor();
    const parent = workflow('parent').step(
      'fan',
      (ctx) => ctx.spawnWorkflow(echo, { a: 1 }, { idempotencyKey: 'k' }).key,
    );
    expect((await ex.execute(parent, undefined)).output).toBe('k');
  });

  it('returns the same child when one step spawns the same key twice', async () => {
    const ex = makeExecutor();
    const parent = workflow('parent').step('fan', async (ctx) => {
      const first = ctx.spawnWorkflow(echo, { a: 1 }, { key: 'same' });
      const second = ctx.spawnWorkflow(echo, { a: 2 }, { key: 'same' });
      return { same: first.runId === second.runId, outputs: await ctx.join([first, second]) };
    });
    const result = await ex.execute(parent, undefined);
    expect(result.output).toEqual({ same: true, outputs: [{ a: 1 }, { a: 1 }] });
    expect(await ex.store.countRuns({ parentRunId: result.runId })).toEqual({ succeeded: 1 });
  });

  it('without a key, hashes the workflow name and canonical input and adds the ordinal among identical inputs', async () => {
    const ex = makeExecutor();
    const parent = workflow('parent').step('fan', async (ctx) => {
      const handles = [
        ctx.spawnWorkflow(echo, { a: 1, b: 2 }),
        ctx.spawnWorkflow(echo, { c: 3 }),
        ctx.spawnWorkflow(echo, { a: 1, b: 2 }),
      ];
      await ctx.join(handles);
      return handles.map((h) => h.key);
    });
    const result = await ex.execute(parent, undefined);
    expect(result.output).toEqual([
      contentKey('echo', { a: 1, b: 2 }, 0),
      contentKey('echo', { c: 3 }, 0),
      contentKey('echo', { a: 1, b: 2 }, 1),
    ]);
    const children = await listAllRuns(ex.store, { parentRunId: result.runId });
    expect(children.map((c) => c.spawnKey).sort()).toEqual([...(result.output as string[])].sort());
  });

  it('makes two spawns with the same input two children', async () => {
    const ex = makeExecutor();
    const parent = workflow('parent').step('fan', async (ctx) => {
      const a = ctx.spawnWorkflow(echo, { n: 7 });
      const b = ctx.spawnWorkflow(echo, { n: 7 });
      return { distinct: a.runId !== b.runId, outputs: await ctx.join([a, b]) };
    });
    const result = await ex.execute(parent, undefined);
    expect(result.output).toEqual({ distinct: true, outputs: [{ n: 7 }, { n: 7 }] });
    expect(await ex.store.countRuns({ parentRunId: result.runId })).toEqual({ succeeded: 2 });
  });

  it('treats {a:1,b:2} and {b:2,a:1} as the same content (the second is ordinal 1 of the same hash)', async () => {
    const ex = makeExecutor();
    const parent = workflow('parent').step('fan', async (ctx) => {
      const a = ctx.spawnWorkflow(echo, { a: 1, b: 2 });
      const b = ctx.spawnWorkflow(echo, { b: 2, a: 1 });
      await ctx.join([a, b]);
      return [a.key, b.key];
    });
    const result = await ex.execute(parent, undefined);
    const [first, second] = result.output as [string, string];
    expect(first.split(':')[0]).toBe(second.split(':')[0]);
    expect(first).toBe(contentKey('echo', { b: 2, a: 1 }, 0));
    expect(second).toBe(contentKey('echo', { a: 1, b: 2 }, 1));
  });

  it('gives different workflows with the same input different keys', async () => {
    const ex = makeExecutor();
    const other = workflow('other', { input: z.record(z.string(), z.number()) }).step('x', () => 0);
    const parent = workflow('parent').step('fan', (ctx) => [
      ctx.spawnWorkflow(echo, { a: 1 }).key,
      ctx.spawnWorkflow(other, { a: 1 }).key,
    ]);
    const result = await ex.execute(parent, undefined);
    expect(result.output).toEqual([contentKey('echo', { a: 1 }, 0), contentKey('other', { a: 1 }, 0)]);
  });

  it('lets a step await plain Promise.all over handle.result()', async () => {
    const ex = makeExecutor();
    const parent = workflow('parent').step('fan', (ctx) =>
      Promise.all([1, 2, 3].map((n) => ctx.spawnWorkflow(echo, { n }).result())),
    );
    const result = await ex.execute(parent, undefined);
    expect(result.output).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  it('accepts a registered workflow by name', async () => {
    const ex = makeExecutor();
    const parent = workflow('parent').step('fan', (ctx) =>
      ctx.join([ctx.spawnWorkflow<typeof echo>('echo', { x: 1 })]),
    );
    expect((await ex.execute(parent, undefined)).output).toEqual([{ x: 1 }]);
  });
});
