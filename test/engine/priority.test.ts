import { describe, expect, it } from 'vitest';
import { InvalidPriorityError, InvalidWorkflowError, workflow } from '../../src/index.js';
import { deferred, useEngineFixture } from './helpers.js';

/** A workflow whose one step records its run's label, after `gate` opens for the label "blocker". */
function labelled(name: string, gate: Promise<void>, order: string[]) {
  return workflow(name).step('s', async (ctx) => {
    const label = (ctx.input as { label: string }).label;
    if (label === 'blocker') await gate;
    order.push(label);
    return label;
  });
}

describe('priority', () => {
  const fx = useEngineFixture();

  it('gives a free execution slot to the waiting step of the highest priority run, then the earliest', async () => {
    const gate = deferred();
    const order: string[] = [];
    const wf = labelled('prio-slots', gate.promise, order);
    const executor = fx.executor({ maxParallelNodes: 1 });
    const blocker = await executor.start(wf, { label: 'blocker' });
    const handles = [];
    for (const [label, priority] of [
      ['low', -5],
      ['mid-1', 5],
      ['default', undefined],
      ['high', 50],
      ['mid-2', 5],
    ] as const) {
      handles.push(await executor.start(wf, { label }, priority === undefined ? {} : { priority }));
    }
    gate.resolve();
    await blocker.result();
    await Promise.all(handles.map((h) => h.result()));
    // The 4th slot goes to the oldest waiter (the starvation rule): "low" has waited longest.
    expect(order).toEqual(['blocker', 'high', 'mid-1', 'low', 'mid-2', 'default']);
  });

  it("orders a run's own steps by their priority", async () => {
    const order: string[] = [];
    const step = (name: string) => () => {
      order.push(name);
    };
    const wf = workflow('prio-steps', { maxParallelNodes: 1 })
      .step('first', step('first'))
      .step('later', { parents: ['first'] }, step('later'))
      .step('urgent', { parents: ['first'], priority: 10 }, step('urgent'))
      .step('background', { parents: ['first'], priority: -10 }, step('background'));
    const result = await fx.executor().execute(wf, null);
    expect(result.success).toBe(true);
    expect(order).toEqual(['first', 'urgent', 'later', 'background']);
  });

  it("takes the workflow's priority unless start gives one, and records it on the run", async () => {
    const wf = workflow('prio-default', { priority: 7 }).step('s', () => 1);
    const executor = fx.executor();
    const byDefault = await executor.start(wf, null);
    const given = await executor.start(wf, null, { priority: -3 });
    await Promise.all([byDefault.result(), given.result()]);
    expect((await executor.store.getRun(byDefault.runId))?.priority).toBe(7);
    expect((await executor.store.getRun(given.runId))?.priority).toBe(-3);
  });

  it('admits runs waiting for a maxRuns slot by priority, then arrival', async () => {
    const gate = deferred();
    const order: string[] = [];
    const wf = workflow('prio-max-runs', { maxRuns: 1 }).step('s', async (ctx) => {
      const label = (ctx.input as { label: string }).label;
      if (label === 'blocker') await gate.promise;
      order.push(label);
    });
    const executor = fx.executor();
    const blocker = await executor.start(wf, { label: 'blocker' });
    const low = await executor.start(wf, { label: 'low' }, { priority: -1 });
    const high = await executor.start(wf, { label: 'high' }, { priority: 1 });
    gate.resolve();
    await Promise.all([blocker.result(), low.result(), high.result()]);
    expect(order).toEqual(['blocker', 'high', 'low']);
  });

  it('does not let a steady stream of high priority starve a low priority run', async () => {
    const gate = deferred();
    const order: string[] = [];
    let highs = 0;
    const wf = workflow('prio-stream').step('s', async (ctx) => {
      const label = (ctx.input as { label: string }).label;
      if (label === 'blocker') await gate.promise;
      order.push(label);
      // Every high run queues the next one before it ends: there is always high work waiting.
      if (label.startsWith('high') && highs < 20) {
        highs++;
        await executor.start(wf, { label: `high-${highs}` }, { priority: 100 });
      }
    });
    const executor = fx.executor({ maxParallelNodes: 1 });
    const blocker = await executor.start(wf, { label: 'blocker' });
    const low = await executor.start(wf, { label: 'low' }, { priority: -100 });
    await executor.start(wf, { label: 'high-0' }, { priority: 100 });
    gate.resolve();
    await Promise.all([blocker.result(), low.result()]);
    // At most OLDEST_EVERY - 1 (3) slots go by priority before one goes to the oldest waiter.
    expect(order.indexOf('low')).toBeGreaterThan(0);
    expect(order.indexOf('low')).toBeLessThanOrEqual(4);
  });

  it('keeps the priority across a restart (SQLite): recovered steps still go by it', async () => {
    const file = fx.sqlitePath();
    const order: string[] = [];
    let hang = true;
    const wf = workflow('prio-restart').step('s', async (ctx) => {
      const label = (ctx.input as { label: string }).label;
      if (label === 'blocker' && hang) await new Promise(() => {});
      order.push(label);
    });
    const first = fx.executor({ store: fx.sqliteStore(file), maxParallelNodes: 1 });
    await first.start(wf, { label: 'blocker' });
    const low = await first.start(wf, { label: 'low' }, { priority: -5 });
    const high = await first.start(wf, { label: 'high' }, { priority: 5 });
    await first.cleanup();
    expect(order).toEqual([]);

    hang = false;
    const second = fx.executor({ store: fx.sqliteStore(file), maxParallelNodes: 1, workflows: [wf] });
    await Promise.all([(await second.getHandle(low.runId)).result(), (await second.getHandle(high.runId)).result()]);
    expect(order).toEqual(['blocker', 'high', 'low']);
  });

  it('refuses a priority that is not a whole number from -100 to 100, naming the field', async () => {
    const wf = workflow('prio-bad').step('s', () => 1);
    const executor = fx.executor();
    for (const bad of [1.5, 101, -101, Number.NaN, '3' as unknown as number]) {
      const error = await executor.start(wf, null, { priority: bad }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidPriorityError);
      expect((error as InvalidPriorityError).code).toBe('invalid_priority');
      expect((error as Error).message).toContain('`priority`');
    }
    expect((await executor.store.listRuns({})).runs).toEqual([]);
    expect(() => workflow('prio-bad-wf', { priority: 500 })).toThrow(InvalidWorkflowError);
    expect(() => workflow('prio-bad-wf', { priority: 500 })).toThrow(/`priority` must be a whole number from -100/);
    expect(() => workflow('prio-bad-step').step('s', { priority: 0.5 }, () => 1)).toThrow(/step "s".*`priority`/);
  });
});
