import { describe, expect, it } from 'vitest';
import { StepTimeoutError, workflow } from '../../src/index.js';
import { untilAborted, useEngineFixture } from './helpers.js';

describe('per-step timeout', () => {
  const fx = useEngineFixture();

  it('aborts ctx.signal with StepTimeoutError and fails the attempt', async () => {
    const reasons: unknown[] = [];
    const wf = workflow('step-timeout').step('slow', { timeoutSeconds: 0.03 }, async (ctx) => {
      try {
        return await untilAborted(ctx.signal);
      } finally {
        reasons.push(ctx.signal.reason);
      }
    });
    const result = await fx.executor().execute(wf, null);

    expect(result.status).toBe('failed');
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toBeInstanceOf(StepTimeoutError);
    expect(result.context.nodeResults.slow?.attempts).toBe(1);
    expect(result.context.nodeResults.slow?.error?.code).toBe('step_timeout');
    expect(result.error?.cause?.message).toContain('Step "slow" did not finish within 0.03s');
  });

  it('fails the attempt even when the step ignores its signal', async () => {
    const wf = workflow('step-timeout-ignored').step('deaf', { timeoutSeconds: 0.03 }, () => new Promise(() => {}));
    const result = await fx.executor().execute(wf, null);
    expect(result.status).toBe('failed');
    expect(result.context.nodeResults.deaf?.error?.name).toBe('StepTimeoutError');
  });

  it('retries a timed-out attempt when the step has retries left', async () => {
    const signals: AbortSignal[] = [];
    const wf = workflow('step-timeout-retry').step(
      'sometimes-slow',
      { timeoutSeconds: 0.03, retries: 2, backoff: { initialMs: 1 } },
      async (ctx) => {
        signals.push(ctx.signal);
        if (ctx.attempt === 1) return untilAborted(ctx.signal);
        return `attempt ${ctx.attempt}`;
      },
    );
    const result = await fx.executor().execute(wf, null);

    expect(result.success).toBe(true);
    expect(result.output).toBe('attempt 2');
    expect(result.context.nodeResults['sometimes-slow']?.attempts).toBe(2);
    expect(signals[0]?.aborted).toBe(true);
    expect(signals[1]?.aborted).toBe(false);
  });

  it('ignores a late result of the timed-out attempt', async () => {
    let lateResolve: ((value: string) => void) | undefined;
    const wf = workflow('step-timeout-late').step(
      's',
      { timeoutSeconds: 0.03, retries: 1, backoff: { initialMs: 1 } },
      (ctx) => {
        if (ctx.attempt === 1) {
          return new Promise<string>((resolve) => {
            lateResolve = resolve;
          });
        }
        lateResolve?.('late first attempt');
        return 'second attempt';
      },
    );
    const result = await fx.executor().execute(wf, null);
    expect(result.output).toBe('second attempt');
  });

  it('does not limit a step that finishes in time', async () => {
    const wf = workflow('step-in-time').step('fast', { timeoutSeconds: 1 }, () => 'fast');
    const result = await fx.executor().execute(wf, null);
    expect(result.output).toBe('fast');
  });
});
