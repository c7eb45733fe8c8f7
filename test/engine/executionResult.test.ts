import { describe, expect, it } from 'vitest';
import { type Workflow, workflow } from '../../src/index.js';
import { deferred, sleep, useEngineFixture, waitUntil } from './helpers.js';

describe('ExecutionResult', () => {
  const fx = useEngineFixture();

  it('describes a successful run field by field', async () => {
    const wf = workflow('result-ok')
      .step('fetch', async (ctx) => {
        await sleep(10);
        return { n: Number(ctx.input) };
      })
      .step('double', { parents: ['fetch'] }, (ctx) => ctx.parent('fetch').n * 2);
    const before = Date.now();
    const result = await fx.executor().execute(wf, 21);

    expect(result.success).toBe(true);
    expect(result.status).toBe('succeeded');
    expect(result.workflow).toBe('result-ok');
    expect(typeof result.runId).toBe('string');
    expect(result.output).toBe(42);
    expect(result.error).toBeUndefined();
    expect(result.cancelled).toBe(false);
    expect(result.paused).toBe(false);
    expect(result.checkpoint).toBeUndefined();
    expect(result.traceId).toBeUndefined();
    expect(result.nodeExecutionOrder).toEqual(['fetch', 'double']);
    expect(result.partialResults).toEqual({ fetch: { n: 21 }, double: 42 });
    expect(result.executionTime).toBeGreaterThanOrEqual(8); // a 10 ms sleep, give or take timer rounding
    expect(result.executionTime).toBeLessThanOrEqual(Date.now() - before);
    expect(result.startTime).toBeGreaterThanOrEqual(before);
    expect(result.endTime).toBe((result.startTime ?? 0) + result.executionTime);

    expect(result.context.workflowId).toBe('result-ok');
    expect(result.context.runId).toBe(result.runId);
    const fetch = result.context.nodeResults.fetch;
    expect(fetch).toMatchObject({
      nodeId: 'fetch',
      status: 'succeeded',
      success: true,
      output: { n: 21 },
      error: undefined,
      attempts: 1,
      cacheHit: false,
      fallbackUsed: false,
      nextNodeId: undefined,
    });
    expect(fetch?.duration).toBeGreaterThanOrEqual(8);
    expect(fetch?.duration).toBe((fetch?.finishedAt ?? 0) - (fetch?.startedAt ?? 0));

    expect(result.metrics).toMatchObject({
      steps: 2,
      succeeded: 2,
      failed: 0,
      skipped: 0,
      cancelled: 0,
      retries: 0,
      cacheHits: 0,
    });
    expect(Object.keys(result.metrics.nodeDurations).sort()).toEqual(['double', 'fetch']);
  });

  it("describes a failed run: the step's error, its attempts and what got done", async () => {
    const wf = workflow('result-failed', { retries: 1, backoff: { initialMs: 1 } })
      .step('ok', () => 'fine')
      .step('boom', { parents: ['ok'] }, (ctx) => {
        throw new Error(`boom on attempt ${ctx.attempt}`);
      })
      .step('never', { parents: ['boom'] }, () => 'unreachable');
    const result = await fx.executor().execute(wf, null);

    expect(result.success).toBe(false);
    expect(result.status).toBe('failed');
    expect(result.output).toBeUndefined();
    expect(result.error?.name).toBe('StepFailedError');
    expect(result.error?.code).toBe('step_failed');
    expect(result.error?.message).toContain('"boom"');
    expect(result.error?.cause?.message).toBe('boom on attempt 2');
    expect(result.partialResults).toEqual({ ok: 'fine' });
    const boom = result.context.nodeResults.boom;
    expect(boom?.status).toBe('failed');
    expect(boom?.success).toBe(false);
    expect(boom?.attempts).toBe(2);
    expect(boom?.error?.message).toBe('boom on attempt 2');
    expect(result.context.nodeResults.never?.status).toBe('cancelled');
    expect(result.metrics).toMatchObject({ succeeded: 1, failed: 1, cancelled: 1, retries: 1 });
  });

  it("makes the caller's global variables visible to every step through ctx.globals", async () => {
    const seen: Record<string, unknown> = {};
    const wf = workflow('globals')
      .step('a', (ctx) => {
        seen.a = { ...ctx.globals };
        ctx.setGlobal('fromA', 'A');
      })
      .step('b', { parents: ['a'] }, (ctx) => {
        seen.b = { ...ctx.globals };
      })
      .step('c', { parents: ['a'] }, (ctx) => {
        seen.c = { ...ctx.globals };
      });
    const result = await fx.executor().execute(wf, null, { globalVariables: { tenant: 't1', limit: 5 } });

    expect(seen).toEqual({
      a: { tenant: 't1', limit: 5 },
      b: { tenant: 't1', limit: 5, fromA: 'A' },
      c: { tenant: 't1', limit: 5, fromA: 'A' },
    });
    expect(result.context.globalVariables).toEqual({ tenant: 't1', limit: 5, fromA: 'A' });
  });

  it("does not write a run's global variables into the caller's object or into another run", async () => {
    const wf = workflow('globals-isolated').step('a', (ctx) => {
      const before = ctx.globals.counter;
      ctx.setGlobal('counter', Number(ctx.globals.counter) + 1);
      return before;
    });
    const executor = fx.executor();
    const shared = { counter: 0 };
    const first = await executor.execute(wf, null, { globalVariables: shared });
    const second = await executor.execute(wf, null, { globalVariables: shared });

    expect(first.output).toBe(0);
    expect(second.output).toBe(0);
    expect(shared).toEqual({ counter: 0 });
  });

  it('refuses global variables that cannot be stored, before a run exists', async () => {
    const executor = fx.executor();
    await expect(
      executor.execute(
        workflow('bad-globals').step('a', () => 1),
        null,
        { globalVariables: { fn: () => 1 } },
      ),
    ).rejects.toMatchObject({ name: 'NotSerializableError' });
    expect((await executor.store.listRuns({})).runs).toEqual([]);
  });

  it('fails the step that sets a global variable that cannot be stored', async () => {
    const wf = workflow('bad-set-global').step('a', (ctx) => {
      ctx.setGlobal('when', 10n);
    });
    const result = await fx.executor().execute(wf, null);
    expect(result.status).toBe('failed');
    expect(result.error?.cause?.name).toBe('NotSerializableError');
    expect(result.error?.cause?.message).toContain('Global variable "when"');
  });

  it("gives each step a context with the run's identity and its attempt", async () => {
    const seen: Array<Record<string, unknown>> = [];
    const wf = workflow('ctx-identity', { backoff: { initialMs: 1 } }).step('s', { retries: 1 }, (ctx) => {
      seen.push({
        runId: ctx.runId,
        rootRunId: ctx.rootRunId,
        workflowName: ctx.workflowName,
        stepName: ctx.stepName,
        attempt: ctx.attempt,
        input: ctx.input,
      });
      if (ctx.attempt === 1) throw new Error('again');
    });
    const result = await fx.executor().execute(wf, { id: 3 });
    const identity = { runId: result.runId, rootRunId: result.runId, workflowName: 'ctx-identity', stepName: 's' };
    expect(seen).toEqual([
      { ...identity, attempt: 1, input: { id: 3 } },
      { ...identity, attempt: 2, input: { id: 3 } },
    ]);
  });

  it('reports a running run through inspect() and its handle', async () => {
    const release = deferred();
    const executor = fx.executor();
    const wf = workflow('inspected')
      .step('a', () => 'A')
      .step('b', { parents: ['a'] }, async () => {
        await release.promise;
        return 'B';
      });
    const handle = await executor.start(wf, null);
    await waitUntil(async () => (await executor.inspect(handle.runId)).nodeExecutionOrder.includes('b'));
    const running = await executor.inspect(handle.runId);

    expect(running.status).toBe('running');
    expect(await handle.status()).toBe('running');
    expect(running.partialResults).toEqual({ a: 'A' });
    expect(running.context.nodeResults.b?.status).toBe('running');
    release.resolve();
    expect((await handle.result()).output).toBe('B');
    expect(await handle.status()).toBe('succeeded');
    expect((await executor.inspect(handle.runId)).output).toBe('B');
  });

  it('reads a run back from the store with its steps in the order they started, declared order breaking ties', async () => {
    // Twenty roots start in one dispatch pass, mostly in the same millisecond; declared in reverse
    // alphabetical order so that a store's by-name order would show if it leaked through.
    const names = Array.from({ length: 20 }, (_, i) => `s${String(19 - i).padStart(2, '0')}`);
    let wf: Workflow<unknown, any, any> = workflow('start-order');
    for (const name of names) wf = wf.step(name, () => name);
    const file = fx.sqlitePath();
    const writer = fx.executor({ store: fx.sqliteStore(file) });
    const live = await writer.execute(wf, undefined);
    expect(live.nodeExecutionOrder).toEqual(names);
    await writer.cleanup(); // one executor per SQLite file at a time

    const reader = fx.executor({ store: fx.sqliteStore(file), workflows: [wf] });
    await reader.open();
    expect((await reader.inspect(live.runId)).nodeExecutionOrder).toEqual(names);
    expect((await (await reader.getHandle(live.runId)).result()).nodeExecutionOrder).toEqual(names);
  });
});
