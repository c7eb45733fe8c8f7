/**
 * `executor.fork(runId, { from, input?, outputs?, version? })` on the two embedded stores: a new run
 * of the same workflow that reuses the original's outcome for every step not downstream of `from`
 * (recorded as reused, never executed) and runs `from` and what follows again. Bad requests are
 * typed errors and create nothing. (PostgreSQL with a worker: test/worker/fork.postgres.test.ts;
 * SIGKILL during a fork: test/crash/fork.crash.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type ExecutorOptions,
  ForkVersionMismatchError,
  InvalidForkOutputsError,
  InvalidInputError,
  NotSerializableError,
  RunNotEndedError,
  RunNotFoundError,
  UnknownForkStepError,
  type WorkflowExecutor,
  workflow,
} from '../../src/index.js';
import { deferred, useEngineFixture } from './helpers.js';

const STORES = ['memory', 'sqlite'] as const;

/** a -> b -> c, and a -> d beside b: each step counts its executions. */
function pipeline(name: string) {
  const ran: Record<string, number> = {};
  const count = (step: string) => {
    ran[step] = (ran[step] ?? 0) + 1;
  };
  const wf = workflow(name, { input: z.object({ n: z.number() }) })
    .step('a', (ctx) => {
      count('a');
      return ctx.input.n * 10;
    })
    .step('b', { parents: ['a'] }, (ctx) => {
      count('b');
      return (ctx.parent('a') as number) + ctx.input.n;
    })
    .step('c', { parents: ['b'] }, (ctx) => {
      count('c');
      return { c: ctx.parent('b') as number };
    })
    .step('d', { parents: ['a'] }, (ctx) => {
      count('d');
      return `d${ctx.parent('a') as number}`;
    });
  return { wf, ran };
}

async function runCount(executor: WorkflowExecutor): Promise<number> {
  return (await executor.store.listRuns({ limit: 1000 })).runs.length;
}

describe.each(STORES)('fork on the %s store', (kind) => {
  const fx = useEngineFixture();
  const open = (options: ExecutorOptions = {}) =>
    fx.executor(kind === 'sqlite' ? { store: fx.sqliteStore(fx.sqlitePath()), ...options } : options);

  it('reuses the steps not downstream of `from` (never executed) and runs `from` and what follows with the new input', async () => {
    const { wf, ran } = pipeline('fork-basic');
    const executor = open({ workflows: [wf] });
    const original = await executor.execute(wf, { n: 1 });
    expect(original.output).toEqual({ c: { c: 11 }, d: 'd10' });
    const originalId = original.context.runId as string;
    expect(ran).toEqual({ a: 1, b: 1, c: 1, d: 1 });

    const handle = await executor.fork(originalId, { from: 'b', input: { n: 5 } });
    expect(handle.runId).not.toBe(originalId);
    const result = await handle.result();
    // a and d kept the original's outputs (a = 10, from n = 1); b and c ran with the new input.
    expect(result.success).toBe(true);
    expect(result.output).toEqual({ c: { c: 15 }, d: 'd10' });
    expect(ran).toEqual({ a: 1, b: 2, c: 2, d: 1 });
    expect(result.nodeExecutionOrder).toEqual(['b', 'c']);

    const fork = await executor.forkOf(handle.runId);
    expect(fork).toMatchObject({
      runId: handle.runId,
      forkedFrom: originalId,
      fromStep: 'b',
      overriddenSteps: [],
    });
    expect([...(fork?.reusedSteps ?? [])].sort()).toEqual(['a', 'd']);
    expect((await executor.forksOf(originalId)).map((f) => f.runId)).toEqual([handle.runId]);
    expect(await executor.forkOf(originalId)).toBeUndefined();

    const steps = Object.fromEntries((await executor.store.getSteps(handle.runId)).map((s) => [s.name, s]));
    expect(steps.a).toMatchObject({ status: 'succeeded', attempts: 0, output: '10', startedAt: null });
    expect(steps.d).toMatchObject({ status: 'succeeded', attempts: 0, output: '"d10"' });
    expect(steps.b).toMatchObject({ status: 'succeeded', attempts: 1, output: '15' });
    const run = await executor.store.getRun(handle.runId);
    expect(run).toMatchObject({ workflow: wf.name, status: 'succeeded', input: '{"n":5}', replayOf: null });
    const reusedEvents = (await executor.store.listEvents({ runId: handle.runId })).filter(
      (e) => e.type === 'step_reused',
    );
    expect(reusedEvents.map((e) => e.step).sort()).toEqual(['a', 'd']);
    expect(JSON.parse(reusedEvents[0]?.data ?? '{}')).toEqual({ from: originalId });
  });

  it('keeps the original input when none is given, and forking from a root re-runs every step', async () => {
    const { wf, ran } = pipeline('fork-root');
    const executor = open({ workflows: [wf] });
    const original = await executor.execute(wf, { n: 2 });
    const handle = await executor.fork(original.context.runId as string, { from: 'a' });
    const result = await handle.result();
    expect(result.output).toEqual(original.output);
    expect(ran).toEqual({ a: 2, b: 2, c: 2, d: 2 });
    expect((await executor.forkOf(handle.runId))?.reusedSteps).toEqual([]);
  });

  it('uses `outputs` in place of the original outputs of reused steps, and records them as overridden', async () => {
    const { wf, ran } = pipeline('fork-outputs');
    const executor = open({ workflows: [wf] });
    const original = await executor.execute(wf, { n: 1 });
    const handle = await executor.fork(original.context.runId as string, { from: 'b', outputs: { a: 100 } });
    const result = await handle.result();
    // b read the given a; d (beside b) was reused with the original's output, computed from a = 10.
    expect(result.output).toEqual({ c: { c: 101 }, d: 'd10' });
    expect(ran.a).toBe(1);
    const fork = await executor.forkOf(handle.runId);
    expect(fork?.overriddenSteps).toEqual(['a']);
    const a = (await executor.store.getSteps(handle.runId)).find((s) => s.name === 'a');
    expect(a).toMatchObject({ status: 'succeeded', output: '100', attempts: 0 });
    const aEvent = (await executor.store.listEvents({ runId: handle.runId })).find(
      (e) => e.type === 'step_reused' && e.step === 'a',
    );
    expect(JSON.parse(aEvent?.data ?? '{}')).toMatchObject({ overridden: true });
  });

  it('keeps a branch the original skipped skipped, with the routing decision of the reused router', async () => {
    const ran: string[] = [];
    const wf = workflow('fork-route')
      .step('decide', { routes: ['left', 'right'] }, (ctx) => {
        ran.push('decide');
        return ctx.route('left', 'L');
      })
      .step('left', { parents: ['decide'] }, (ctx) => {
        ran.push('left');
        return `${ctx.parent('decide')}!`;
      })
      .step('right', { parents: ['decide'] }, () => {
        ran.push('right');
        return 'R';
      })
      .step('after', { parents: ['left'] }, (ctx) => {
        ran.push('after');
        return `${ctx.parent('left')}?`;
      });
    const executor = open({ workflows: [wf] });
    const original = await executor.execute(wf, null);
    expect(ran).toEqual(['decide', 'left', 'after']);
    const handle = await executor.fork(original.context.runId as string, { from: 'after' });
    const result = await handle.result();
    expect(result.success).toBe(true);
    expect(ran).toEqual(['decide', 'left', 'after', 'after']);
    const steps = Object.fromEntries((await executor.store.getSteps(handle.runId)).map((s) => [s.name, s]));
    expect(steps.right?.status).toBe('skipped');
    expect(steps.decide?.route).toBe('["left"]');
    expect([...((await executor.forkOf(handle.runId))?.reusedSteps ?? [])].sort()).toEqual(['decide', 'left', 'right']);
    // Forking from the router itself decides again (and here chooses the same branch).
    const again = await (await executor.fork(original.context.runId as string, { from: 'decide' })).result();
    expect(again.success).toBe(true);
    expect(ran.filter((s) => s === 'decide')).toHaveLength(2);
  });

  it('re-runs the failed step of a failed run, and the steps beside it that had not finished', async () => {
    let bFails = true;
    const ran: string[] = [];
    const gate = deferred();
    const slowStarted = deferred();
    const wf = workflow('fork-failed')
      .step('a', () => {
        ran.push('a');
        return 1;
      })
      .step('b', { parents: ['a'] }, async () => {
        ran.push('b');
        await slowStarted.promise;
        if (bFails) throw new Error('b broke');
        return 2;
      })
      .step('slow', { parents: ['a'] }, async (ctx) => {
        ran.push('slow');
        slowStarted.resolve();
        // The first run fails while this one is still running: it is cancelled, never finished.
        if (bFails) await new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', reject));
        await gate.promise;
        return 3;
      });
    const executor = open({ workflows: [wf], maxRetries: 0 });
    const original = await executor.execute(wf, null);
    expect(original.success).toBe(false);
    bFails = false;
    gate.resolve();
    const handle = await executor.fork(original.context.runId as string, { from: 'b' });
    const result = await handle.result();
    expect(result.success).toBe(true);
    expect(result.output).toEqual({ b: 2, slow: 3 });
    expect(ran.filter((s) => s === 'a')).toHaveLength(1);
    expect(ran.filter((s) => s === 'slow')).toHaveLength(2);
    expect((await executor.forkOf(handle.runId))?.reusedSteps).toEqual(['a']);
  });

  it('re-run steps spawn new children; reused steps keep the original children and spawn none', async () => {
    let childRuns = 0;
    const child = workflow('fork-child', { input: z.object({ i: z.number() }) }).step('echo', (ctx) => {
      childRuns++;
      return ctx.input.i * 2;
    });
    const parent = workflow('fork-parent', { input: z.object({ k: z.number() }) })
      .step('fan', (ctx) =>
        ctx.join([1, 2].map((i) => ctx.spawnWorkflow(child, { i: i * ctx.input.k }, { key: `c${i}` }))),
      )
      .step('sum', { parents: ['fan'] }, (ctx) => (ctx.parent('fan') as number[]).reduce((x, y) => x + y, 0));
    const executor = open({ workflows: [parent, child] });
    const original = await executor.execute(parent, { k: 1 });
    const originalId = original.context.runId as string;
    expect(original.output).toBe(6);
    expect(childRuns).toBe(2);

    const fromSum = await (await executor.fork(originalId, { from: 'sum', input: { k: 10 } })).result();
    // fan reused (its children stay the original's, nothing spawned); sum re-ran on its output.
    expect(fromSum.output).toBe(6);
    expect(childRuns).toBe(2);
    expect((await executor.store.listRuns({ parentRunId: fromSum.context.runId as string })).runs).toEqual([]);

    const fromFan = await executor.fork(originalId, { from: 'fan', input: { k: 10 } });
    expect((await fromFan.result()).output).toBe(60);
    expect(childRuns).toBe(4);
    const newChildren = (await executor.store.listRuns({ parentRunId: fromFan.runId })).runs;
    expect(newChildren).toHaveLength(2);
    const originalChildren = (await executor.store.listRuns({ parentRunId: originalId })).runs;
    expect(originalChildren).toHaveLength(2);
    expect(newChildren.map((r) => r.id)).not.toContain(originalChildren[0]?.id);
  });

  it('forks a fork: each links to the run it came from', async () => {
    const { wf } = pipeline('fork-chain');
    const executor = open({ workflows: [wf] });
    const original = await executor.execute(wf, { n: 1 });
    const first = await executor.fork(original.context.runId as string, { from: 'c' });
    await first.result();
    const second = await executor.fork(first.runId, { from: 'b', input: { n: 2 } });
    expect((await second.result()).output).toEqual({ c: { c: 12 }, d: 'd10' });
    expect((await executor.forkOf(second.runId))?.forkedFrom).toBe(first.runId);
    expect((await executor.forksOf(first.runId)).map((f) => f.runId)).toEqual([second.runId]);
  });

  it('replay is still the whole run: every step runs again, linked by replayOf and not as a fork', async () => {
    const { wf, ran } = pipeline('fork-replay');
    const executor = open({ workflows: [wf] });
    const original = await executor.execute(wf, { n: 3 });
    const replay = await executor.replay(original.context.runId as string);
    expect((await replay.result()).output).toEqual(original.output);
    expect(ran).toEqual({ a: 2, b: 2, c: 2, d: 2 });
    expect((await executor.store.getRun(replay.runId))?.replayOf).toBe(original.context.runId);
    expect(await executor.forkOf(replay.runId)).toBeUndefined();
  });

  describe('bad requests: a typed error, and nothing created', () => {
    it('an unknown run, an unknown step, outputs for an unknown or re-run step, a wrong version', async () => {
      const { wf, ran } = pipeline('fork-bad');
      const executor = open({ workflows: [wf] });
      const original = await executor.execute(wf, { n: 1 });
      const id = original.context.runId as string;
      const before = await runCount(executor);

      await expect(executor.fork('no-such-run', { from: 'b' })).rejects.toBeInstanceOf(RunNotFoundError);
      const unknownStep = await executor.fork(id, { from: 'nope' }).catch((e: unknown) => e);
      expect(unknownStep).toBeInstanceOf(UnknownForkStepError);
      expect((unknownStep as UnknownForkStepError).code).toBe('unknown_fork_step');
      expect((unknownStep as Error).message).toContain('"a", "b", "c", "d"');

      const unknownOutput = await executor.fork(id, { from: 'b', outputs: { zz: 1 } }).catch((e: unknown) => e);
      expect(unknownOutput).toBeInstanceOf(InvalidForkOutputsError);
      expect((unknownOutput as InvalidForkOutputsError).reason).toBe('unknown_step');
      for (const step of ['b', 'c']) {
        const again = await executor.fork(id, { from: 'b', outputs: { [step]: 1 } }).catch((e: unknown) => e);
        expect(again).toBeInstanceOf(InvalidForkOutputsError);
        expect((again as InvalidForkOutputsError).reason).toBe('runs_again');
      }
      await expect(executor.fork(id, { from: 'b', outputs: { a: 10n } })).rejects.toBeInstanceOf(NotSerializableError);
      const version = await executor.fork(id, { from: 'b', version: 'v9' }).catch((e: unknown) => e);
      expect(version).toBeInstanceOf(ForkVersionMismatchError);
      expect((version as ForkVersionMismatchError).code).toBe('fork_version_mismatch');
      // The registered version is accepted.
      await (await executor.fork(id, { from: 'c', version: wf.version })).result();

      expect(await runCount(executor)).toBe(before + 1);
      expect(await executor.forksOf(id)).toHaveLength(1);
      expect(ran.b).toBe(1);
    });

    it('an input that fails the schema is refused before anything is written', async () => {
      const { wf, ran } = pipeline('fork-bad-input');
      const executor = open({ workflows: [wf] });
      const original = await executor.execute(wf, { n: 1 });
      const before = await runCount(executor);
      const error = await executor
        .fork(original.context.runId as string, { from: 'b', input: { n: 'five' } })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidInputError);
      expect(await runCount(executor)).toBe(before);
      expect(await executor.forksOf(original.context.runId as string)).toEqual([]);
      expect(ran).toEqual({ a: 1, b: 1, c: 1, d: 1 });
    });

    it('a run that has not ended cannot be forked (409-style RunNotEndedError); once ended it can', async () => {
      const release = deferred();
      const wf = workflow('fork-running')
        .step('a', () => 1)
        .step('b', { parents: ['a'] }, () => release.promise.then(() => 2));
      const executor = open({ workflows: [wf] });
      const handle = await executor.start(wf, null);
      const before = await runCount(executor);
      const error = await executor.fork(handle.runId, { from: 'b' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RunNotEndedError);
      expect((error as RunNotEndedError).code).toBe('run_not_ended');
      expect(await runCount(executor)).toBe(before);
      release.resolve();
      await handle.result();
      const fork = await executor.fork(handle.runId, { from: 'b' });
      expect((await fork.result()).output).toBe(2);
    });
  });
});
