import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SqliteStore, type StepContext, type Store, WorkflowExecutor, workflow } from '../../src/index.js';
import { listAllRuns, removeTempDirs, storeKinds, tempDir, until } from './helpers.js';

const N = 8;

/** Side effects per child key: how many times each child's step got past its work. */
const effects = new Map<string, number>();
const started = new Set<string>();
let gate = openGate();

function openGate(): { promise: Promise<void>; open: () => void; isOpen: boolean } {
  let open = () => {};
  const promise = new Promise<void>((resolve) => (open = resolve));
  const g = { promise, isOpen: false, open: () => {} };
  g.open = () => {
    g.isOpen = true;
    open();
  };
  return g;
}

function closedGate(): void {
  gate = openGate();
}

/** Rejects when the step's signal fires, so a closed executor really stops the attempt. */
function aborted(ctx: StepContext): Promise<never> {
  return new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
}

const child = workflow('counted-child', { input: z.object({ key: z.string() }) }).step('work', async (ctx) => {
  started.add(ctx.input.key);
  await Promise.race([gate.promise, aborted(ctx)]);
  effects.set(ctx.input.key, (effects.get(ctx.input.key) ?? 0) + 1);
  return ctx.input.key.length;
});

function spawnAll(ctx: StepContext) {
  return Array.from({ length: N }, (_, i) => ctx.spawnWorkflow(child, { key: `child-${i}` }));
}

let executor: WorkflowExecutor | undefined;
afterEach(async () => {
  await executor?.cleanup();
  executor = undefined;
  effects.clear();
  started.clear();
  closedGate();
});
afterAll(removeTempDirs);

function expectEachEffectOnce(): void {
  expect([...effects.keys()].sort()).toEqual(Array.from({ length: N }, (_, i) => `child-${i}`).sort());
  for (const [key, count] of effects) expect(count, key).toBe(1);
}

async function expectExactlyNChildren(store: Store, parentRunId: string): Promise<void> {
  const children = await listAllRuns(store, { parentRunId });
  expect(children).toHaveLength(N);
  expect(new Set(children.map((c) => c.spawnKey)).size).toBe(N);
  expect(await store.countRuns({ parentRunId })).toEqual({ succeeded: N });
}

describe.each(storeKinds)('a retried parent step never spawns twice ($kind)', ({ make }) => {
  it('re-spawning after the join finished returns the finished children with their results', async () => {
    gate.open();
    executor = new WorkflowExecutor({ store: make(), workflows: [child] });
    const parent = workflow('parent').step('fan', { retries: 1, backoff: { initialMs: 1 } }, async (ctx) => {
      const outputs = await ctx.join(spawnAll(ctx));
      if (ctx.attempt === 1) throw new Error('first attempt fails after its join');
      return outputs.reduce((a, b) => a + b, 0);
    });
    const result = await executor.execute(parent, undefined);
    expect(result.status).toBe('succeeded');
    expect(result.context.nodeResults.fan?.attempts).toBe(2);
    expect(result.output).toBe(N * 'child-0'.length);
    await expectExactlyNChildren(executor.store, result.runId);
    expectEachEffectOnce();
  });

  it('a retry while the children still run re-attaches to them', async () => {
    executor = new WorkflowExecutor({ store: make(), workflows: [child] });
    const parent = workflow('parent').step('fan', { retries: 1, backoff: { initialMs: 1 } }, async (ctx) => {
      const handles = spawnAll(ctx);
      if (ctx.attempt === 1) throw new Error('first attempt fails before its join');
      setTimeout(() => gate.open(), 5);
      return (await ctx.join(handles)).length;
    });
    const result = await executor.execute(parent, undefined);
    expect(result.output).toBe(N);
    await expectExactlyNChildren(executor.store, result.runId);
    expectEachEffectOnce();
  });
});

const parentOfCounted = workflow('parent-of-counted').step('fan', async (ctx) => {
  const outputs = await ctx.join(spawnAll(ctx));
  return outputs.length;
});

describe.each(storeKinds)('pausing a parent while its children run ($kind)', ({ make }) => {
  it('and resuming it spawns nothing twice', async () => {
    executor = new WorkflowExecutor({ store: make(), workflows: [child, parentOfCounted] });
    const handle = await executor.start(parentOfCounted, undefined);
    await until(() => started.size === N);
    const paused = await executor.pause(handle.runId);
    expect(paused.status).toBe('paused');
    gate.open();
    await until(() => effects.size === N);
    const resumed = await executor.resume(handle.runId);
    const result = await resumed.result();
    expect(result.status).toBe('succeeded');
    expect(result.output).toBe(N);
    await expectExactlyNChildren(executor.store, handle.runId);
    expectEachEffectOnce();
  });
});

describe('pausing a parent, restarting the executor and resuming (sqlite)', () => {
  it('re-attaches the re-run step to the children of the first process', async () => {
    const file = path.join(tempDir(), 'braid.db');
    const first = new WorkflowExecutor({ store: new SqliteStore({ path: file }), workflows: [child, parentOfCounted] });
    executor = first;
    const handle = await first.start(parentOfCounted, undefined);
    await until(() => started.size === N);
    await first.pause(handle.runId);
    // Closing aborts the children's running steps: they were interrupted, so they run again.
    await first.cleanup();
    expect(effects.size).toBe(0);

    started.clear();
    const second = new WorkflowExecutor({
      store: new SqliteStore({ path: file }),
      workflows: [child, parentOfCounted],
    });
    executor = second;
    await second.open();
    await until(() => started.size === N);
    gate.open();
    await until(() => effects.size === N);
    const result = await (await second.resume(handle.runId)).result();
    expect(result.status).toBe('succeeded');
    expect(result.output).toBe(N);
    await expectExactlyNChildren(second.store, handle.runId);
    expectEachEffectOnce();
    const steps = await second.store.getSteps(handle.runId);
    expect(steps.find((s) => s.name === 'fan')?.attempts).toBe(2);
  });

  it('a restart while the parent waits in join finishes without new children', async () => {
    const file = path.join(tempDir(), 'braid.db');
    const first = new WorkflowExecutor({ store: new SqliteStore({ path: file }), workflows: [child, parentOfCounted] });
    executor = first;
    const handle = await first.start(parentOfCounted, undefined);
    await until(() => started.size === N);
    await first.cleanup();

    const second = new WorkflowExecutor({
      store: new SqliteStore({ path: file }),
      workflows: [child, parentOfCounted],
    });
    executor = second;
    gate.open();
    const result = await (await second.getHandle(handle.runId)).result();
    expect(result.status).toBe('succeeded');
    expect(result.output).toBe(N);
    await expectExactlyNChildren(second.store, handle.runId);
    expectEachEffectOnce();
  });
});
