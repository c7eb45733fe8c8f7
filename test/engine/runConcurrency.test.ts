import { describe, expect, it } from 'vitest';
import { workflow } from '../../src/index.js';
import { ConcurrencyGauge, useEngineFixture } from './helpers.js';

describe("a workflow's maxRuns", () => {
  const fx = useEngineFixture();

  it('queues runs over the limit and runs them in turn', async () => {
    const gauge = new ConcurrencyGauge();
    const order: number[] = [];
    const wf = workflow('one-at-a-time', { maxRuns: 1 }).step('s', async (ctx) => {
      order.push(Number(ctx.input));
      return gauge.hold(10, ctx.input);
    });
    const executor = fx.executor();
    const results = await Promise.all([1, 2, 3].map((i) => executor.execute(wf, i)));

    expect(results.map((r) => r.output)).toEqual([1, 2, 3]);
    expect(gauge.max).toBe(1);
    expect(order).toEqual([1, 2, 3]);
    const events = await executor.store.listEvents({ runId: results[1]?.runId ?? '' });
    expect(events.map((e) => e.type)).toContain('run_queued');
  });

  it('counts the limit per concurrency key', async () => {
    const gauge = new ConcurrencyGauge();
    const perCustomer = new Map<string, ConcurrencyGauge>();
    const wf = workflow('per-customer', {
      maxRuns: 1,
      concurrencyKey: (input: { customer: string }) => input.customer,
    }).step('s', (ctx) => {
      const { customer } = ctx.input as { customer: string };
      const mine = perCustomer.get(customer) ?? new ConcurrencyGauge();
      perCustomer.set(customer, mine);
      return Promise.all([gauge.hold(15), mine.hold(15)]).then(() => customer);
    });
    const executor = fx.executor();
    const inputs = ['a', 'a', 'b', 'b'].map((customer) => ({ customer }));
    const results = await Promise.all(inputs.map((input) => executor.execute(wf, input)));

    expect(results.every((r) => r.success)).toBe(true);
    expect(gauge.max).toBe(2);
    expect([...perCustomer.values()].map((g) => g.max)).toEqual([1, 1]);
  });

  it('cancels the newest run over the limit with cancel-newest', async () => {
    const wf = workflow('cancel-newest', { maxRuns: 1, onConcurrencyLimit: 'cancel-newest' }).step('s', async (ctx) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return ctx.input;
    });
    const executor = fx.executor();
    const [first, second] = await Promise.all([executor.execute(wf, 1), executor.execute(wf, 2)]);

    expect(first?.output).toBe(1);
    expect(second?.cancelled).toBe(true);
    expect(second?.error?.code).toBe('concurrency_limit');
  });

  it('cancels the oldest run with cancel-oldest', async () => {
    const wf = workflow('cancel-oldest', { maxRuns: 1, onConcurrencyLimit: 'cancel-oldest' }).step('s', async (ctx) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return ctx.input;
    });
    const executor = fx.executor();
    const first = await executor.start(wf, 1);
    const second = await executor.start(wf, 2);

    expect((await first.result()).cancelled).toBe(true);
    expect((await second.result()).output).toBe(2);
  });

  it('starts a queued run when the active one is cancelled', async () => {
    const wf = workflow('queued-after-cancel', { maxRuns: 1 }).step(
      's',
      (ctx) =>
        new Promise((resolve) => (ctx.input === 1 ? ctx.signal.addEventListener('abort', resolve) : resolve('ran'))),
    );
    const executor = fx.executor();
    const first = await executor.start(wf, 1);
    const second = await executor.start(wf, 2);
    expect(await second.status()).toBe('queued');
    await executor.cancel(first.runId);
    expect((await second.result()).output).toBe('ran');
  });

  it('pauses and resumes a run that waits for its turn', async () => {
    const wf = workflow('pause-waiting', { maxRuns: 1 }).step('s', async (ctx) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return ctx.input;
    });
    const executor = fx.executor();
    const first = await executor.start(wf, 1);
    const second = await executor.start(wf, 2);
    const paused = await executor.pause(second.runId);
    expect(paused.paused).toBe(true);
    expect((await first.result()).output).toBe(1);
    expect(await second.status()).toBe('paused');

    await executor.resume(second.runId);
    expect((await second.result()).output).toBe(2);
  });
});
