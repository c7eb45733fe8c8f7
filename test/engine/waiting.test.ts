import { describe, expect, it } from 'vitest';
import { EVICT_AFTER_MS } from '../../src/engine/runSleep.js';
import { type ExecutionResult, workflow } from '../../src/index.js';
import { deferred, sleep, useEngineFixture, waitUntil } from './helpers.js';

/** A step that fails its first attempt and succeeds on the second, after a backoff of `backoffMs`. */
function retriesOnceAfter(name: string, backoffMs: number, options: { timeoutSeconds?: number } = {}) {
  const attempts: number[] = [];
  const wf = workflow(name, options).step(
    'flaky',
    { retries: 1, backoff: { initialMs: backoffMs, jitter: 0 } },
    (ctx) => {
      attempts.push(Date.now());
      if (ctx.attempt === 1) throw new Error('first attempt fails');
      return `ok after ${ctx.attempt}`;
    },
  );
  return { wf, attempts };
}

describe('a run that only waits leaves memory (the waiting state)', () => {
  const fx = useEngineFixture();

  it('sleeps as a row with its wake-up time, holds no slot, and wakes on time', async () => {
    const backoffMs = EVICT_AFTER_MS + 300;
    const t = retriesOnceAfter('sleeps-through-backoff', backoffMs);
    const executor = fx.executor({ maxParallelNodes: 1 });
    const handle = await executor.start(t.wf, null);
    await waitUntil(async () => (await executor.store.getRun(handle.runId))?.wakeAt !== null);
    const asleep = await executor.store.getRun(handle.runId);
    expect(asleep?.status).toBe('running');
    expect(asleep?.wakeAt).toBeGreaterThanOrEqual((t.attempts[0] as number) + backoffMs);

    // Its one slot is free meanwhile: another run goes through at once.
    const other = await executor.execute(
      workflow('meanwhile').step('s', () => 'done'),
      null,
    );
    expect(other.output).toBe('done');

    const result = await handle.result();
    expect(result.output).toBe('ok after 2');
    const waited = (t.attempts[1] as number) - (t.attempts[0] as number);
    expect(waited).toBeGreaterThanOrEqual(backoffMs - 5);
    expect(waited).toBeLessThan(backoffMs + 1000);
    expect((await executor.store.getRun(handle.runId))?.wakeAt).toBeNull();
  });

  it('keeps a short wait in memory: no wake-up time is written', async () => {
    const t = retriesOnceAfter('short-backoff', 20);
    const executor = fx.executor();
    const handle = await executor.start(t.wf, null);
    await waitUntil(() => t.attempts.length === 1);
    await sleep(5);
    expect((await executor.store.getRun(handle.runId))?.wakeAt).toBeNull();
    expect((await handle.result()).output).toBe('ok after 2');
  });

  it('a sleeping run wakes after a restart at its stored time, not again from zero', async () => {
    const file = fx.sqlitePath();
    const backoffMs = EVICT_AFTER_MS + 800;
    const t = retriesOnceAfter('sleeps-across-restart', backoffMs);
    const first = fx.executor({ store: fx.sqliteStore(file) });
    const handle = await first.start(t.wf, null);
    await waitUntil(async () => (await first.store.getRun(handle.runId))?.wakeAt !== null);
    await first.cleanup();

    const second = fx.executor({ store: fx.sqliteStore(file), workflows: [t.wf] });
    // Recovery leaves it asleep: it is not loaded until its time.
    expect(await second.recover()).toEqual([]);
    const result = await (await second.getHandle(handle.runId)).result();
    expect(result.output).toBe('ok after 2');
    expect(t.attempts).toHaveLength(2);
    const waited = (t.attempts[1] as number) - (t.attempts[0] as number);
    expect(waited).toBeGreaterThanOrEqual(backoffMs - 5);
    expect(waited).toBeLessThan(backoffMs + 1500);
  });

  it('cancels a sleeping run, and pauses and resumes one', async () => {
    const t = retriesOnceAfter('steered-in-sleep', 60_000);
    const executor = fx.executor();
    const a = await executor.start(t.wf, null);
    const b = await executor.start(t.wf, null);
    await waitUntil(async () => (await executor.store.getRun(b.runId))?.wakeAt !== null);
    const cancelled = await executor.cancel(a.runId, 'not needed');
    expect(cancelled.status).toBe('cancelled');
    const paused = await executor.pause(b.runId);
    expect(paused.status).toBe('paused');
    expect((await executor.store.getRun(b.runId))?.wakeAt).toBeNull();
    await executor.resume(b.runId);
    expect(await (await executor.getHandle(b.runId)).status()).toBe('running');
    await executor.cancel(b.runId);
  });

  it('a sleeping run still ends at its deadline', async () => {
    const t = retriesOnceAfter('deadline-in-sleep', 60_000, { timeoutSeconds: 1.5 });
    const executor = fx.executor();
    const result = await executor.execute(t.wf, null);
    expect(result.status).toBe('timed_out');
    expect(result.error?.code).toBe('run_timeout');
  });
});

describe('a paused run and its deadline', () => {
  const fx = useEngineFixture();

  /** a -> b, where `a` waits for the test; the run has a deadline of `seconds`. */
  function gated(name: string, seconds: number) {
    const started = deferred<string>();
    const release = deferred();
    const wf = workflow(name, { timeoutSeconds: seconds })
      .step('a', async (ctx) => {
        started.resolve(ctx.runId);
        await release.promise;
        return 1;
      })
      .step('b', { parents: ['a'] }, () => 2);
    return { wf, started, release };
  }

  it('stays paused past its deadline; the time paused does not count', async () => {
    const t = gated('paused-past-deadline', 0.4);
    const executor = fx.executor();
    const handle = await executor.start(t.wf, null);
    const pausing = executor.pause(await t.started.promise);
    t.release.resolve();
    await pausing;
    await sleep(700);
    expect(await handle.status()).toBe('paused');
    await executor.resume(handle.runId);
    const result = await handle.result();
    expect(result.status).toBe('succeeded');
  });

  it('keeps the time left across a restart: resume moves the deadline on by the time paused', async () => {
    const file = fx.sqlitePath();
    const t = gated('paused-across-restart', 0.5);
    const first = fx.executor({ store: fx.sqliteStore(file) });
    const handle = await first.start(t.wf, null);
    const pausing = first.pause(await t.started.promise);
    t.release.resolve();
    await pausing;
    const before = await first.store.getRun(handle.runId);
    await first.cleanup();
    await sleep(700);

    const second = fx.executor({ store: fx.sqliteStore(file), workflows: [t.wf] });
    await second.resume(handle.runId);
    const after = await second.store.getRun(handle.runId);
    expect(after?.pausedAt).toBeNull();
    expect((after?.deadlineAt as number) - (before?.deadlineAt as number)).toBeGreaterThanOrEqual(700);
    const result: ExecutionResult = await (await second.getHandle(handle.runId)).result();
    expect(result.status).toBe('succeeded');
  });
});
