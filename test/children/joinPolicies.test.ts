import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type ChildOutcome,
  ChildWorkflowError,
  MemoryStore,
  type QuorumResult,
  WorkflowExecutor,
  workflow,
} from '../../src/index.js';

/** Runs ids whose step saw its AbortSignal fire. */
const aborted = new Set<string>();

/** Waits `ms` (or until its signal fires), then returns `value` or throws when `fail` is set. */
const sleeper = workflow('sleeper', {
  input: z.object({ ms: z.number(), value: z.number(), fail: z.boolean().optional() }),
}).step('work', async (ctx) => {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ctx.input.ms);
    ctx.signal.addEventListener('abort', () => {
      clearTimeout(timer);
      aborted.add(ctx.runId);
      reject(ctx.signal.reason);
    });
  });
  if (ctx.input.fail) throw new Error(`boom ${ctx.input.value}`);
  return ctx.input.value;
});

let executor: WorkflowExecutor | undefined;
afterEach(async () => {
  await executor?.cleanup();
  executor = undefined;
  aborted.clear();
});

function makeExecutor(): WorkflowExecutor {
  executor = new WorkflowExecutor({ store: new MemoryStore(), workflows: [sleeper] });
  return executor;
}

describe('join (policy all)', () => {
  it('returns the outputs in spawn order, not in finishing order', async () => {
    const ex = makeExecutor();
    const parent = workflow('parent').step('fan', (ctx) =>
      ctx.join([40, 5, 25, 1].map((ms, i) => ctx.spawnWorkflow(sleeper, { ms, value: i * 10 }))),
    );
    const result = await ex.execute(parent, undefined);
    expect(result.status).toBe('succeeded');
    expect(result.output).toEqual([0, 10, 20, 30]);
  });

  it("rejects with a ChildWorkflowError naming the failed child's run id and its error", async () => {
    const ex = makeExecutor();
    let caught: unknown;
    let failedRunId = '';
    const parent = workflow('parent').step('fan', async (ctx) => {
      const ok = ctx.spawnWorkflow(sleeper, { ms: 1, value: 1 });
      const bad = ctx.spawnWorkflow(sleeper, { ms: 5, value: 2, fail: true });
      failedRunId = bad.runId;
      try {
        await ctx.join([ok, bad]);
      } catch (error) {
        caught = error;
        throw error;
      }
    });
    const result = await ex.execute(parent, undefined);
    expect(result.status).toBe('failed');
    expect(caught).toBeInstanceOf(ChildWorkflowError);
    const error = caught as ChildWorkflowError;
    expect(error.childRunId).toBe(failedRunId);
    expect(error.workflow).toBe('sleeper');
    expect(error.childStatus).toBe('failed');
    expect(error.message).toContain(failedRunId);
    expect(error.message).toContain('boom 2');
    expect(JSON.stringify(result.error)).toContain('boom 2');
  });
});

describe('joinSettled', () => {
  it('returns every outcome, successes and failures, in spawn order', async () => {
    const ex = makeExecutor();
    let ids: string[] = [];
    let outcomes: Array<ChildOutcome<number>> = [];
    const parent = workflow('parent').step('fan', async (ctx) => {
      const handles = [
        ctx.spawnWorkflow(sleeper, { ms: 10, value: 1 }),
        ctx.spawnWorkflow(sleeper, { ms: 1, value: 2, fail: true }),
        ctx.spawnWorkflow(sleeper, { ms: 5, value: 3 }),
      ];
      ids = handles.map((h) => h.runId);
      outcomes = await ctx.joinSettled(handles);
      return outcomes.map((o) => o.status);
    });
    const result = await ex.execute(parent, undefined);
    expect(result.output).toEqual(['succeeded', 'failed', 'succeeded']);
    expect(outcomes.map((o) => o.runId)).toEqual(ids);
    expect(outcomes[0]).toEqual({ status: 'succeeded', runId: ids[0], output: 1 });
    expect(outcomes[2]).toEqual({ status: 'succeeded', runId: ids[2], output: 3 });
    const failed = outcomes[1];
    expect(failed?.status).toBe('failed');
    expect(failed && 'error' in failed ? JSON.stringify(failed.error) : '').toContain('boom 2');
  });
});

describe("join with policy 'any'", () => {
  it('returns the first success and cancels the others (status cancelled, their step signals fired)', async () => {
    const ex = makeExecutor();
    let ids: string[] = [];
    let quorum: QuorumResult<number> | undefined;
    const parent = workflow('parent').step('race', async (ctx) => {
      const handles = [5000, 5, 5000].map((ms, i) => ctx.spawnWorkflow(sleeper, { ms, value: i }));
      ids = handles.map((h) => h.runId);
      quorum = await ctx.join(handles, { policy: 'any' });
      return quorum.counted[0]?.output;
    });
    const result = await ex.execute(parent, undefined);
    expect(result.status).toBe('succeeded');
    expect(result.output).toBe(1);
    expect(quorum?.counted).toEqual([{ index: 1, runId: ids[1], output: 1 }]);
    expect([...(quorum?.cancelled ?? [])].sort()).toEqual([ids[0], ids[2]].sort());
    expect(quorum?.failed).toEqual([]);
    for (const id of [ids[0], ids[2]] as string[]) {
      expect((await ex.store.getRun(id))?.status).toBe('cancelled');
      expect(aborted.has(id)).toBe(true);
    }
    expect((await ex.store.getRun(ids[1] as string))?.status).toBe('succeeded');
    expect(aborted.has(ids[1] as string)).toBe(false);
  });

  it('cancels the losers without recording starts for the steps that never ran', async () => {
    executor = new WorkflowExecutor({ store: new MemoryStore(), workflows: [sleeper], maxParallelNodes: 2 });
    const ex = executor;
    const parent = workflow('parent').step('race', async (ctx) => {
      const handles = Array.from({ length: 50 }, (_, i) =>
        ctx.spawnWorkflow(sleeper, { ms: i === 0 ? 1 : 5000, value: i }),
      );
      return (await ctx.join(handles, { policy: 'any' })).counted.map((c) => c.index);
    });
    const result = await ex.execute(parent, undefined);
    expect(result.output).toEqual([0]);
    expect(await ex.store.countRuns({ parentRunId: result.runId })).toEqual({ succeeded: 1, cancelled: 49 });
    const childStarts = (await ex.store.listEvents({ limit: 100_000 })).filter(
      (e) => e.type === 'step_started' && e.runId !== result.runId,
    );
    // Two slots: the winner and at most one other child (then the winner's slot goes to the parent).
    expect(childStarts.length).toBeLessThanOrEqual(3);
  });

  it('skips failures while a success is still possible, and reports them', async () => {
    const ex = makeExecutor();
    const parent = workflow('parent').step('race', async (ctx) => {
      const handles = [
        ctx.spawnWorkflow(sleeper, { ms: 1, value: 0, fail: true }),
        ctx.spawnWorkflow(sleeper, { ms: 30, value: 1 }),
      ];
      const q = await ctx.join(handles, { policy: 'any' });
      return { counted: q.counted.map((c) => c.index), failed: q.failed.map((f) => f.index) };
    });
    const result = await ex.execute(parent, undefined);
    expect(result.output).toEqual({ counted: [1], failed: [0] });
  });

  it('rejects with ChildWorkflowError when every child failed', async () => {
    const ex = makeExecutor();
    let caught: unknown;
    const parent = workflow('parent').step('race', async (ctx) => {
      const handles = [1, 2].map((ms) => ctx.spawnWorkflow(sleeper, { ms, value: ms, fail: true }));
      try {
        return await ctx.join(handles, { policy: 'any' });
      } catch (error) {
        caught = error;
        return 'none';
      }
    });
    const result = await ex.execute(parent, undefined);
    expect(result.output).toBe('none');
    expect(caught).toBeInstanceOf(ChildWorkflowError);
  });
});

describe('join with policy { atLeast: k }', () => {
  it('resolves once k children succeeded, says which counted, and cancels the rest', async () => {
    const ex = makeExecutor();
    let ids: string[] = [];
    const parent = workflow('parent').step('quorum', async (ctx) => {
      const handles = [5000, 20, 1, 5000, 10].map((ms, i) => ctx.spawnWorkflow(sleeper, { ms, value: i * 100 }));
      ids = handles.map((h) => h.runId);
      return ctx.join(handles, { policy: { atLeast: 3 } });
    });
    const result = await ex.execute(parent, undefined);
    expect(result.status).toBe('succeeded');
    const q = result.output as QuorumResult<number>;
    // Counted in the order they finished: 1 ms, 10 ms, 20 ms.
    expect(q.counted).toEqual([
      { index: 2, runId: ids[2], output: 200 },
      { index: 4, runId: ids[4], output: 400 },
      { index: 1, runId: ids[1], output: 100 },
    ]);
    expect([...q.cancelled].sort()).toEqual([ids[0], ids[3]].sort());
    const counts = await ex.store.countRuns({ parentRunId: result.runId });
    expect(counts).toEqual({ succeeded: 3, cancelled: 2 });
    expect(aborted.has(ids[0] as string) && aborted.has(ids[3] as string)).toBe(true);
  });

  it('rejects once too few successes remain possible', async () => {
    const ex = makeExecutor();
    let caught: unknown;
    const parent = workflow('parent').step('quorum', async (ctx) => {
      const handles = [
        ctx.spawnWorkflow(sleeper, { ms: 1, value: 0, fail: true }),
        ctx.spawnWorkflow(sleeper, { ms: 2, value: 1, fail: true }),
        ctx.spawnWorkflow(sleeper, { ms: 3, value: 2 }),
      ];
      try {
        await ctx.join(handles, { policy: { atLeast: 2 } });
        return 'met';
      } catch (error) {
        caught = error;
        return 'not met';
      }
    });
    const result = await ex.execute(parent, undefined);
    expect(result.output).toBe('not met');
    expect(caught).toBeInstanceOf(ChildWorkflowError);
    expect((caught as Error).message).toContain('too few');
  });

  it('refuses a quorum larger than the number of children', async () => {
    const ex = makeExecutor();
    const parent = workflow('parent').step('quorum', (ctx) =>
      ctx.join([ctx.spawnWorkflow(sleeper, { ms: 1, value: 1 })], { policy: { atLeast: 2 } }),
    );
    const result = await ex.execute(parent, undefined);
    expect(result.status).toBe('failed');
    expect(result.error?.cause?.code).toBe('invalid_join');
    expect(result.error?.cause?.message).toContain('{ atLeast: 2 } needs a whole number from 1 to 1');
  });
});
