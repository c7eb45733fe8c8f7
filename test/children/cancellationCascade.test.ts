import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ChildWorkflowError, MemoryStore, SqliteStore, WorkflowExecutor, workflow } from '../../src/index.js';
import { listAllRuns, removeTempDirs, tempDir, until } from './helpers.js';

/** Run ids whose step saw its AbortSignal fire, and run ids whose step started. */
const aborted = new Set<string>();
const started = new Set<string>();

/** Blocks until its signal fires (or `ms` passes). */
const blocker = workflow('blocker', { input: z.object({ i: z.number(), ms: z.number().optional() }) }).step(
  'block',
  async (ctx) => {
    started.add(ctx.runId);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, ctx.input.ms ?? 60_000);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(t);
        aborted.add(ctx.runId);
        reject(ctx.signal.reason);
      });
    });
    return ctx.input.i;
  },
);

/** Spawns blockers that themselves spawn blockers: the cascade must reach grandchildren. */
const middle = workflow('middle', { input: z.object({ i: z.number() }) }).step('spawn', async (ctx) => {
  started.add(ctx.runId);
  return ctx.join([0, 1].map((j) => ctx.spawnWorkflow(blocker, { i: ctx.input.i * 10 + j })));
});

const failing = workflow('failing', { input: z.object({ i: z.number() }) }).step('fail', (ctx) => {
  throw new Error(`child ${ctx.input.i} failed`);
});

let executor: WorkflowExecutor | undefined;
afterEach(async () => {
  await executor?.cleanup();
  executor = undefined;
  aborted.clear();
  started.clear();
});
afterAll(removeTempDirs);

function makeExecutor(): WorkflowExecutor {
  executor = new WorkflowExecutor({ store: new MemoryStore(), workflows: [blocker, middle, failing] });
  return executor;
}

describe('cancellation cascades to child runs', () => {
  it('cancelling a parent cancels its running children and grandchildren (signals fire, statuses cancelled)', async () => {
    const ex = makeExecutor();
    const parent = workflow('parent')
      .step('before', () => 'done before')
      .step('fan', { parents: ['before'] }, (ctx) =>
        ctx.join<unknown>([ctx.spawnWorkflow(blocker, { i: 1 }), ctx.spawnWorkflow(middle, { i: 2 })]),
      );
    const handle = await ex.start(parent, undefined);
    // parent's 2 children, middle's 2 children (blocker 1 and middle count once each in `started`).
    await until(() => started.size === 4);
    const result = await ex.cancel(handle.runId, 'operator said stop');
    expect(result.status).toBe('cancelled');
    expect(result.cancelled).toBe(true);
    expect(result.partialResults).toEqual({ before: 'done before' });
    expect(result.error?.message).toContain('operator said stop');

    const descendants = await listAllRuns(ex.store, { rootRunId: handle.runId });
    const others = descendants.filter((r) => r.id !== handle.runId);
    expect(others).toHaveLength(4);
    await until(() => aborted.size === 3);
    for (const run of others) {
      expect(run.status, run.workflow).toBe('cancelled');
      if (run.workflow === 'blocker') expect(aborted.has(run.id)).toBe(true);
    }
    expect(await ex.store.countRuns({ rootRunId: handle.runId })).toEqual({ cancelled: 5 });
  });

  it('records no step start for children cancelled before their step could run', async () => {
    executor = new WorkflowExecutor({ store: new MemoryStore(), workflows: [blocker], maxParallelNodes: 4 });
    const parent = workflow('parent').step('fan', (ctx) =>
      ctx.join(Array.from({ length: 200 }, (_, i) => ctx.spawnWorkflow(blocker, { i }))),
    );
    const handle = await executor.start(parent, undefined);
    await until(() => started.size === 4);
    await executor.cancel(handle.runId);
    expect(await executor.store.countRuns({ parentRunId: handle.runId })).toEqual({ cancelled: 200 });
    const childStarts = (await executor.store.listEvents({ limit: 100_000 })).filter(
      (e) => e.type === 'step_started' && e.runId !== handle.runId,
    );
    expect(childStarts.map((e) => e.runId).sort()).toEqual([...started].sort());
  });

  it('cancels children still queued behind a concurrency limit', async () => {
    const ex = makeExecutor();
    const limited = workflow('limited', { input: z.object({ i: z.number() }), maxRuns: 1 }).step('x', async (ctx) => {
      started.add(ctx.runId);
      await new Promise<void>((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
    });
    const parent = workflow('parent').step('fan', (ctx) =>
      ctx.join([0, 1, 2].map((i) => ctx.spawnWorkflow(limited, { i }))),
    );
    const handle = await ex.start(parent, undefined);
    await until(() => started.size === 1);
    expect(await ex.store.countRuns({ parentRunId: handle.runId })).toEqual({ running: 1, queued: 2 });
    await ex.cancel(handle.runId);
    expect(await ex.store.countRuns({ parentRunId: handle.runId })).toEqual({ cancelled: 3 });
    // The slot of the limited workflow was given back.
    expect(
      (
        await ex.execute(
          workflow('limited-free').step('x', () => 1),
          undefined,
        )
      ).output,
    ).toBe(1);
    expect(started.size).toBe(1);
  });

  it('cancelling a parent paused before a restart cancels the children the new process recovered', async () => {
    const file = path.join(tempDir(), 'braid.db');
    const parent = workflow('parent').step('fan', (ctx) =>
      ctx.join([0, 1, 2].map((i) => ctx.spawnWorkflow(blocker, { i }))),
    );
    const first = new WorkflowExecutor({ store: new SqliteStore({ path: file }), workflows: [blocker, parent] });
    executor = first;
    const handle = await first.start(parent, undefined);
    await until(() => started.size === 3);
    await first.pause(handle.runId);
    await first.cleanup();

    started.clear();
    aborted.clear();
    const second = new WorkflowExecutor({ store: new SqliteStore({ path: file }), workflows: [blocker, parent] });
    executor = second;
    await second.open();
    await until(() => started.size === 3);
    // The parent stays paused, so its step has not re-run and read its children's links.
    const result = await second.cancel(handle.runId);
    expect(result.status).toBe('cancelled');
    expect(await second.store.countRuns({ parentRunId: handle.runId })).toEqual({ cancelled: 3 });
    expect(aborted.size).toBe(3);
  });

  it("a parent run's timeout ends it timed_out and cancels its children", async () => {
    const ex = makeExecutor();
    const parent = workflow('parent', { timeoutSeconds: 0.1 }).step('fan', (ctx) =>
      ctx.join([0, 1, 2].map((i) => ctx.spawnWorkflow(blocker, { i }))),
    );
    const result = await ex.execute(parent, undefined);
    expect(result.status).toBe('timed_out');
    expect(result.error?.code).toBe('run_timeout');
    const children = await listAllRuns(ex.store, { parentRunId: result.runId });
    expect(children).toHaveLength(3);
    for (const child of children) {
      expect(child.status).toBe('cancelled');
      expect(aborted.has(child.id)).toBe(true);
    }
  });
});

describe("a child's failure fails the parent only through join", () => {
  it('the parent can catch ChildWorkflowError and return something else', async () => {
    const ex = makeExecutor();
    const parent = workflow('parent').step('fan', async (ctx) => {
      try {
        return await ctx.join<unknown>([
          ctx.spawnWorkflow(blocker, { i: 1, ms: 1 }),
          ctx.spawnWorkflow(failing, { i: 2 }),
        ]);
      } catch (error) {
        if (error instanceof ChildWorkflowError) return { fallback: true, failed: error.workflow };
        throw error;
      }
    });
    const result = await ex.execute(parent, undefined);
    expect(result.status).toBe('succeeded');
    expect(result.output).toEqual({ fallback: true, failed: 'failing' });
    // The parent ended while the sibling could still be running; the sibling was then cancelled.
    const counts = await ex.store.countRuns({ parentRunId: result.runId });
    expect(counts.failed).toBe(1);
    expect((counts.succeeded ?? 0) + (counts.cancelled ?? 0)).toBe(1);
  });

  it('joinSettled lets the parent succeed with partial results', async () => {
    const ex = makeExecutor();
    const parent = workflow('parent').step('fan', async (ctx) => {
      const outcomes = await ctx.joinSettled([
        ctx.spawnWorkflow(blocker, { i: 7, ms: 1 }),
        ctx.spawnWorkflow(failing, { i: 8 }),
      ]);
      return outcomes.map((o) => (o.status === 'succeeded' ? o.output : o.status));
    });
    const result = await ex.execute(parent, undefined);
    expect(result.output).toEqual([7, 'failed']);
  });

  it('an unjoined failing child does not fail the parent', async () => {
    const ex = makeExecutor();
    let childId = '';
    const parent = workflow('parent')
      .step('spawn', (ctx) => {
        childId = ctx.spawnWorkflow(failing, { i: 1 }).runId;
        return 'spawned';
      })
      .step('later', { parents: ['spawn'] }, async () => {
        await until(() => aborted.size > 0 || started.size > 0, 50).catch(() => {});
        return 'fine';
      });
    const result = await ex.execute(parent, undefined);
    expect(result.status).toBe('succeeded');
    expect((await ex.store.getRun(childId))?.status).toBe('failed');
  });

  it('a child cancelled on its own reaches the join as a cancelled child', async () => {
    const ex = makeExecutor();
    let childIds: string[] = [];
    let caught: unknown;
    const parent = workflow('parent').step('fan', async (ctx) => {
      const handles = [0, 1].map((i) => ctx.spawnWorkflow(blocker, { i, ms: i === 0 ? 60_000 : 1 }));
      childIds = handles.map((h) => h.runId);
      const settled = await ctx.joinSettled(handles);
      try {
        await ctx.join(handles);
      } catch (error) {
        caught = error;
      }
      return settled.map((o) => o.status);
    });
    const handle = await ex.start(parent, undefined);
    await until(() => started.size === 2);
    await ex.cancel(childIds[0] as string, 'not needed');
    const result = await handle.result();
    expect(result.output).toEqual(['cancelled', 'succeeded']);
    expect(caught).toBeInstanceOf(ChildWorkflowError);
    expect((caught as ChildWorkflowError).childStatus).toBe('cancelled');
    expect((caught as ChildWorkflowError).childRunId).toBe(childIds[0]);
  });

  it('a failed join fails the parent run with the child named in its error', async () => {
    const ex = makeExecutor();
    const parent = workflow('parent').step('fan', (ctx) => ctx.join([ctx.spawnWorkflow(failing, { i: 3 })]));
    const result = await ex.execute(parent, undefined);
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('step_failed');
    expect(JSON.stringify(result.error)).toContain('child 3 failed');
    expect(JSON.stringify(result.error)).toContain('ChildWorkflowError');
  });
});
