import { describe, expect, it } from 'vitest';
import { workflow } from '../../src/index.js';
import { serverFixture, until } from './helpers.js';
import { approval, napper, payment } from './waits.fixtures.js';
import { order } from './workflows.fixtures.js';

const fixture = serverFixture();

/** The value of one sample line, e.g. `braid_runs_finished_total{status="failed"}`. */
function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

describe('GET /metrics', () => {
  it('exposes run and step counters, retries, cache hits and the step duration histogram', async () => {
    let calls = 0;
    const flaky = workflow('flaky').step('call', { retries: 1, backoff: { initialMs: 1 } }, () => {
      if (++calls === 1) throw new Error('once');
      return 'ok';
    });
    const failing = workflow('failing').step('boom', () => {
      throw new Error('boom');
    });
    const { app, executor } = fixture.setup({ workflows: [order, flaky, failing] });
    await executor.execute(order, { id: 'A', qty: 1 });
    await executor.execute(order, { id: 'A', qty: 1 }); // 'price' is cached
    await executor.execute(flaky, {});
    await executor.execute(failing, {});

    const res = await app.request('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(sample(text, 'braid_runs_started_total')).toBe(4);
    expect(sample(text, 'braid_runs_finished_total{status="succeeded"}')).toBe(3);
    expect(sample(text, 'braid_runs_finished_total{status="failed"}')).toBe(1);
    expect(sample(text, 'braid_steps_started_total')).toBe(6); // fetch, price, fetch, call x2, boom
    expect(sample(text, 'braid_steps_finished_total{status="succeeded"}')).toBe(5);
    expect(sample(text, 'braid_steps_finished_total{status="failed"}')).toBe(1);
    expect(sample(text, 'braid_step_retries_total')).toBe(1);
    expect(sample(text, 'braid_cache_hits_total')).toBe(1);
    expect(sample(text, 'braid_step_duration_seconds_count{outcome="succeeded"}')).toBe(4);
    expect(sample(text, 'braid_step_duration_seconds_count{outcome="failed"}')).toBe(2);
    expect(text).toContain('# TYPE braid_step_duration_seconds histogram');
    expect(sample(text, 'braid_queue_depth')).toBe(0);
  });

  it('reports queued runs as the queue depth', async () => {
    const limited = workflow('limited', { maxRuns: 1 }).step(
      'wait',
      (ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
    );
    const { app, executor } = fixture.setup({ workflows: [limited] });
    await executor.start(limited, {});
    await executor.start(limited, {});
    await executor.start(limited, {});
    const text = await (await app.request('/metrics')).text();
    expect(sample(text, 'braid_queue_depth')).toBe(2);
    expect(sample(text, 'braid_runs_running')).toBe(1);
  });

  it('gauges the waiting runs from the store, and counts the waits steps register by kind', async () => {
    const { app, executor } = fixture.setup({ workflows: [approval, napper, payment] });
    const scrape = async () => (await app.request('/metrics')).text();
    expect(sample(await scrape(), 'braid_runs_waiting')).toBe(0);
    const runs = await Promise.all([
      executor.start(approval, { amount: 1 }),
      executor.start(napper, {}),
      executor.start(napper, {}),
      executor.start(payment, { orderId: 'm-1' }),
    ]);
    await until(async () => (await executor.store.countRuns({})).waiting === 4);
    const text = await scrape();
    expect(sample(text, 'braid_runs_waiting')).toBe(4);
    expect(sample(text, 'braid_runs_running')).toBe(0);
    expect(sample(text, 'braid_waits_total{kind="sleep"}')).toBe(2);
    expect(sample(text, 'braid_waits_total{kind="event"}')).toBe(1);
    expect(sample(text, 'braid_waits_total{kind="input"}')).toBe(1);

    // The gauge follows each commit: an answered input, an event, a cancel.
    await executor.provideInput(runs[0]!.runId, 'approve', { approved: true, by: 'Ada' });
    await runs[0]!.result();
    await executor.sendEvent('order.paid', { total: 1 }, { key: 'm-1' });
    await runs[3]!.result();
    await executor.cancel(runs[1]!.runId);
    expect(sample(await scrape(), 'braid_runs_waiting')).toBe(1);
    await executor.cancel(runs[2]!.runId);
    expect(sample(await scrape(), 'braid_runs_waiting')).toBe(0);
  });

  it('times a step attempt by the time it ran, not the time it waited', async () => {
    const napper = workflow('short-nap').step('nap', async (ctx) => {
      await ctx.sleep(400);
      await ctx.sleep(200);
      return 'rested';
    });
    const { app, executor } = fixture.setup({ workflows: [napper] });
    await executor.execute(napper, {});
    const text = await (await app.request('/metrics')).text();
    expect(sample(text, 'braid_step_duration_seconds_count{outcome="succeeded"}')).toBe(1);
    // It slept 0.6 s and ran for a few ms: the histogram has the few ms.
    expect(sample(text, 'braid_step_duration_seconds_sum{outcome="succeeded"}')).toBeLessThan(0.3);
  });

  it('keeps a registry per app: two apps in one process do not clash', async () => {
    const one = fixture.setup({ workflows: [order] });
    const two = fixture.setup({ workflows: [order] });
    await one.executor.execute(order, { id: 'A', qty: 1 });
    expect(sample(await (await one.app.request('/metrics')).text(), 'braid_runs_started_total')).toBe(1);
    expect(sample(await (await two.app.request('/metrics')).text(), 'braid_runs_started_total')).toBe(0);
  });
});
