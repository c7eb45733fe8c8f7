import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import type {
  CacheHitInfo,
  ErrorInfo,
  NodeCompleteInfo,
  NodeRetryInfo,
  NodeSkipInfo,
  NodeStartInfo,
  WorkflowCompleteInfo,
  WorkflowStartInfo,
} from '../../src/engine/callbacks.js';
import { CallbackManager, defineWorkflow, workflow } from '../../src/index.js';
import { sleep, useEngineFixture, waitUntil } from './helpers.js';

/** Records every callback it receives. */
function recorder() {
  const seen = {
    workflowStart: [] as WorkflowStartInfo[],
    nodeStart: [] as NodeStartInfo[],
    nodeComplete: [] as NodeCompleteInfo[],
    workflowComplete: [] as WorkflowCompleteInfo[],
    error: [] as ErrorInfo[],
    retry: [] as NodeRetryInfo[],
    skip: [] as NodeSkipInfo[],
    cacheHit: [] as CacheHitInfo[],
  };
  const handler = {
    onWorkflowStart: (i: WorkflowStartInfo) => void seen.workflowStart.push(i),
    onNodeStart: (i: NodeStartInfo) => void seen.nodeStart.push(i),
    onNodeComplete: (i: NodeCompleteInfo) => void seen.nodeComplete.push(i),
    onWorkflowComplete: (i: WorkflowCompleteInfo) => void seen.workflowComplete.push(i),
    onError: (i: ErrorInfo) => void seen.error.push(i),
    onNodeRetry: (i: NodeRetryInfo) => void seen.retry.push(i),
    onNodeSkip: (i: NodeSkipInfo) => void seen.skip.push(i),
    onCacheHit: (i: CacheHitInfo) => void seen.cacheHit.push(i),
  };
  return { seen, handler };
}

const shop = workflow('shop', { backoff: { initialMs: 1 } })
  .step('load', (ctx) => ({ id: String(ctx.input) }))
  .step('charge', { parents: ['load'], retries: 1 }, (ctx) => {
    if (ctx.attempt === 1) throw new Error('gateway hiccup');
    return 'charged';
  })
  .step('gift', { parents: ['load'], when: () => false }, () => 'wrapped')
  .step('price', { parents: ['load'], cache: true }, () => 9.5);

describe('callbacks', () => {
  const fx = useEngineFixture();
  let warn: MockInstance;

  beforeEach(() => {
    warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  });
  afterEach(() => {
    warn.mockRestore();
  });

  it('fire for the start, steps, retry, skip, errors and the end of a run, with the right info', async () => {
    const executor = fx.executor();
    const { seen, handler } = recorder();
    executor.callbackManager.addHandler(handler);
    const result = await executor.execute(shop, 7);
    await waitUntil(() => seen.workflowComplete.length === 1);
    const runId = result.runId;

    expect(seen.workflowStart).toEqual([{ runId, workflow: 'shop', input: 7, parentRunId: null }]);
    expect(seen.nodeStart.map((i) => `${i.nodeId}#${i.attempt}`).sort()).toEqual([
      'charge#1',
      'charge#2',
      'load#1',
      'price#1',
    ]);
    expect(seen.nodeStart.every((i) => i.runId === runId && i.workflow === 'shop')).toBe(true);

    const completed = Object.fromEntries(seen.nodeComplete.map((i) => [i.nodeId, i]));
    expect(Object.keys(completed).sort()).toEqual(['charge', 'load', 'price']);
    expect(completed.load?.output).toEqual({ id: '7' });
    expect(completed.charge?.result).toMatchObject({
      nodeId: 'charge',
      status: 'succeeded',
      attempts: 2,
      output: 'charged',
    });

    expect(seen.retry).toHaveLength(1);
    expect(seen.retry[0]).toMatchObject({ runId, workflow: 'shop', nodeId: 'charge', attempt: 1 });
    expect(seen.retry[0]?.error.message).toBe('gateway hiccup');
    expect(seen.retry[0]?.delayMs).toBeGreaterThanOrEqual(0);

    expect(seen.error).toHaveLength(1);
    expect(seen.error[0]).toMatchObject({ runId, nodeId: 'charge', attempt: 1, willRetry: true });
    expect(seen.error[0]?.error.message).toBe('gateway hiccup');

    expect(seen.skip).toEqual([{ runId, workflow: 'shop', nodeId: 'gift', reason: expect.stringContaining('when') }]);

    expect(seen.workflowComplete).toHaveLength(1);
    expect(seen.workflowComplete[0]?.runId).toBe(runId);
    expect(seen.workflowComplete[0]?.output).toEqual(result.output);
    expect(seen.workflowComplete[0]?.result.success).toBe(true);
    expect(seen.cacheHit).toEqual([]);
  });

  it('fire onCacheHit when a cached step is reused', async () => {
    const executor = fx.executor();
    await executor.execute(shop, 1);
    const { seen, handler } = recorder();
    executor.callbackManager.addHandler(handler);
    const second = await executor.execute(shop, 1);
    await waitUntil(() => seen.workflowComplete.length === 1);

    expect(seen.cacheHit).toHaveLength(1);
    expect(seen.cacheHit[0]).toMatchObject({ runId: second.runId, workflow: 'shop', nodeId: 'price' });
    expect(seen.cacheHit[0]?.key).toEqual(expect.any(String));
    expect(seen.nodeStart.map((i) => i.nodeId)).not.toContain('price');
    expect(seen.nodeComplete.find((i) => i.nodeId === 'price')?.result.cacheHit).toBe(true);
  });

  it("fire onError for the failing step and for the run, and onWorkflowComplete with the run's error", async () => {
    const executor = fx.executor();
    const { seen, handler } = recorder();
    executor.callbackManager.addHandler(handler);
    const wf = workflow('broken').step('explode', () => {
      throw new Error('kaboom');
    });
    const result = await executor.execute(wf, null);
    await waitUntil(() => seen.error.length === 2 && seen.workflowComplete.length === 1);

    expect(seen.error[0]).toMatchObject({ runId: result.runId, nodeId: 'explode', attempt: 1, willRetry: false });
    expect(seen.error[0]?.error.message).toBe('kaboom');
    expect(seen.error[1]).toMatchObject({
      runId: result.runId,
      nodeId: undefined,
      attempt: undefined,
      willRetry: false,
    });
    expect(seen.error[1]?.error.code).toBe('step_failed');
    expect(seen.workflowComplete[0]?.result.success).toBe(false);
    expect(seen.nodeComplete).toEqual([]);
  });

  it('stop reaching a handler once it is removed', async () => {
    const executor = fx.executor();
    const { seen, handler } = recorder();
    const remove = executor.callbackManager.addHandler(handler);
    remove();
    await executor.execute(
      workflow('removed').step('s', () => 1),
      null,
    );
    await sleep(5);
    expect(seen.workflowStart).toEqual([]);
    expect(executor.callbackManager.size).toBe(0);
  });

  it('a handler that throws does not break the run or the other handlers', async () => {
    const executor = fx.executor();
    executor.callbackManager.addHandler({
      onWorkflowStart: () => {
        throw new Error('handler bug');
      },
      onNodeStart: () => {
        throw new Error('handler bug');
      },
      onNodeComplete: async () => {
        throw new Error('async handler bug');
      },
    });
    const { seen, handler } = recorder();
    executor.callbackManager.addHandler(handler);
    const result = await executor.execute(
      workflow('throwing-handler')
        .step('a', () => 1)
        .step('b', { parents: ['a'] }, (ctx) => ctx.parent('a') + 1),
      null,
    );

    expect(result.success).toBe(true);
    expect(result.output).toBe(2);
    await waitUntil(() => seen.workflowComplete.length === 1 && warn.mock.calls.length >= 5);
    expect(seen.nodeComplete.map((i) => i.nodeId)).toEqual(['a', 'b']);
    expect(String(warn.mock.calls[0]?.[0])).toContain('callback handler threw');
  });

  it('a handler that never resolves does not stall the run', async () => {
    const executor = fx.executor();
    const never = () => new Promise<void>(() => {});
    executor.callbackManager.addHandler({
      onWorkflowStart: never,
      onNodeStart: never,
      onNodeComplete: never,
      onWorkflowComplete: never,
      onError: never,
      onNodeRetry: never,
    });
    let calls = 0;
    const wf = workflow('hung-handler').step('s', { retries: 1, backoff: { initialMs: 1 } }, () => {
      calls++;
      if (calls === 1) throw new Error('retry me');
      return 'done';
    });
    const results = await Promise.all([executor.execute(wf, 1), executor.execute(wf, 2)]);
    expect(results.map((r) => r.output)).toEqual(['done', 'done']);
  });
});

describe('CallbackManager', () => {
  it('reports a throwing handler to its error reporter and goes on', () => {
    const reported: string[] = [];
    const manager = new CallbackManager((_error, event) => reported.push(event));
    const calls: string[] = [];
    manager.addHandler({
      onNodeSkip: () => {
        throw new Error('bad');
      },
    });
    manager.addHandler({ onNodeSkip: (info) => void calls.push(info.nodeId) });
    manager.emit('onNodeSkip', { runId: 'r', workflow: 'w', nodeId: 'n', reason: 'test' });

    expect(reported).toEqual(['onNodeSkip']);
    expect(calls).toEqual(['n']);
  });
});

describe('callbacks on a long run', () => {
  const fx = useEngineFixture();

  it('deliver every step of a 2,000-step chain, each with the NodeResult of that step', async () => {
    const names = Array.from({ length: 2000 }, (_, i) => `s${i}`);
    const wf = defineWorkflow(
      'long-chain',
      {},
      names.map((name, i) => ({
        name,
        parents: i === 0 ? [] : [names[i - 1] as string],
        run: (ctx: { parent(n: string): unknown }) =>
          i === 0 ? 0 : (ctx.parent(names[i - 1] as string) as number) + 1,
      })),
    );
    const executor = fx.executor();
    const completed: Array<{ nodeId: string; output: unknown; status: string }> = [];
    let started = 0;
    executor.callbackManager.addHandler({
      onNodeStart: () => void started++,
      onNodeComplete: (info) =>
        void completed.push({ nodeId: info.nodeId, output: info.result.output, status: info.result.status }),
    });
    const result = await executor.execute(wf, null);
    expect(result.output).toBe(1999);
    expect(started).toBe(2000);
    expect(completed).toHaveLength(2000);
    expect(completed[1234]).toEqual({ nodeId: 's1234', output: 1234, status: 'succeeded' });
  });
});
