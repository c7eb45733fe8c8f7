import { describe, expect, it, vi } from 'vitest';
import {
  InvalidDurationError,
  InvalidPruneOptionError,
  InvalidWorkflowError,
  MemoryStore,
  WorkflowExecutor,
  workflow,
} from '../../src/index.js';
import { createApp } from '../../src/server/index.js';
import { client } from '../server/helpers.js';
import { sleep, useEngineFixture } from './helpers.js';

const quick = workflow('ret-quick').step('one', () => 1);
const kept = workflow('ret-kept', { retention: { succeeded: '1h' } }).step('one', () => 1);
const failing = workflow('ret-failing').step('boom', () => {
  throw new Error('boom');
});
const slowToFail = workflow('ret-timeout', { timeoutSeconds: 0.05 }).step('hang', (ctx) => ctx.sleep('10s'));

/** Polls until `check` holds (the background pass runs on its own timer). */
async function eventually(check: () => Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await sleep(10);
  }
}

describe('retention in the background', () => {
  const fixture = useEngineFixture();

  it('prunes expired runs by status; a workflow retention overrides the executor one; timed out counts as failed', async () => {
    const executor = fixture.executor({
      retention: { succeeded: 0, failed: 0, every: 20 },
      workflows: [quick, kept, failing, slowToFail],
    });
    const gone = await executor.execute(quick, {});
    const stays = await executor.execute(kept, {});
    const failed = await executor.execute(failing, {});
    const timedOut = await executor.execute(slowToFail, {});
    expect(timedOut.error?.name).toBe('RunTimeoutError');
    const store = executor.store;
    await eventually(async () => !(await store.getRun(gone.context.runId)));
    await eventually(async () => !(await store.getRun(failed.context.runId)));
    await eventually(async () => !(await store.getRun(timedOut.context.runId)));
    expect(await store.getRun(stays.context.runId)).toBeDefined();
  });

  it('keeps what no retention names (cancelled here) and runs one pass for many runs, not one per run', async () => {
    const store = new MemoryStore();
    const prune = vi.spyOn(store, 'pruneRuns');
    const executor = fixture.executor({ store, retention: { succeeded: 0, every: 50 } });
    for (let i = 0; i < 30; i++) await executor.execute(quick, {});
    await eventually(async () => (await store.countRuns({})).succeeded === undefined);
    // Each pass: one batch per selection (here one: succeeded), however many runs it removes.
    const calls = prune.mock.calls.length;
    expect(calls).toBeLessThanOrEqual(3);
    expect(prune.mock.calls[0]![0]).toMatchObject({ statuses: ['succeeded'], workflow: null, limit: 500 });
  });

  it('stops with cleanup: no pass runs after it', async () => {
    const store = new MemoryStore();
    const executor = new WorkflowExecutor({ store, retention: { succeeded: 0, every: 10 } });
    await executor.execute(quick, {});
    await executor.cleanup();
    const prune = vi.spyOn(store, 'pruneRuns');
    await sleep(60);
    expect(prune).not.toHaveBeenCalled();
  });

  it('retention: false starts no background work', async () => {
    const store = new MemoryStore();
    const compact = vi.spyOn(store, 'compactEvents');
    const executor = fixture.executor({ store, retention: false });
    await executor.execute(quick, {});
    await sleep(30);
    expect(compact).not.toHaveBeenCalled();
  });

  it('bounds the event log of a long-lived run, and the API still renders it in step order', async () => {
    const sleeper = workflow('ret-sleeper')
      .step('first', () => 'a')
      .step('loop', { parents: ['first'] }, async (ctx) => {
        for (let i = 0; i < 40; i++) await ctx.sleep(1);
        return 'done';
      })
      .step('last', { parents: ['loop'] }, () => 'z');
    const store = new MemoryStore();
    const executor = fixture.executor({ store, retention: { every: 5, maxEventsPerRun: 12 }, workflows: [sleeper] });
    const handle = await executor.start(sleeper, {});
    let most = 0;
    while ((await store.getRun(handle.runId))?.status !== 'succeeded') {
      most = Math.max(most, (await store.listEvents({ runId: handle.runId, limit: 1000 })).length);
      await sleep(2);
    }
    // 40 sleeps write 80+ events; the log was cut back to the cap while the run went on.
    const finalLog = await store.listEvents({ runId: handle.runId, limit: 1000 });
    expect(most).toBeLessThan(60);
    expect(finalLog.length).toBeLessThan(60);
    expect(finalLog.filter((e) => e.step === 'loop').at(0)?.type).toBe('step_started');
    expect(finalLog.at(-1)?.type).toBe('run_succeeded');
    const api = client(createApp(executor, { dashboardDir: null }));
    const detail = await api.get(`/api/runs/${handle.runId}`);
    expect(detail.status).toBe(200);
    expect(detail.body.steps.map((s: { name: string; status: string }) => [s.name, s.status])).toEqual([
      ['first', 'succeeded'],
      ['loop', 'succeeded'],
      ['last', 'succeeded'],
    ]);
  });

  it('refuses bad retention settings, naming the field', () => {
    const make = (retention: unknown) => () =>
      new WorkflowExecutor({ store: new MemoryStore(), retention: retention as never });
    expect(make({ succeeded: '-1d' })).toThrow(InvalidDurationError);
    expect(make({ succeeded: '-1d' })).toThrow('`retention.succeeded`');
    expect(make({ failed: 'later' })).toThrow('`retention.failed`');
    expect(make({ cancelled: -5 })).toThrow('`retention.cancelled`');
    expect(make({ timed_out: '1d' })).toThrow(InvalidPruneOptionError);
    expect(make({ timed_out: '1d' })).toThrow('retention.timed_out');
    expect(make({ every: 0 })).toThrow('retention.every');
    expect(make({ maxEventsPerRun: 0 })).toThrow('retention.maxEventsPerRun');
    expect(make({ batchSize: 0 })).toThrow('retention.batchSize');
    expect(() => workflow('bad-ret', { retention: { succeeded: 'soon' } })).toThrow(InvalidWorkflowError);
    expect(() => workflow('bad-ret', { retention: { succeeded: 'soon' } })).toThrow(
      /Workflow "bad-ret".*`retention.succeeded`/,
    );
  });
});
