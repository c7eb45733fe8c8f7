import { describe, expect, it } from 'vitest';
import { type ExecutionResult, MetricsCollector, workflow } from '../../src/index.js';
import { sleep, untilAborted, useEngineFixture } from './helpers.js';

const ok = workflow('ok')
  .step('a', async () => {
    await sleep(2);
    return 1;
  })
  .step('b', { parents: ['a'] }, (ctx) => ctx.parent('a') + 1);

const bad = workflow('bad').step('boom', () => {
  throw new Error('always fails');
});

const flaky = workflow('flaky').step('s', { retries: 1, backoff: { initialMs: 1 } }, (ctx) => {
  if (ctx.attempt === 1) throw new Error('first attempt fails');
  return 'ok';
});

describe('executor metrics', () => {
  const fx = useEngineFixture();

  it('count totals, successes, failures, retries and per-step times over 50 runs', async () => {
    const executor = fx.executor();
    const runs: Array<Promise<ExecutionResult>> = [];
    for (let i = 0; i < 35; i++) runs.push(executor.execute(ok, i));
    for (let i = 0; i < 10; i++) runs.push(executor.execute(bad, i));
    for (let i = 0; i < 5; i++) runs.push(executor.execute(flaky, i));
    const results = await Promise.all(runs);
    const m = executor.metrics;

    expect(results.filter((r) => r.success)).toHaveLength(40);
    expect(m.totalExecutions).toBe(50);
    expect(m.successfulExecutions).toBe(40);
    expect(m.failedExecutions).toBe(10);
    expect(m.cancelledExecutions).toBe(0);
    expect(m.timedOutExecutions).toBe(0);
    expect(m.retries).toBe(5);
    expect(m.cacheHits).toBe(0);

    const mean = results.reduce((sum, r) => sum + r.executionTime, 0) / results.length;
    expect(m.averageDuration).toBeCloseTo(mean, 6);
    expect(m.averageDuration).toBeGreaterThan(0);
    expect(m.averageDuration).toBeLessThanOrEqual(Math.max(...results.map((r) => r.executionTime)));

    expect(Object.keys(m.nodeExecutionTimes).sort()).toEqual(['bad.boom', 'flaky.s', 'ok.a', 'ok.b']);
    const a = m.nodeExecutionTimes['ok.a'];
    expect(a?.count).toBe(35);
    expect(a?.averageMs).toBeGreaterThanOrEqual(1); // a 2 ms sleep, give or take timer rounding
    expect(a?.maxMs).toBeGreaterThanOrEqual(a?.averageMs ?? 0);
    expect(a?.totalMs).toBeCloseTo((a?.averageMs ?? 0) * 35, 6);
    expect(m.nodeExecutionTimes['bad.boom']?.count).toBe(10);
    expect(m.nodeExecutionTimes['flaky.s']?.count).toBe(5);
  });

  it('count cache hits', async () => {
    const executor = fx.executor();
    const cached = workflow('cached-metrics').step('s', { cache: true }, () => 'v');
    for (let i = 0; i < 3; i++) await executor.execute(cached, 'same');
    await executor.execute(cached, 'other');
    expect(executor.metrics.cacheHits).toBe(2);
    expect(executor.metrics.totalExecutions).toBe(4);
  });

  it('count cancelled and timed-out runs', async () => {
    const executor = fx.executor();
    const hang = workflow('hang').step('s', (ctx) => untilAborted(ctx.signal));
    const handle = await executor.start(hang, null);
    await executor.cancel(handle.runId);
    await executor.execute(
      workflow('late', { timeoutSeconds: 0.02 }).step('s', (ctx) => untilAborted(ctx.signal)),
      null,
    );

    expect(executor.metrics).toMatchObject({ totalExecutions: 2, cancelledExecutions: 1, timedOutExecutions: 1 });
  });

  it('keep executionHistory bounded by historySize, newest last', async () => {
    const executor = fx.executor({ historySize: 5 });
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push((await executor.execute(ok, i)).runId);

    expect(executor.executionHistory).toHaveLength(5);
    expect(executor.executionHistory.map((r) => r.runId)).toEqual(ids.slice(3));
    expect(executor.metrics.totalExecutions).toBe(8);
  });

  it('keep 100 results in executionHistory by default', async () => {
    const executor = fx.executor();
    const quick = workflow('quick').step('s', () => 1);
    await Promise.all(Array.from({ length: 105 }, (_, i) => executor.execute(quick, i)));
    expect(executor.executionHistory).toHaveLength(100);
  });
});

describe('MetricsCollector', () => {
  const fx = useEngineFixture();

  it('starts at zero and resets to zero', async () => {
    const zero = {
      totalExecutions: 0,
      successfulExecutions: 0,
      failedExecutions: 0,
      cancelledExecutions: 0,
      timedOutExecutions: 0,
      averageDuration: 0,
      nodeExecutionTimes: {},
      retries: 0,
      cacheHits: 0,
    };
    expect(new MetricsCollector().getMetrics()).toEqual(zero);
    const executor = fx.executor();
    await executor.execute(flaky, null);
    expect(executor.metrics.nodeExecutionTimes['flaky.s']?.count).toBe(1);
    executor.metricsCollector.reset();
    expect(executor.metrics).toEqual(zero);
  });
});
