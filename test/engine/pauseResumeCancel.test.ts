import { describe, expect, it } from 'vitest';
import {
  defineWorkflow,
  InvalidStateError,
  RunCancelledError,
  RunNotFoundError,
  type StepContext,
  type WorkflowExecutor,
  workflow,
} from '../../src/index.js';
import { deferred, untilAborted, useEngineFixture, waitUntil } from './helpers.js';

/** a -> b -> c, where `a` waits until the test releases it. */
function gatedChain(name: string) {
  const aStarted = deferred<string>();
  const releaseA = deferred();
  const calls = { a: 0, b: 0, c: 0 };
  const wf = workflow(name)
    .step('a', async (ctx) => {
      calls.a++;
      aStarted.resolve(ctx.runId);
      await releaseA.promise;
      return 'A';
    })
    .step('b', { parents: ['a'] }, (ctx) => {
      calls.b++;
      return `${ctx.parent('a')}B`;
    })
    .step('c', { parents: ['b'] }, (ctx) => {
      calls.c++;
      return `${ctx.parent('b')}C`;
    });
  return { wf, aStarted, releaseA, calls };
}

describe('pause', () => {
  const fx = useEngineFixture();

  it('lets the running step finish and be recorded, and starts none of its children', async () => {
    const t = gatedChain('pause-running');
    const executor = fx.executor();
    const executing = executor.execute(t.wf, null);
    const runId = await t.aStarted.promise;

    const pausing = executor.pause(runId);
    t.releaseA.resolve();
    const paused = await pausing;

    expect(paused.paused).toBe(true);
    expect(paused.status).toBe('paused');
    expect(paused.context.nodeResults.a?.status).toBe('succeeded');
    expect(paused.context.nodeResults.a?.output).toBe('A');
    expect(paused.context.nodeResults.b?.status).toBe('pending');
    expect(t.calls).toEqual({ a: 1, b: 0, c: 0 });
    expect(paused.checkpoint).toMatchObject({ runId, completedNodes: ['a'] });

    const stored = await executor.store.getSteps(runId);
    expect(stored.find((s) => s.name === 'a')?.status).toBe('succeeded');
    expect((await executor.store.getRun(runId))?.status).toBe('paused');

    const fromExecute = await executing;
    expect(fromExecute.paused).toBe(true);
    expect(fromExecute.success).toBe(false);
    expect(fromExecute.checkpoint?.runId).toBe(runId);
  });

  it('settles even when the running step fails and will retry', async () => {
    const started = deferred<string>();
    const fail = deferred();
    let calls = 0;
    const wf = workflow('pause-retrying').step('s', { retries: 1, backoff: { initialMs: 1 } }, async (ctx) => {
      calls++;
      if (calls === 1) {
        started.resolve(ctx.runId);
        await fail.promise;
        throw new Error('first attempt fails');
      }
      return 'second attempt';
    });
    const executor = fx.executor();
    const handle = await executor.start(wf, null);
    const runId = await started.promise;
    const pausing = executor.pause(runId);
    fail.resolve();
    const paused = await pausing;

    expect(paused.paused).toBe(true);
    expect(paused.context.nodeResults.s?.status).toBe('queued');
    expect(calls).toBe(1);

    await executor.resume(runId);
    const result = await handle.result();
    expect(result.output).toBe('second attempt');
    expect(calls).toBe(2);
  });

  it('does not start queued steps waiting for a slot, and runs them after resume', async () => {
    const started: string[] = [];
    const firstRunning = deferred<string>();
    const releaseFirst = deferred();
    const wf = defineWorkflow(
      'pause-queued',
      {},
      ['s0', 's1', 's2', 's3'].map((name) => ({
        name,
        run: async (ctx: StepContext) => {
          started.push(name);
          if (started.length === 1) {
            firstRunning.resolve(ctx.runId);
            await releaseFirst.promise;
          }
          return name;
        },
      })),
    );
    const executor = fx.executor({ maxParallelNodes: 1 });
    const handle = await executor.start(wf, null);
    const runId = await firstRunning.promise;
    const pausing = executor.pause(runId);
    releaseFirst.resolve();
    const paused = await pausing;

    expect(started).toHaveLength(1);
    expect(Object.values(paused.context.nodeResults).filter((n) => n.status === 'succeeded')).toHaveLength(1);

    await executor.resume(runId);
    const result = await handle.result();
    expect(result.success).toBe(true);
    expect([...started].sort()).toEqual(['s0', 's1', 's2', 's3']);
  });

  it('returns the same paused result when pausing a paused run', async () => {
    const t = gatedChain('pause-twice');
    const executor = fx.executor();
    await executor.start(t.wf, null);
    const runId = await t.aStarted.promise;
    t.releaseA.resolve();
    await executor.pause(runId);
    const again = await executor.pause(runId);
    expect(again.paused).toBe(true);
  });

  it('refuses to pause a finished run with InvalidStateError', async () => {
    const executor = fx.executor();
    const result = await executor.execute(
      workflow('pause-finished').step('s', () => 1),
      null,
    );
    await expect(executor.pause(result.runId)).rejects.toBeInstanceOf(InvalidStateError);
  });
});

describe('resume', () => {
  const fx = useEngineFixture();

  async function pausedAfterA(executor: WorkflowExecutor, name: string) {
    const t = gatedChain(name);
    const handle = await executor.start(t.wf, null);
    const runId = await t.aStarted.promise;
    const pausing = executor.pause(runId);
    t.releaseA.resolve();
    const paused = await pausing;
    return { ...t, handle, paused };
  }

  it('continues a paused run by id to success without running a finished step again', async () => {
    const executor = fx.executor();
    const t = await pausedAfterA(executor, 'resume-by-id');
    const handle = await executor.resume(t.handle.runId);
    const result = await handle.result();

    expect(result.success).toBe(true);
    expect(result.output).toBe('ABC');
    expect(t.calls).toEqual({ a: 1, b: 1, c: 1 });
    expect(result.nodeExecutionOrder).toEqual(['a', 'b', 'c']);
  });

  it('continues a paused run from the checkpoint of its paused result', async () => {
    const executor = fx.executor();
    const t = await pausedAfterA(executor, 'resume-by-checkpoint');
    const checkpoint = t.paused.checkpoint;
    expect(checkpoint).toBeDefined();
    if (!checkpoint) return;
    const handle = await executor.resume(checkpoint);
    const result = await handle.result();

    expect(result.success).toBe(true);
    expect(t.calls).toEqual({ a: 1, b: 1, c: 1 });
  });

  it('records run_paused and run_resumed events', async () => {
    const executor = fx.executor();
    const t = await pausedAfterA(executor, 'resume-events');
    await (await executor.resume(t.handle.runId)).result();
    const types = (await executor.store.listEvents({ runId: t.handle.runId })).map((e) => e.type);
    expect(types.indexOf('run_paused')).toBeGreaterThan(-1);
    expect(types.indexOf('run_resumed')).toBeGreaterThan(types.indexOf('run_paused'));
  });

  it('continues a paused run in a new executor after cleanup, on the same SQLite file', async () => {
    const file = fx.sqlitePath();
    const first = fx.executor({ store: fx.sqliteStore(file) });
    const t = await pausedAfterA(first, 'resume-after-restart');
    const runId = t.handle.runId;
    await first.cleanup();

    const second = fx.executor({ store: fx.sqliteStore(file), workflows: [t.wf] });
    expect(await (await second.getHandle(runId)).status()).toBe('paused');
    const handle = await second.resume(runId);
    const result = await handle.result();

    expect(result.success).toBe(true);
    expect(result.output).toBe('ABC');
    expect(t.calls).toEqual({ a: 1, b: 1, c: 1 });
  });

  it('restores checkpointed global variables when a paused run resumes after a restart', async () => {
    const file = fx.sqlitePath();
    const release = deferred();
    const started = deferred<string>();
    const wf = workflow('resume-globals')
      .step('a', async (ctx) => {
        ctx.setGlobal('fromA', 'kept');
        started.resolve(ctx.runId);
        await release.promise;
        return 1;
      })
      .step('b', { parents: ['a'] }, (ctx) => ctx.globals.fromA);
    const first = fx.executor({ store: fx.sqliteStore(file), enableCheckpoints: true });
    await first.start(wf, null);
    const runId = await started.promise;
    const pausing = first.pause(runId);
    release.resolve();
    await pausing;
    await first.cleanup();

    const second = fx.executor({ store: fx.sqliteStore(file), workflows: [wf], enableCheckpoints: true });
    const result = await (await second.resume(runId)).result();
    expect(result.output).toBe('kept');
  });

  it('keeps the global variables a step set across pause and resume, with checkpoints off', async () => {
    const release = deferred();
    const started = deferred<string>();
    const wf = workflow('globals-across-pause')
      .step('a', async (ctx) => {
        ctx.setGlobal('seen', ctx.globals.tenant);
        started.resolve(ctx.runId);
        await release.promise;
        return 1;
      })
      .step('b', { parents: ['a'] }, () => 2);
    const executor = fx.executor();
    const handle = await executor.start(wf, null, { globals: { tenant: 'acme' } });
    const pausing = executor.pause(await started.promise);
    release.resolve();
    const paused = await pausing;
    expect(paused.context.globalVariables).toEqual({ tenant: 'acme', seen: 'acme' });
    await executor.resume(handle.runId);
    const done = await handle.result();
    expect(done.context.globalVariables).toEqual({ tenant: 'acme', seen: 'acme' });
    expect((await executor.inspect(handle.runId)).context.globalVariables).toEqual({ tenant: 'acme', seen: 'acme' });
  });

  it('refuses to resume a running run with InvalidStateError', async () => {
    const t = gatedChain('resume-running');
    const executor = fx.executor();
    await executor.start(t.wf, null);
    const runId = await t.aStarted.promise;
    await expect(executor.resume(runId)).rejects.toBeInstanceOf(InvalidStateError);
    t.releaseA.resolve();
  });

  it('refuses to resume an unknown run with RunNotFoundError', async () => {
    await expect(fx.executor().resume('no-such-run')).rejects.toBeInstanceOf(RunNotFoundError);
  });
});

describe('cancel', () => {
  const fx = useEngineFixture();

  it("aborts running steps' signals and returns cancelled with the finished steps' outputs", async () => {
    const signals: AbortSignal[] = [];
    const bothRunning = deferred();
    const waitForCancel = (ctx: StepContext) => {
      signals.push(ctx.signal);
      if (signals.length === 2) bothRunning.resolve();
      return untilAborted(ctx.signal);
    };
    const wf = workflow('cancel-running')
      .step('quick', () => 'q')
      .step('slowA', { parents: ['quick'] }, waitForCancel)
      .step('slowB', { parents: ['quick'] }, waitForCancel)
      .step('after', { parents: ['slowA', 'slowB'] }, () => 'never');
    const executor = fx.executor();
    const executing = executor.execute(wf, null);
    await bothRunning.promise;
    const runId = (await executor.store.listRuns({})).runs[0]?.id ?? '';

    const cancelled = await executor.cancel(runId, 'user asked');

    expect(cancelled.cancelled).toBe(true);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.success).toBe(false);
    expect(cancelled.partialResults).toEqual({ quick: 'q' });
    expect(cancelled.error?.message).toContain('user asked');
    expect(signals.map((s) => s.aborted)).toEqual([true, true]);
    expect(signals[0]?.reason).toBeInstanceOf(RunCancelledError);
    const nodes = cancelled.context.nodeResults;
    expect([nodes.slowA?.status, nodes.slowB?.status, nodes.after?.status]).toEqual([
      'cancelled',
      'cancelled',
      'cancelled',
    ]);
    expect((await executing).cancelled).toBe(true);
    expect((await executor.store.getRun(runId))?.status).toBe('cancelled');
  });

  it('cancels a paused run', async () => {
    const t = gatedChain('cancel-paused');
    const executor = fx.executor();
    await executor.start(t.wf, null);
    const runId = await t.aStarted.promise;
    const pausing = executor.pause(runId);
    t.releaseA.resolve();
    await pausing;

    const cancelled = await executor.cancel(runId);
    expect(cancelled.cancelled).toBe(true);
    expect(cancelled.partialResults).toEqual({ a: 'A' });
    expect(t.calls.b).toBe(0);
  });

  it('returns the stored result when cancelling a finished run', async () => {
    const executor = fx.executor();
    const done = await executor.execute(
      workflow('cancel-finished').step('s', () => 'x'),
      null,
    );
    const again = await executor.cancel(done.runId);
    expect(again.status).toBe('succeeded');
    expect(again.output).toBe('x');
  });

  it('stops a step waiting for its retry', async () => {
    let calls = 0;
    const wf = workflow('cancel-in-backoff').step('s', { retries: 3, backoff: { initialMs: 200, jitter: 0 } }, () => {
      calls++;
      throw new Error('fails');
    });
    const executor = fx.executor();
    const handle = await executor.start(wf, null);
    await waitUntil(async () => (await executor.store.getSteps(handle.runId)).some((s) => s.nextAttemptAt !== null));
    const cancelled = await executor.cancel(handle.runId);
    expect(cancelled.context.nodeResults.s?.status).toBe('cancelled');
    expect(calls).toBe(1);
  });
});

describe('unknown run ids', () => {
  const fx = useEngineFixture();

  it('pause throws RunNotFoundError', async () => {
    await expect(fx.executor().pause('missing')).rejects.toBeInstanceOf(RunNotFoundError);
  });

  it('cancel throws RunNotFoundError', async () => {
    await expect(fx.executor().cancel('missing')).rejects.toBeInstanceOf(RunNotFoundError);
  });
});
