import { describe, expect, it } from 'vitest';
import { defineWorkflow, InvalidWorkflowError, workflow } from '../../src/index.js';
import { ConcurrencyGauge, useEngineFixture } from './helpers.js';

describe('resource pools', () => {
  const fx = useEngineFixture();

  it('never lets more than the pool size hold it at once, across many concurrent runs', async () => {
    const llm = new ConcurrencyGauge();
    const free = new ConcurrencyGauge();
    const wf = defineWorkflow('pooled', {}, [
      { name: 'ask1', pool: 'llm', run: () => llm.hold(10, 1) },
      { name: 'ask2', pool: 'llm', run: () => llm.hold(10, 2) },
      { name: 'ask3', pool: 'llm', run: () => llm.hold(10, 3) },
      { name: 'local', run: () => free.hold(10, 0) },
    ]);
    const executor = fx.executor({ pools: { llm: 2 }, maxParallelNodes: 10 });
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => executor.execute(wf, i)));

    expect(results.every((r) => r.success)).toBe(true);
    expect(llm.max).toBe(2);
    expect(free.max).toBeGreaterThan(2);
  });

  it('gives a pool slot back when a step fails, so the pool does not leak', async () => {
    const llm = new ConcurrencyGauge();
    const wf = workflow('pool-release', { retries: 2, backoff: { initialMs: 1 } }).step(
      's',
      { pool: 'llm' },
      async (ctx) => {
        await llm.hold(2);
        if (ctx.attempt < 3) throw new Error('flaky');
        return ctx.attempt;
      },
    );
    const executor = fx.executor({ pools: { llm: 1 } });
    const results = await Promise.all(Array.from({ length: 4 }, (_, i) => executor.execute(wf, i)));

    expect(results.map((r) => r.output)).toEqual([3, 3, 3, 3]);
    expect(llm.max).toBe(1);
  });

  it('refuses a step naming an unknown pool when the workflow is registered, naming the step', () => {
    const wf = workflow('unknown-pool').step('ask', { pool: 'gpu' }, () => 1);
    const executor = fx.executor({ pools: { llm: 2 } });
    expect(() => executor.register(wf)).toThrow(InvalidWorkflowError);
    expect(() => executor.register(wf)).toThrow(/step "ask".*pool "gpu"/);
  });

  it('refuses an unknown pool at execute, before any run exists', async () => {
    const executor = fx.executor();
    await expect(
      executor.execute(
        workflow('unknown-pool-run').step('ask', { pool: 'gpu' }, () => 1),
        null,
      ),
    ).rejects.toThrow(InvalidWorkflowError);
    expect((await executor.store.listRuns({})).runs).toEqual([]);
  });
});
