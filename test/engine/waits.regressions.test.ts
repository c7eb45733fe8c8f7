/**
 * Regressions: defects of durable waits found by the wait tests, each as the smallest test that
 * failed before its fix (the comment in each says what used to happen).
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EVICT_AFTER_MS } from '../../src/engine/runSleep.js';
import {
  InvalidInputValueError,
  MemoryStore,
  type Store,
  type WaitRecord,
  type WorkflowExecutor,
  workflow,
} from '../../src/index.js';
import { sleep, useEngineFixture, waitUntil } from './helpers.js';

async function pendingWait(executor: WorkflowExecutor, runId: string): Promise<WaitRecord> {
  let found: WaitRecord | undefined;
  await waitUntil(async () => {
    found = (await executor.waits(runId)).find((w) => w.status === 'pending');
    return found !== undefined;
  });
  return found as WaitRecord;
}

describe('durable waits: regressions', () => {
  const fx = useEngineFixture();

  it('SQLite: a wait that registers when its event is already in the inbox gets the event (the commit does not fail)', async () => {
    const wf = workflow('late-waiter').step('wait', async (ctx) => {
      await ctx.sleep(50);
      return ctx.waitForEvent('early');
    });
    const executor = fx.executor({ store: fx.sqliteStore(fx.sqlitePath()) });
    const handle = await executor.start(wf, null);
    await pendingWait(executor, handle.runId); // the sleep: the run exists, the event wait does not yet
    await executor.sendEvent('early', { v: 1 });
    const result = await handle.result();
    expect(result.error?.code).toBeUndefined(); // today: store_commit_failed, "connection is busy"
    expect(result.status).toBe('succeeded');
    expect(result.output).toEqual({ v: 1 });
  });

  it('a `delay` shorter than EVICT_AFTER_MS on a step with parents starts the step after the delay', async () => {
    const wf = workflow('short-child-delay')
      .step('a', () => 1)
      .step('b', { parents: ['a'], delay: 100 }, () => 'started');
    const executor = fx.executor();
    const outcome = await Promise.race([executor.execute(wf, null), sleep(2000).then(() => 'never started')]);
    expect(outcome).not.toBe('never started');
  });

  it('a run waiting in memory when the executor shuts down keeps its wait: it wakes after a restart', async () => {
    const file = fx.sqlitePath();
    const wf = workflow('shutdown-while-sleeping').step('s', async (ctx) => {
      await ctx.sleep(600);
      return 'woke';
    });
    const first = fx.executor({ store: fx.sqliteStore(file), workflows: [wf] });
    const handle = await first.start(wf, null);
    await pendingWait(first, handle.runId);
    await first.cleanup(); // graceful: what `braid worker` does on SIGTERM
    const second = fx.executor({ store: fx.sqliteStore(file), workflows: [wf] });
    const result = await (await second.getHandle(handle.runId)).result();
    // Before its fix: the shutdown wrote the pending wait as cancelled, and the re-run's sleep call is
    // refused with StepEndedError ("called after attempt 1 ... had ended"): the run fails.
    expect(result.error?.message).toBeUndefined();
    expect(result.output).toBe('woke');
  });

  it('a retried attempt can wait again for what the failed attempt was waiting for', async () => {
    const wf = workflow('retry-after-wait').step(
      's',
      { retries: 1, backoff: { initialMs: 10, jitter: 0 } },
      async (ctx) => {
        const paid = ctx.waitForEvent('retry.paid', { timeout: 200 });
        if (ctx.attempt === 1) {
          paid.catch(() => {});
          throw new Error('the first attempt fails while its wait is pending');
        }
        return { paid: await paid };
      },
    );
    const executor = fx.executor();
    const result = await executor.execute(wf, null);
    // Before its fix: attempt 2's wait finds attempt 1's cancelled wait (same key) and is refused at once.
    expect(result.error?.message).toBeUndefined();
    expect(result.output).toEqual({ paid: null });
  });

  it('successive waits of a step for the same event get successive events, not the first one again', async () => {
    const wf = workflow('event-loop').step('s', async (ctx) => {
      const got: unknown[] = [];
      for (let i = 0; i < 3; i++) got.push(await ctx.waitForEvent('tick', { timeout: 400 }));
      return got;
    });
    const executor = fx.executor();
    const handle = await executor.start(wf, null);
    await pendingWait(executor, handle.runId);
    await executor.sendEvent('tick', 1);
    await waitUntil(async () => (await executor.waits(handle.runId)).length === 2);
    // The second wait must not look back and take event 1 again (nobody would then wait for 2).
    const second = await executor.sendEvent('tick', 2);
    expect(second.delivered).toBe(1);
    expect((await handle.result()).output).toEqual([1, 2, null]);
  });

  it('a step woken out of memory by an event or an input records step_woken, as one woken in memory does', async () => {
    const wf = workflow('woken-out-of-memory').step('s', async (ctx) => {
      const event = await ctx.waitForEvent('wake.up');
      const input = await ctx.waitForInput('answer');
      return { event, input };
    });
    const executor = fx.executor();
    const handle = await executor.start(wf, null);
    await pendingWait(executor, handle.runId);
    await waitUntil(async () => (await executor.store.getRun(handle.runId))?.wakeAt != null);
    await executor.sendEvent('wake.up', 1);
    await waitUntil(async () => (await executor.waits(handle.runId)).some((w) => w.kind === 'input'));
    await executor.provideInput(handle.runId, 'answer', 2);
    expect((await handle.result()).output).toEqual({ event: 1, input: 2 });
    const events = await executor.store.listEvents({ runId: handle.runId });
    const woken = events.filter((e) => e.type === 'step_woken').map((e) => JSON.parse(e.data as string));
    expect(events.filter((e) => e.type === 'step_waiting')).toHaveLength(2);
    // Before its fix: none (the run is loaded with its step queued to run again, and no event says so).
    expect(woken).toEqual([
      { key: 'event:wake.up#0', status: 'resolved' },
      { key: 'input:answer#0', status: 'resolved' },
    ]);
  });

  it('provideInput refuses a value the step schema refuses (a refinement JSON Schema cannot say), and changes nothing', async () => {
    const even = z.number().refine((n) => n % 2 === 0, 'must be even');
    const wf = workflow('refined-input').step('ask', (ctx) => ctx.waitForInput('n', { schema: even }));
    const executor = fx.executor();
    const handle = await executor.start(wf, null);
    await pendingWait(executor, handle.runId);
    // Before its fix: it is accepted (the stored JSON Schema only says "number"), then the step's parse
    // throws InvalidInputValueError inside the step and the run fails.
    await expect(executor.provideInput(handle.runId, 'n', 3)).rejects.toBeInstanceOf(InvalidInputValueError);
    expect((await executor.waits(handle.runId))[0]?.status).toBe('pending');
    await executor.provideInput(handle.runId, 'n', 4);
    expect((await handle.result()).output).toBe(4);
  });

  describe.each(['memory', 'sqlite'] as const)('on the %s store', (kind) => {
    const store = (): Store => (kind === 'memory' ? new MemoryStore() : fx.sqliteStore(fx.sqlitePath()));

    it('an event sent after a wait timed out is not delivered to it, even if no executor has looked at the run since', async () => {
      const shared = store();
      const wf = workflow('timed-out-then-sent').step('s', async (ctx) => ({
        got: await ctx.waitForEvent('too.late', { timeout: EVICT_AFTER_MS + 200 }),
      }));
      const worker = fx.executor({ store: shared, workflows: [wf] });
      const handle = await worker.start(wf, null);
      const wait = await pendingWait(worker, handle.runId);
      await waitUntil(async () => (await worker.store.getRun(handle.runId))?.wakeAt != null);
      await worker.cleanup(); // the worker is down (or busy) past the wait's deadline
      await sleep(Math.max(0, (wait.dueAt as number) - Date.now()) + 300);

      // A process that only sends (a CLI, an API server with `recover: false`).
      const client = fx.executor({ store: shared, recover: false });
      const sent = await client.sendEvent('too.late', { late: true });
      await client.cleanup();
      // Before its fix: delivered 1, and the run returns the event instead of null.
      expect(sent.delivered).toBe(0);
      const restarted = fx.executor({ store: shared, workflows: [wf] });
      expect((await (await restarted.getHandle(handle.runId)).result()).output).toEqual({ got: null });
    });

    it('an input given after its timeout passed is refused, even if no executor has looked at the run since', async () => {
      const shared = store();
      const wf = workflow('input-after-timeout').step('s', async (ctx) => ({
        v: await ctx.waitForInput('late', { timeout: EVICT_AFTER_MS + 200 }),
      }));
      const worker = fx.executor({ store: shared, workflows: [wf] });
      const handle = await worker.start(wf, null);
      const wait = await pendingWait(worker, handle.runId);
      await waitUntil(async () => (await worker.store.getRun(handle.runId))?.wakeAt != null);
      await worker.cleanup();
      await sleep(Math.max(0, (wait.dueAt as number) - Date.now()) + 300);

      const client = fx.executor({ store: shared, recover: false });
      const given = await client.provideInput(handle.runId, 'late', 7).then(
        () => 'accepted',
        (error) => error.code,
      );
      await client.cleanup();
      expect(given).toBe('input_not_awaited'); // today: accepted, and the run returns 7
      const restarted = fx.executor({ store: shared, workflows: [wf] });
      expect((await (await restarted.getHandle(handle.runId)).result()).output).toEqual({ v: null });
    });
  });
});
