import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CONFIG,
  defineWorkflow,
  InvalidConfigError,
  MemoryStore,
  WorkflowExecutor,
  workflow,
} from '../../src/index.js';
import { ConcurrencyGauge, sleep, untilAborted, useEngineFixture } from './helpers.js';

/** A workflow whose only step always throws; counts its attempts. */
function alwaysFailing(name: string, options: { retries?: number; stepRetries?: number } = {}) {
  const calls = { n: 0 };
  const wf = workflow(name, {
    backoff: { initialMs: 1 },
    ...(options.retries === undefined ? {} : { retries: options.retries }),
  }).step('flaky', options.stepRetries === undefined ? {} : { retries: options.stepRetries }, () => {
    calls.n++;
    throw new Error(`attempt ${calls.n} failed`);
  });
  return { wf, calls };
}

describe('ExecutionConfig defaults', () => {
  const fx = useEngineFixture();

  it('DEFAULT_CONFIG holds the seven fields, and the stream bounds, with their documented defaults', () => {
    expect(DEFAULT_CONFIG).toEqual({
      maxParallelNodes: 10,
      timeoutSeconds: 300,
      retryFailedNodes: false,
      maxRetries: 3,
      enableCheckpoints: false,
      checkpointInterval: 5,
      traceExecution: false,
      streamMaxChunks: 100_000,
      streamMaxBytes: 64 * 1024 * 1024,
    });
  });

  it('an executor given no settings uses DEFAULT_CONFIG', () => {
    expect(fx.executor().config).toEqual(DEFAULT_CONFIG);
  });

  it('an executor keeps the settings it is given and defaults the rest', () => {
    const executor = fx.executor({ maxParallelNodes: 3, retryFailedNodes: true });
    expect(executor.config).toEqual({ ...DEFAULT_CONFIG, maxParallelNodes: 3, retryFailedNodes: true });
  });
});

describe('ExecutionConfig refuses invalid values with InvalidConfigError', () => {
  const cases: Array<[string, ConstructorParameters<typeof WorkflowExecutor>[0]]> = [
    ['maxParallelNodes 0', { maxParallelNodes: 0 }],
    ['maxParallelNodes 1.5', { maxParallelNodes: 1.5 }],
    ['timeoutSeconds -1', { timeoutSeconds: -1 }],
    ['timeoutSeconds NaN', { timeoutSeconds: Number.NaN }],
    ['maxRetries -1', { maxRetries: -1 }],
    ['maxRetries 2.5', { maxRetries: 2.5 }],
    ['checkpointInterval 0', { checkpointInterval: 0 }],
    ['a pool of size 0', { pools: { llm: 0 } }],
  ];
  for (const [label, options] of cases) {
    it(`refuses ${label}`, () => {
      expect(() => new WorkflowExecutor({ store: new MemoryStore(), ...options })).toThrow(InvalidConfigError);
    });
  }
});

describe('maxParallelNodes', () => {
  const fx = useEngineFixture();

  it('limits the steps executing at once across all runs of the executor', async () => {
    const gauge = new ConcurrencyGauge();
    const wf = defineWorkflow(
      'across-runs',
      {},
      ['a', 'b', 'c'].map((name) => ({ name, run: () => gauge.hold(20) })),
    );
    const executor = fx.executor({ maxParallelNodes: 2 });
    const results = await Promise.all([executor.execute(wf, 1), executor.execute(wf, 2), executor.execute(wf, 3)]);

    expect(results.every((r) => r.success)).toBe(true);
    expect(gauge.max).toBe(2);
  });
});

describe('retryFailedNodes and maxRetries', () => {
  const fx = useEngineFixture();

  it('does not retry a failed step when retryFailedNodes is false (the default)', async () => {
    const { wf, calls } = alwaysFailing('no-retry');
    const result = await fx.executor().execute(wf, null);

    expect(result.status).toBe('failed');
    expect(calls.n).toBe(1);
    expect(result.context.nodeResults.flaky?.attempts).toBe(1);
  });

  it('retries a failed step maxRetries times when retryFailedNodes is true', async () => {
    const { wf, calls } = alwaysFailing('max-retries');
    const result = await fx.executor({ retryFailedNodes: true, maxRetries: 2 }).execute(wf, null);

    expect(result.status).toBe('failed');
    expect(calls.n).toBe(3);
    expect(result.context.nodeResults.flaky?.attempts).toBe(3);
    expect(result.error?.cause?.message).toBe('attempt 3 failed');
  });

  it("lets a workflow's retries override retryFailedNodes false", async () => {
    const { wf, calls } = alwaysFailing('wf-retries-on', { retries: 2 });
    await fx.executor({ retryFailedNodes: false }).execute(wf, null);
    expect(calls.n).toBe(3);
  });

  it("lets a workflow's retries override maxRetries", async () => {
    const { wf, calls } = alwaysFailing('wf-retries-lower', { retries: 1 });
    await fx.executor({ retryFailedNodes: true, maxRetries: 3 }).execute(wf, null);
    expect(calls.n).toBe(2);
  });

  it("lets a step's retries override its workflow's", async () => {
    const { wf, calls } = alwaysFailing('step-retries', { retries: 3, stepRetries: 0 });
    await fx.executor({ retryFailedNodes: true, maxRetries: 3 }).execute(wf, null);
    expect(calls.n).toBe(1);
  });

  it('succeeds once a retry succeeds', async () => {
    let calls = 0;
    const wf = workflow('second-time-lucky', { backoff: { initialMs: 1 } }).step('s', () => {
      calls++;
      if (calls < 2) throw new Error('not yet');
      return 'ok';
    });
    const result = await fx.executor({ retryFailedNodes: true, maxRetries: 3 }).execute(wf, null);

    expect(result.success).toBe(true);
    expect(result.output).toBe('ok');
    expect(result.context.nodeResults.s?.attempts).toBe(2);
    expect(result.metrics.retries).toBe(1);
  });
});

describe('timeoutSeconds', () => {
  const fx = useEngineFixture();

  function slowAfterQuick(name: string, options: { timeoutSeconds?: number } = {}) {
    const seen: { signal?: AbortSignal } = {};
    const wf = workflow(name, options)
      .step('quick', () => 'done')
      .step('slow', { parents: ['quick'] }, (ctx) => {
        seen.signal = ctx.signal;
        return untilAborted(ctx.signal);
      });
    return { wf, seen };
  }

  it('ends the run timed_out with the finished steps as partial results and aborts running steps', async () => {
    const { wf, seen } = slowAfterQuick('run-deadline');
    const result = await fx.executor({ timeoutSeconds: 0.1 }).execute(wf, null);

    expect(result.status).toBe('timed_out');
    expect(result.success).toBe(false);
    expect(result.cancelled).toBe(false);
    expect(result.error?.code).toBe('run_timeout');
    expect(result.partialResults).toEqual({ quick: 'done' });
    expect(result.context.nodeResults.slow?.status).toBe('cancelled');
    expect(seen.signal?.aborted).toBe(true);
  });

  it("lets a workflow's timeoutSeconds override the executor's", async () => {
    const { wf } = slowAfterQuick('wf-deadline', { timeoutSeconds: 0.1 });
    const result = await fx.executor({ timeoutSeconds: 300 }).execute(wf, null);
    expect(result.status).toBe('timed_out');
  });

  it("lets a workflow's timeoutSeconds 0 switch the executor's deadline off", async () => {
    const wf = workflow('no-deadline', { timeoutSeconds: 0 }).step('s', async () => {
      await sleep(120);
      return 'finished';
    });
    const result = await fx.executor({ timeoutSeconds: 0.05 }).execute(wf, null);
    expect(result.status).toBe('succeeded');
  });

  it('stores the deadline on the run record', async () => {
    const executor = fx.executor({ timeoutSeconds: 60 });
    const result = await executor.execute(
      workflow('deadline-stored').step('s', () => 1),
      null,
    );
    const rec = await executor.store.getRun(result.runId);
    expect(rec?.deadlineAt).toBe((rec?.startedAt ?? 0) + 60_000);
  });
});

describe('enableCheckpoints and checkpointInterval', () => {
  const fx = useEngineFixture();

  /** Five chained steps; each sets a global, and reads what the store holds when it starts. */
  function settingGlobals(name: string) {
    const storedAtStart: Record<string, { globals: Record<string, unknown>; checkpointSeq: number }> = {};
    let executor: WorkflowExecutor | undefined;
    const names = ['s1', 's2', 's3', 's4', 's5'];
    const wf = defineWorkflow(
      name,
      {},
      names.map((step, i) => ({
        name: step,
        parents: i === 0 ? [] : [names[i - 1] as string],
        run: async (ctx: { runId: string; setGlobal(k: string, v: unknown): void }) => {
          const rec = await executor?.store.getRun(ctx.runId);
          storedAtStart[step] = {
            globals: JSON.parse(rec?.globals ?? 'null'),
            checkpointSeq: rec?.checkpointSeq ?? -1,
          };
          ctx.setGlobal(step, i + 1);
          return i;
        },
      })),
    );
    return {
      wf,
      storedAtStart,
      use(e: WorkflowExecutor) {
        executor = e;
        return e;
      },
    };
  }

  it('persists the global variables every checkpointInterval completed steps', async () => {
    const t = settingGlobals('checkpointed');
    const executor = t.use(fx.executor({ enableCheckpoints: true, checkpointInterval: 2 }));
    const result = await executor.execute(t.wf, null, { globalVariables: { initial: true } });

    expect(result.success).toBe(true);
    expect(t.storedAtStart.s1).toEqual({ globals: { initial: true }, checkpointSeq: 0 });
    expect(t.storedAtStart.s2).toEqual({ globals: { initial: true }, checkpointSeq: 0 });
    expect(t.storedAtStart.s3).toEqual({ globals: { initial: true, s1: 1, s2: 2 }, checkpointSeq: 2 });
    expect(t.storedAtStart.s4).toEqual({ globals: { initial: true, s1: 1, s2: 2 }, checkpointSeq: 2 });
    expect(t.storedAtStart.s5).toEqual({ globals: { initial: true, s1: 1, s2: 2, s3: 3, s4: 4 }, checkpointSeq: 4 });

    const rec = await executor.store.getRun(result.runId);
    expect(JSON.parse(rec?.globals ?? 'null')).toEqual({ initial: true, s1: 1, s2: 2, s3: 3, s4: 4, s5: 5 });
    expect(rec?.checkpointSeq).toBe(5);
    expect(result.context.globalVariables).toEqual({ initial: true, s1: 1, s2: 2, s3: 3, s4: 4, s5: 5 });
  });

  it('stores no global variables while the run goes when checkpoints are off, only its final ones', async () => {
    const t = settingGlobals('not-checkpointed');
    const executor = t.use(fx.executor({ enableCheckpoints: false, checkpointInterval: 1 }));
    const result = await executor.execute(t.wf, null, { globalVariables: { initial: true } });

    expect(result.context.globalVariables).toEqual({ initial: true, s1: 1, s2: 2, s3: 3, s4: 4, s5: 5 });
    expect(t.storedAtStart.s5).toEqual({ globals: { initial: true }, checkpointSeq: 0 });
    // The finished run's record has its final globals, so a result read back later has them too.
    const rec = await executor.store.getRun(result.runId);
    expect(JSON.parse(rec?.globals ?? 'null')).toEqual({ initial: true, s1: 1, s2: 2, s3: 3, s4: 4, s5: 5 });
  });
});
