import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { emptyBatch, type RunRecord, type StepRecord, workflow } from '../../src/index.js';
import { deferred, untilAborted, useEngineFixture, waitUntil } from './helpers.js';

function counted(name: string) {
  const calls = { n: 0 };
  const wf = workflow(name).step('s', (ctx) => {
    calls.n++;
    return `processed ${String(ctx.input)}`;
  });
  return { wf, calls };
}

describe('idempotent trigger', () => {
  const fx = useEngineFixture();

  it('returns the same run for the same idempotencyKey', async () => {
    const { wf, calls } = counted('idem-sequential');
    const executor = fx.executor();
    const first = await executor.start(wf, 'a', { idempotencyKey: 'order-1' });
    await first.result();
    const second = await executor.start(wf, 'a', { idempotencyKey: 'order-1' });
    const viaExecute = await executor.execute(wf, 'a', undefined, { idempotencyKey: 'order-1' });

    expect(second.runId).toBe(first.runId);
    expect(viaExecute.runId).toBe(first.runId);
    expect(viaExecute.output).toBe('processed a');
    expect(calls.n).toBe(1);
    expect((await executor.store.listRuns({})).runs).toHaveLength(1);
  });

  it('returns the same run for two starts with the same key in the same tick', async () => {
    const { wf, calls } = counted('idem-concurrent');
    const executor = fx.executor();
    const [a, b] = await Promise.all([
      executor.start(wf, 'x', { idempotencyKey: 'same-tick' }),
      executor.start(wf, 'x', { idempotencyKey: 'same-tick' }),
    ]);
    await Promise.all([a.result(), b.result()]);

    expect(a.runId).toBe(b.runId);
    expect(calls.n).toBe(1);
    expect((await executor.store.listRuns({})).runs).toHaveLength(1);
  });

  it('gives different keys different runs', async () => {
    const { wf } = counted('idem-different');
    const executor = fx.executor();
    const a = await executor.start(wf, 'x', { idempotencyKey: 'k1' });
    const b = await executor.start(wf, 'x', { idempotencyKey: 'k2' });
    expect(a.runId).not.toBe(b.runId);
  });

  it('does not keep a key whose start was refused', async () => {
    const wf = workflow('idem-refused', { input: z.number() }).step('s', (ctx) => ctx.input * 2);
    const executor = fx.executor();
    await expect(executor.start(wf, JSON.parse('"not a number"'), { idempotencyKey: 'retry-me' })).rejects.toThrow();
    const handle = await executor.start(wf, 21, { idempotencyKey: 'retry-me' });
    expect((await handle.result()).output).toBe(42);
  });

  it('returns the same run from a new executor on the same SQLite file', async () => {
    const file = fx.sqlitePath();
    const { wf, calls } = counted('idem-restart');
    const first = fx.executor({ store: fx.sqliteStore(file) });
    const original = await first.execute(wf, 'y', undefined, { idempotencyKey: 'across-restart' });
    await first.cleanup();

    const second = fx.executor({ store: fx.sqliteStore(file) });
    const again = await second.execute(wf, 'y', undefined, { idempotencyKey: 'across-restart' });

    expect(again.runId).toBe(original.runId);
    expect(again.output).toBe('processed y');
    expect(calls.n).toBe(1);
  });
});

describe('durable before visible', () => {
  const fx = useEngineFixture();

  it('has the run stored when start() returns', async () => {
    const executor = fx.executor();
    const handle = await executor.start(
      workflow('stored-at-start').step('s', () => 1),
      { n: 1 },
    );
    const rec = await executor.store.getRun(handle.runId);
    expect(rec?.workflow).toBe('stored-at-start');
    expect(rec?.input).toBe('{"n":1}');
  });

  it("has a parent's output stored before its child starts", async () => {
    let seenByChild: StepRecord | undefined;
    const executor = fx.executor();
    const wf = workflow('stored-before-child')
      .step('a', () => ({ value: 'A' }))
      .step('b', { parents: ['a'] }, async (ctx) => {
        seenByChild = (await executor.store.getSteps(ctx.runId)).find((s) => s.name === 'a');
        return 'B';
      });
    await executor.execute(wf, null);
    expect(seenByChild?.status).toBe('succeeded');
    expect(seenByChild?.output).toBe('{"value":"A"}');
  });

  it("has the run's end stored when execute() resolves", async () => {
    const executor = fx.executor();
    const result = await executor.execute(
      workflow('stored-at-end').step('s', () => 'out'),
      null,
    );
    const rec = await executor.store.getRun(result.runId);
    expect(rec?.status).toBe('succeeded');
    expect(rec?.output).toBe('"out"');
  });
});

describe('recovery after a restart', () => {
  const fx = useEngineFixture();

  /** a -> b -> c; `b` hangs on its first call (the process "dies" while it runs). */
  function interruptible(name: string) {
    const calls = { a: 0, b: 0, c: 0 };
    const bStarted = deferred<string>();
    const wf = workflow(name)
      .step('a', () => {
        calls.a++;
        return 'A';
      })
      .step('b', { parents: ['a'] }, async (ctx) => {
        calls.b++;
        if (calls.b === 1) {
          bStarted.resolve(ctx.runId);
          await new Promise(() => {});
        }
        return `${ctx.parent('a')}B`;
      })
      .step('c', { parents: ['b'] }, (ctx) => {
        calls.c++;
        return `${ctx.parent('b')}C`;
      });
    return { wf, calls, bStarted };
  }

  it('resumes a run whose step was running, without running the finished step again', async () => {
    const file = fx.sqlitePath();
    const t = interruptible('recover-interrupted');
    const first = fx.executor({ store: fx.sqliteStore(file) });
    await first.start(t.wf, null);
    const runId = await t.bStarted.promise;
    await first.cleanup();

    const store = fx.sqliteStore(file);
    await store.open();
    expect((await store.getRun(runId))?.status).toBe('running');
    expect((await store.getSteps(runId)).find((s) => s.name === 'b')?.status).toBe('running');

    const second = fx.executor({ store, workflows: [t.wf] });
    const result = await (await second.getHandle(runId)).result();

    expect(result.success).toBe(true);
    expect(result.output).toBe('ABC');
    expect(t.calls).toEqual({ a: 1, b: 2, c: 1 });
    expect(result.context.nodeResults.b?.attempts).toBe(2);
    expect(result.nodeExecutionOrder).toEqual(['a', 'b', 'c']);
  });

  it('returns the resumed runs from executor.recover()', async () => {
    const file = fx.sqlitePath();
    const t = interruptible('recover-handles');
    const first = fx.executor({ store: fx.sqliteStore(file) });
    await first.start(t.wf, null);
    const runId = await t.bStarted.promise;
    await first.cleanup();

    const second = fx.executor({ store: fx.sqliteStore(file), workflows: [t.wf] });
    const handles = await second.recover();

    expect(handles.map((h) => h.runId)).toEqual([runId]);
    expect((await handles[0]?.result())?.output).toBe('ABC');
  });

  it('does not resume runs when recover is false', async () => {
    const file = fx.sqlitePath();
    const t = interruptible('recover-off');
    const first = fx.executor({ store: fx.sqliteStore(file) });
    await first.start(t.wf, null);
    const runId = await t.bStarted.promise;
    await first.cleanup();

    const second = fx.executor({ store: fx.sqliteStore(file), workflows: [t.wf], recover: false });
    await second.open();
    expect(await (await second.getHandle(runId)).status()).toBe('running');
    expect(t.calls.b).toBe(1);
  });

  it('resumes a run written directly to the store with a step stuck in running', async () => {
    const file = fx.sqlitePath();
    const calls = { a: 0, b: 0 };
    const wf = workflow('recover-written')
      .step('a', () => {
        calls.a++;
        return 'fresh A';
      })
      .step('b', { parents: ['a'] }, (ctx) => {
        calls.b++;
        return `${ctx.parent('a')} then B`;
      });
    const now = Date.now();
    const run: RunRecord = {
      id: 'crashed-run',
      workflow: 'recover-written',
      version: '1',
      status: 'running',
      input: '{}',
      output: null,
      error: null,
      globals: '{}',
      idempotencyKey: null,
      parentRunId: null,
      parentStep: null,
      spawnKey: null,
      rootRunId: 'crashed-run',
      concurrencyKey: null,
      replayOf: null,
      createdAt: now - 1000,
      startedAt: now - 1000,
      finishedAt: null,
      deadlineAt: null,
      checkpointSeq: 0,
      wakeAt: null,
      pausedAt: null,
      priority: 0,
    };
    const step = (name: string, fields: Partial<StepRecord>): StepRecord => ({
      runId: run.id,
      name,
      status: 'pending',
      attempts: 0,
      output: null,
      error: null,
      startedAt: null,
      finishedAt: null,
      nextAttemptAt: null,
      route: null,
      cacheHit: false,
      fallbackUsed: false,
      ...fields,
    });
    const store = fx.sqliteStore(file);
    await store.open();
    await store.commit({
      ...emptyBatch(),
      newRuns: [run],
      steps: [
        step('a', {
          status: 'succeeded',
          attempts: 1,
          output: '"stored A"',
          startedAt: now - 900,
          finishedAt: now - 800,
        }),
        step('b', { status: 'running', attempts: 1, startedAt: now - 700 }),
      ],
    });

    const executor = fx.executor({ store, workflows: [wf] });
    const result = await (await executor.getHandle('crashed-run')).result();

    expect(result.success).toBe(true);
    expect(result.output).toBe('stored A then B');
    expect(calls).toEqual({ a: 0, b: 1 });
  });

  it('counts an interrupted attempt against nothing: a step without retries still runs again', async () => {
    const file = fx.sqlitePath();
    const t = interruptible('recover-no-retries');
    const first = fx.executor({ store: fx.sqliteStore(file), retryFailedNodes: false });
    await first.start(t.wf, null);
    const runId = await t.bStarted.promise;
    await first.cleanup();

    const second = fx.executor({ store: fx.sqliteStore(file), workflows: [t.wf], retryFailedNodes: false });
    const result = await (await second.getHandle(runId)).result();
    expect(result.success).toBe(true);
  });

  it('waits out a stored retry time after a restart', async () => {
    const file = fx.sqlitePath();
    let calls = 0;
    const wf = workflow('recover-backoff').step('s', { retries: 1, backoff: { initialMs: 150, jitter: 0 } }, () => {
      calls++;
      if (calls === 1) throw new Error('first attempt fails');
      return 'second attempt';
    });
    const first = fx.executor({ store: fx.sqliteStore(file) });
    const handle = await first.start(wf, null);
    await waitUntil(async () => (await first.store.getSteps(handle.runId))[0]?.nextAttemptAt != null);
    const nextAttemptAt = (await first.store.getSteps(handle.runId))[0]?.nextAttemptAt ?? 0;
    await first.cleanup();

    const second = fx.executor({ store: fx.sqliteStore(file), workflows: [wf] });
    const result = await (await second.getHandle(handle.runId)).result();
    const events = await second.store.listEvents({ runId: handle.runId });
    const secondStart = events.find((e) => e.type === 'step_started' && e.attempt === 2);

    expect(result.output).toBe('second attempt');
    expect(calls).toBe(2);
    expect(secondStart?.at).toBeGreaterThanOrEqual(nextAttemptAt);
  });

  it('keeps a finished run finished in a new executor', async () => {
    const file = fx.sqlitePath();
    const { wf, calls } = counted('recover-finished');
    const first = fx.executor({ store: fx.sqliteStore(file) });
    const done = await first.execute(wf, 'z');
    await first.cleanup();

    const second = fx.executor({ store: fx.sqliteStore(file), workflows: [wf] });
    expect(await second.recover()).toEqual([]);
    const inspected = await second.inspect(done.runId);
    expect(inspected.output).toBe('processed z');
    expect(inspected.context.nodeResults.s?.attempts).toBe(1);
    expect(calls.n).toBe(1);
  });

  it('keeps the run deadline across a restart', async () => {
    const file = fx.sqlitePath();
    const started = deferred<string>();
    const wf = workflow('recover-deadline', { timeoutSeconds: 0.3 }).step('s', (ctx) => {
      started.resolve(ctx.runId);
      return untilAborted(ctx.signal);
    });
    const first = fx.executor({ store: fx.sqliteStore(file) });
    await first.start(wf, null);
    const runId = await started.promise;
    const deadlineAt = (await first.store.getRun(runId))?.deadlineAt ?? 0;
    await first.cleanup();

    const second = fx.executor({ store: fx.sqliteStore(file), workflows: [wf] });
    const result = await (await second.getHandle(runId)).result();
    expect(result.status).toBe('timed_out');
    expect(result.endTime).toBeGreaterThanOrEqual(deadlineAt);
    expect((await second.store.getRun(runId))?.deadlineAt).toBe(deadlineAt);
  });
});
