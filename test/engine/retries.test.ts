import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF, retryDelayMs } from '../../src/engine/backoff.js';
import type { NodeRetryInfo } from '../../src/engine/callbacks.js';
import { NonRetryableError, type StepRecord, workflow } from '../../src/index.js';
import { deferred, useEngineFixture } from './helpers.js';

describe('retryDelayMs: exponential backoff with jitter and a cap', () => {
  const lowest = () => 0;
  const highest = () => 1;

  it('stays within base * (1 +/- jitter) of the capped exponential for retries 1..10', () => {
    for (let retry = 1; retry <= 10; retry++) {
      const base = Math.min(60_000, 1000 * 2 ** (retry - 1));
      expect(retryDelayMs(retry, undefined, lowest)).toBe(Math.round(base * 0.8));
      expect(retryDelayMs(retry, undefined, highest)).toBe(Math.min(60_000, Math.round(base * 1.2)));
      for (const r of [0.1, 0.5, 0.9]) {
        const delay = retryDelayMs(retry, undefined, () => r);
        expect(delay).toBeGreaterThanOrEqual(Math.round(base * 0.8));
        expect(delay).toBeLessThanOrEqual(Math.min(60_000, Math.round(base * 1.2)));
      }
    }
  });

  it('uses 1000 ms, factor 2, cap 60 000 ms and 20 % jitter by default', () => {
    expect(DEFAULT_BACKOFF).toEqual({ initialMs: 1000, factor: 2, maxMs: 60_000, jitter: 0.2 });
    expect(retryDelayMs(1, undefined, () => 0.5)).toBe(1000);
    expect(retryDelayMs(4, undefined, () => 0.5)).toBe(8000);
  });

  it('never exceeds maxMs, even with the most jitter', () => {
    for (let retry = 1; retry <= 30; retry++) {
      expect(retryDelayMs(retry, { initialMs: 100, maxMs: 1000 }, highest)).toBeLessThanOrEqual(1000);
    }
    expect(retryDelayMs(30, { initialMs: 100, maxMs: 1000, jitter: 0 }, highest)).toBe(1000);
  });

  it('is exact with jitter 0 and never negative with jitter 1', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, { initialMs: 5, factor: 3, jitter: 0 }, highest))).toEqual([
      5, 15, 45, 135,
    ]);
    expect(retryDelayMs(1, { initialMs: 5, jitter: 1 }, lowest)).toBe(0);
    expect(retryDelayMs(1, { initialMs: 5, jitter: 1 }, highest)).toBe(10);
  });

  it('clamps a jitter outside 0..1', () => {
    expect(retryDelayMs(1, { initialMs: 100, jitter: 5 }, highest)).toBe(200);
    expect(retryDelayMs(1, { initialMs: 100, jitter: -1 }, highest)).toBe(100);
  });
});

describe('step retries in a run', () => {
  const fx = useEngineFixture();

  it('waits the backoff delays between attempts, growing to the cap', async () => {
    const executor = fx.executor();
    const delays: number[] = [];
    executor.callbackManager.addHandler({ onNodeRetry: (info) => void delays.push(info.delayMs) });
    const wf = workflow('delays').step(
      's',
      { retries: 3, backoff: { initialMs: 5, factor: 2, maxMs: 12, jitter: 0 } },
      () => {
        throw new Error('always');
      },
    );
    const result = await executor.execute(wf, null);

    expect(result.context.nodeResults.s?.attempts).toBe(4);
    expect(delays).toEqual([5, 10, 12]);
  });

  it('records every attempt in the events', async () => {
    let calls = 0;
    const wf = workflow('attempt-events').step('s', { retries: 3, backoff: { initialMs: 1 } }, () => {
      calls++;
      if (calls < 3) throw new Error(`fail ${calls}`);
      return 'ok';
    });
    const executor = fx.executor();
    const result = await executor.execute(wf, null);
    const events = await executor.store.listEvents({ runId: result.runId });
    const stepEvents = events.filter((e) => e.step === 's').map((e) => [e.type, e.attempt]);

    expect(result.success).toBe(true);
    expect(stepEvents).toEqual([
      ['step_started', 1],
      ['step_retrying', 1],
      ['step_started', 2],
      ['step_retrying', 2],
      ['step_started', 3],
      ['step_succeeded', 3],
    ]);
    const retrying = events.find((e) => e.type === 'step_retrying');
    expect(JSON.parse(retrying?.data ?? '{}')).toMatchObject({ error: { message: 'fail 1' } });
  });

  it('keeps the retry wait as a stored time: the step is queued with nextAttemptAt in the future', async () => {
    const executor = fx.executor();
    const retried = deferred<NodeRetryInfo>();
    executor.callbackManager.addHandler({ onNodeRetry: (info) => retried.resolve(info) });
    let calls = 0;
    const wf = workflow('stored-wait').step('s', { retries: 1, backoff: { initialMs: 300, jitter: 0 } }, () => {
      calls++;
      if (calls === 1) throw new Error('first attempt fails');
      return 'second attempt works';
    });
    const handle = await executor.start(wf, null);
    const info = await retried.promise;
    const stored = (await executor.store.getSteps(handle.runId)).find((s) => s.name === 's') as StepRecord;

    expect(info.delayMs).toBe(300);
    expect(stored.status).toBe('queued');
    expect(stored.attempts).toBe(1);
    expect(stored.nextAttemptAt).toBeGreaterThan(Date.now());
    expect(JSON.parse(stored.error ?? '{}')).toMatchObject({ message: 'first attempt fails' });

    const result = await handle.result();
    expect(result.output).toBe('second attempt works');
    const after = (await executor.store.getSteps(handle.runId)).find((s) => s.name === 's');
    expect(after?.nextAttemptAt).toBeNull();
  });

  it('fails at once on NonRetryableError, and the fallback still runs', async () => {
    let calls = 0;
    let fallbackSaw: string | undefined;
    const wf = workflow('non-retryable').step(
      's',
      {
        retries: 5,
        backoff: { initialMs: 1 },
        fallback: (_ctx, error) => {
          fallbackSaw = error.name;
          return 'fallback value';
        },
      },
      () => {
        calls++;
        throw new NonRetryableError('card declined');
      },
    );
    const result = await fx.executor({ retryFailedNodes: true }).execute(wf, null);

    expect(calls).toBe(1);
    expect(fallbackSaw).toBe('NonRetryableError');
    expect(result.success).toBe(true);
    expect(result.context.nodeResults.s?.attempts).toBe(1);
    expect(result.context.nodeResults.s?.fallbackUsed).toBe(true);
    expect(result.output).toBe('fallback value');
  });

  it('fails the run after one attempt on NonRetryableError without a fallback, also as a cause', async () => {
    let calls = 0;
    const wf = workflow('non-retryable-cause').step('s', { retries: 5, backoff: { initialMs: 1 } }, () => {
      calls++;
      throw new Error('wrapped', { cause: new NonRetryableError('bad request') });
    });
    const result = await fx.executor().execute(wf, null);

    expect(calls).toBe(1);
    expect(result.status).toBe('failed');
    expect(result.error?.cause?.cause?.code).toBe('non_retryable');
  });

  it('counts retries in the run metrics', async () => {
    const wf = workflow('retry-metrics', { retries: 2, backoff: { initialMs: 1 } })
      .step('a', (ctx) => {
        if (ctx.attempt < 3) throw new Error('again');
        return 1;
      })
      .step('b', (ctx) => {
        if (ctx.attempt < 2) throw new Error('again');
        return 2;
      });
    const result = await fx.executor().execute(wf, null);
    expect(result.success).toBe(true);
    expect(result.metrics.retries).toBe(3);
  });
});
