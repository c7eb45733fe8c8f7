import { describe, expect, it } from 'vitest';
import { workflow } from '../../src/index.js';
import { deferred, untilAborted, useEngineFixture } from './helpers.js';

describe('fallback', () => {
  const fx = useEngineFixture();

  it('runs when the attempts are exhausted and its result becomes the output', async () => {
    const calls = { primary: 0, fallback: 0 };
    const wf = workflow('fallback-used')
      .step(
        'price',
        {
          retries: 2,
          backoff: { initialMs: 1 },
          fallback: (ctx, error) => {
            calls.fallback++;
            return { price: 0, reason: error.message, attempt: ctx.attempt };
          },
        },
        (): { price: number; reason: string; attempt: number } => {
          calls.primary++;
          throw new Error('pricing service down');
        },
      )
      .step('report', { parents: ['price'] }, (ctx) => `price ${ctx.parent('price').price}`);
    const result = await fx.executor().execute(wf, null);

    expect(calls).toEqual({ primary: 3, fallback: 1 });
    expect(result.success).toBe(true);
    const price = result.context.nodeResults.price;
    expect(price?.status).toBe('succeeded');
    expect(price?.fallbackUsed).toBe(true);
    expect(price?.attempts).toBe(3);
    expect(price?.output).toEqual({ price: 0, reason: 'pricing service down', attempt: 3 });
    expect(result.output).toBe('price 0');
  });

  it('records a step_fallback event', async () => {
    const wf = workflow('fallback-event').step('s', { fallback: () => 'plan b' }, () => {
      throw new Error('plan a failed');
    });
    const executor = fx.executor();
    const result = await executor.execute(wf, null);
    const types = (await executor.store.listEvents({ runId: result.runId })).map((e) => e.type);
    expect(types).toContain('step_fallback');
    expect(types.indexOf('step_fallback')).toBeLessThan(types.indexOf('step_succeeded'));
  });

  it('is not used when the primary succeeds', async () => {
    let fallbackCalls = 0;
    const wf = workflow('fallback-unused').step(
      's',
      {
        fallback: () => {
          fallbackCalls++;
          return 'fallback';
        },
      },
      () => 'primary',
    );
    const result = await fx.executor().execute(wf, null);
    expect(result.output).toBe('primary');
    expect(fallbackCalls).toBe(0);
    expect(result.context.nodeResults.s?.fallbackUsed).toBe(false);
  });

  it('fails the run when the fallback throws, keeping the primary error as the cause', async () => {
    const wf = workflow('fallback-throws').step(
      's',
      {
        fallback: async () => {
          throw new Error('fallback broke too');
        },
      },
      () => {
        throw new Error('primary broke');
      },
    );
    const result = await fx.executor().execute(wf, null);

    expect(result.status).toBe('failed');
    expect(result.context.nodeResults.s?.status).toBe('failed');
    expect(result.context.nodeResults.s?.fallbackUsed).toBe(false);
    expect(result.error?.cause?.message).toBe('fallback failed: fallback broke too');
    expect(result.error?.cause?.cause?.message).toBe('primary broke');
  });

  it('fails the step when the fallback returns something that cannot be stored', async () => {
    const wf = workflow('fallback-unstorable').step('s', { fallback: () => new Map() }, () => {
      throw new Error('primary broke');
    });
    const result = await fx.executor().execute(wf, null);
    expect(result.status).toBe('failed');
    expect(result.error?.cause?.name).toBe('NotSerializableError');
    expect(result.error?.cause?.message).toContain('fallback output of step "s"');
  });

  it('gets a live signal after the primary timed out', async () => {
    let fallbackSignalAborted: boolean | undefined;
    const wf = workflow('fallback-after-timeout').step(
      's',
      {
        timeoutSeconds: 0.02,
        fallback: (ctx) => {
          fallbackSignalAborted = ctx.signal.aborted;
          return 'fallback';
        },
      },
      (ctx) => new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
    );
    const result = await fx.executor().execute(wf, null);

    expect(result.output).toBe('fallback');
    expect(fallbackSignalAborted).toBe(false);
  });

  it('is aborted through its signal when the run is cancelled', async () => {
    const fallbackStarted = deferred<AbortSignal>();
    const wf = workflow('fallback-cancelled').step(
      's',
      {
        fallback: (ctx) => {
          fallbackStarted.resolve(ctx.signal);
          return untilAborted(ctx.signal);
        },
      },
      () => {
        throw new Error('primary broke');
      },
    );
    const executor = fx.executor();
    const handle = await executor.start(wf, null);
    const signal = await fallbackStarted.promise;
    const result = await executor.cancel(handle.runId);

    expect(result.cancelled).toBe(true);
    expect(signal.aborted).toBe(true);
  });

  it('runs a named fallback step and records its name in the step_fallback event', async () => {
    const wf = workflow('fallback-named').step(
      'refund',
      { fallback: { name: 'manual-refund', run: () => ({ queuedForHuman: true }) } },
      (): { queuedForHuman: boolean } => {
        throw new Error('payment API down');
      },
    );
    const executor = fx.executor();
    const result = await executor.execute(wf, null);
    expect(result.output).toEqual({ queuedForHuman: true });
    expect(result.context.nodeResults.refund?.fallbackUsed).toBe(true);
    const events = await executor.store.listEvents({ runId: result.runId });
    const fallback = events.find((e) => e.type === 'step_fallback');
    expect(JSON.parse(fallback?.data ?? '{}').fallback).toBe('manual-refund');
  });

  it('fails the step when a named fallback step exceeds its own timeout, naming it', async () => {
    const wf = workflow('fallback-named-timeout').step(
      'refund',
      { fallback: { name: 'manual-refund', timeoutSeconds: 0.05, run: (ctx) => untilAborted(ctx.signal) } },
      () => {
        throw new Error('payment API down');
      },
    );
    const result = await fx.executor().execute(wf, null);
    expect(result.status).toBe('failed');
    expect(result.context.nodeResults.refund?.error?.message).toContain('fallback "manual-refund" failed');
  });

  it('routes like its step: a routing step whose fallback chooses a child runs only that child', async () => {
    // Found by the simulation (seed 1): the fallback's route decision was stored as the output and
    // every child ran.
    const wf = workflow('fallback-routes')
      .step('triage', { routes: ['fast', 'slow'], fallback: (ctx) => ctx.route('slow', 'degraded') }, (): unknown => {
        throw new Error('classifier down');
      })
      .step('fast', { parents: ['triage'] }, () => 'fast path')
      .step('slow', { parents: ['triage'] }, (ctx) => `slow path after ${ctx.parent('triage')}`);
    const result = await fx.executor().execute(wf, null);

    expect(result.success).toBe(true);
    expect(result.partialResults.triage).toBe('degraded');
    expect(result.context.nodeResults.fast?.status).toBe('skipped');
    expect(result.output).toBe('slow path after degraded');
  });

  it('fails the step when its fallback routes to a step that is not its child', async () => {
    const wf = workflow('fallback-bad-route')
      .step('triage', { fallback: (ctx) => ctx.route('elsewhere') }, (): unknown => {
        throw new Error('classifier down');
      })
      .step('next', { parents: ['triage'] }, () => 'next')
      .step('elsewhere', () => 'unrelated');
    const result = await fx.executor().execute(wf, null);

    expect(result.success).toBe(false);
    expect(result.context.nodeResults.triage?.error?.message).toMatch(/fallback failed: .*elsewhere/);
  });
});
