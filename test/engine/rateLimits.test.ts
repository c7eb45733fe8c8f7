import { describe, expect, it } from 'vitest';
import { InvalidWorkflowError, ManualClock, workflow } from '../../src/index.js';
import { useEngineFixture, waitUntil } from './helpers.js';

/**
 * The limit grants start i (from 0) no earlier than i emission intervals after the first asked;
 * a function runs once its start is committed, a little later, so each start is checked against
 * that floor (`t0`: before the first was asked) rather than against its neighbour.
 */
function expectSpaced(starts: number[], t0: number, intervalMs: number): void {
  const sorted = [...starts].sort((a, b) => a - b);
  for (const [i, at] of sorted.entries()) expect(at).toBeGreaterThanOrEqual(t0 + i * intervalMs - SLACK_MS);
}

/** Node's timers may fire a millisecond early against Date.now(); the spacing is checked with this slack. */
const SLACK_MS = 3;

describe('rateLimit on a step (throttle)', () => {
  const fx = useEngineFixture();

  it('spaces the starts of a step period / limit apart, across runs', async () => {
    const starts: number[] = [];
    const wf = workflow('throttled-step').step('call', { rateLimit: { limit: 10, period: 500 } }, () => {
      starts.push(Date.now());
      return 'ok';
    });
    const executor = fx.executor();
    const t0 = Date.now();
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => executor.execute(wf, i)));
    expect(results.every((r) => r.success)).toBe(true);
    expect(starts).toHaveLength(6);
    expectSpaced(starts, t0, 50);
    // And no slower than the limit: the sixth start is due 250 ms in.
    expect(Math.max(...starts) - t0).toBeLessThan(450);
    const events = await executor.store.listEvents({});
    expect(events.filter((e) => e.type === 'step_throttled')).toHaveLength(5);
  });

  it('holds no execution slot while it waits: other work runs meanwhile', async () => {
    const wf = workflow('slow-lane').step('call', { rateLimit: { limit: 1, period: 1000 } }, () => 'late');
    const plain = workflow('fast-lane').step('now', () => 'now');
    const executor = fx.executor({ maxParallelNodes: 1 });
    const tStart = Date.now();
    const throttled = Promise.all(Array.from({ length: 3 }, (_, i) => executor.execute(wf, i)));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const t0 = Date.now();
    const quick = await executor.execute(plain, null);
    expect(quick.output).toBe('now');
    // The two throttled steps wait ~1 and 2 s for their starts, each taking the one slot only a
    // lead (at most 200 ms, see leadMs) before its time: the plain run did not queue behind them.
    // (Behind a waiting step it would have ended at 1 s at the earliest.) A bound well inside the
    // first 800 ms, so that a slow commit on a busy machine does not make it look held.
    expect(Date.now() - t0).toBeLessThan(600);
    expect((await throttled).every((r) => r.success)).toBe(true);
    expect(Date.now() - tStart).toBeGreaterThanOrEqual(2000 - SLACK_MS);
  });

  it('takes a start for every attempt, so retries stay under the limit', async () => {
    const starts: number[] = [];
    const wf = workflow('retrying-under-limit').step(
      'flaky',
      { rateLimit: { limit: 1, period: 200 }, retries: 2, backoff: { initialMs: 1, jitter: 0 } },
      () => {
        starts.push(Date.now());
        if (starts.length < 3) throw new Error('try again');
        return starts.length;
      },
    );
    const t0 = Date.now();
    const result = await fx.executor().execute(wf, null);
    expect(result.output).toBe(3);
    expectSpaced(starts, t0, 200);
  });

  it('keeps a start granted further away than a run stays in memory for, on SQLite (it is used, not asked again)', async () => {
    const starts: number[] = [];
    // `other` ends while `call` waits for its start: the run is then idle, the moment a run may leave memory.
    const wf = workflow('long-throttle')
      .step('other', () => new Promise((resolve) => setTimeout(resolve, 30)))
      .step('call', { rateLimit: { limit: 1, period: 1200 } }, () => {
        starts.push(Date.now());
      });
    const executor = fx.executor({ store: fx.sqliteStore(fx.sqlitePath()) });
    const t0 = Date.now();
    await Promise.all([1, 2, 3].map((i) => executor.execute(wf, i)));
    expectSpaced(starts, t0, 1200);
    // Granted at 0, 1.2 s and 2.4 s; a run that let go of its grant would ask again and start 3.6 s in or later.
    expect(Math.max(...starts) - t0).toBeLessThan(3300);
  });

  it('counts each key on its own', async () => {
    const starts = new Map<string, number[]>();
    const wf = workflow('per-tenant').step(
      'call',
      { rateLimit: { limit: 1, period: 400, key: (input) => (input as { tenant: string }).tenant } },
      (ctx) => {
        const tenant = (ctx.input as { tenant: string }).tenant;
        starts.set(tenant, [...(starts.get(tenant) ?? []), Date.now()]);
      },
    );
    const executor = fx.executor();
    const t0 = Date.now();
    await Promise.all([executor.execute(wf, { tenant: 'a' }), executor.execute(wf, { tenant: 'b' })]);
    // Two keys, one start each: neither waited for the other.
    expect(Date.now() - t0).toBeLessThan(300);
    expect(starts.get('a')).toHaveLength(1);
    expect(starts.get('b')).toHaveLength(1);
    // One key, two starts: the second waited for the limit.
    const t1 = Date.now();
    await Promise.all([executor.execute(wf, { tenant: 'c' }), executor.execute(wf, { tenant: 'c' })]);
    expect(Date.now() - t1).toBeGreaterThanOrEqual(400 - SLACK_MS);
  });
});

describe('rateLimit on a workflow', () => {
  const fx = useEngineFixture();

  it('queues run starts over the limit, spaced period / limit apart', async () => {
    const starts: number[] = [];
    const wf = workflow('throttled-runs', { rateLimit: { limit: 5, period: 500 } })
      .step('first', () => {
        starts.push(Date.now());
      })
      .step('second', { parents: ['first'] }, () => 'done');
    const executor = fx.executor();
    const t0 = Date.now();
    const results = await Promise.all(Array.from({ length: 4 }, (_, i) => executor.execute(wf, i)));
    expect(results.map((r) => r.output)).toEqual(['done', 'done', 'done', 'done']);
    expectSpaced(starts, t0, 100);
  });

  it("drops a run over the limit under onLimit: 'drop': it ends cancelled with a rate_limited error", async () => {
    let ran = 0;
    const wf = workflow('dropping-runs', { rateLimit: { limit: 1, period: '1m', onLimit: 'drop' } }).step('s', () => {
      ran++;
    });
    const executor = fx.executor();
    const first = await executor.execute(wf, 1);
    const second = await executor.execute(wf, 2);
    expect(first.success).toBe(true);
    expect(second.success).toBe(false);
    expect(second.cancelled).toBe(true);
    expect(second.error?.code).toBe('rate_limited');
    expect(second.error?.message).toMatch(/Rate limit "dropping-runs" had no start free/);
    expect(ran).toBe(1);
    expect((await executor.store.getRun(second.runId))?.status).toBe('cancelled');
  });

  it("skips a step over its limit under onLimit: 'drop', recording why", async () => {
    const wf = workflow('dropping-steps')
      .step('notify', { rateLimit: { limit: 1, period: '1m', onLimit: 'drop', name: 'sms' } }, () => 'sent')
      .step('after', { parents: ['notify'] }, (ctx) => ctx.parent('notify') ?? 'not sent');
    const executor = fx.executor();
    const first = await executor.execute(wf, 1);
    const second = await executor.execute(wf, 2);
    expect(first.output).toBe('sent');
    expect(second.success).toBe(true);
    const steps = await executor.store.getSteps(second.runId);
    expect(steps.find((s) => s.name === 'notify')?.status).toBe('skipped');
    const events = await executor.store.listEvents({ runId: second.runId });
    const skipped = events.find((e) => e.type === 'step_skipped');
    expect(skipped?.data).toMatch(/Rate limit \\"sms\\" had no start free/);
  });

  it('a step whose limit key function throws fails with that error', async () => {
    const wf = workflow('bad-key').step(
      's',
      {
        rateLimit: {
          limit: 1,
          period: 1000,
          key: () => {
            throw new Error('no tenant');
          },
        },
      },
      () => 'x',
    );
    const result = await fx.executor().execute(wf, null);
    expect(result.success).toBe(false);
    expect(result.error?.message).toMatch(/no tenant/);
  });
});

describe('rateLimit on a ManualClock', () => {
  const fx = useEngineFixture();

  it('runs a queued start at its granted time on the engine clock, not a lead before (a clock behind the real time)', async () => {
    // Years behind the real time: a start time compared with Date.now() would always look past.
    const START = Date.UTC(2020, 0, 1);
    const clock = new ManualClock(START);
    const began: number[] = [];
    const wf = workflow('vc-limited').step('call', { rateLimit: { limit: 1, period: '1m' } }, () => {
      began.push(clock.now());
      return 'ok';
    });
    const executor = fx.executor({ clock });
    const first = await executor.start(wf, 1);
    const second = await executor.start(wf, 2);
    // Every limited start is asked for one lead (200 ms here) ahead, so its start commit is out of the way.
    await waitUntil(async () =>
      (await executor.store.listEvents({ runId: second.runId })).some((e) => e.type === 'step_throttled'),
    );
    await clock.advance(200);
    expect((await first.result()).output).toBe('ok');
    expect(began).toEqual([START + 200]);
    // The second start is granted a minute later; its step is dispatched a lead before that.
    await clock.advance(60_000 - 200);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(began).toEqual([START + 200]);
    await clock.advance(200);
    expect((await second.result()).output).toBe('ok');
    expect(began).toEqual([START + 200, START + 60_200]);
  });
});

describe('rateLimit bad input', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['limit 0', { limit: 0, period: '1s' }, /`rateLimit.limit` must be a whole number >= 1, got 0/],
    ['a negative limit', { limit: -3, period: '1s' }, /`rateLimit.limit` must be a whole number >= 1, got -3/],
    ['a fractional limit', { limit: 1.5, period: '1s' }, /`rateLimit.limit`/],
    ['no limit', { period: '1s' }, /`rateLimit.limit` must be a whole number >= 1/],
    ['a period of 0', { limit: 1, period: 0 }, /`rateLimit.period` must be a duration above 0/],
    ['an unreadable period', { limit: 1, period: 'soon' }, /`rateLimit.period` must be a duration above 0.*got soon/],
    ['no period', { limit: 1 }, /`rateLimit.period`/],
    [
      'an unknown onLimit',
      { limit: 1, period: '1s', onLimit: 'skip' },
      /`rateLimit.onLimit` must be "queue" or "drop"/,
    ],
    ['a burst of 0', { limit: 1, period: '1s', burst: 0 }, /`rateLimit.burst` must be a whole number >= 1/],
    ['a key that is not a function', { limit: 1, period: '1s', key: 'tenant' }, /`rateLimit.key` must be a function/],
    ['not an object', 5, /`rateLimit` must be an object/],
  ];

  for (const [what, rateLimit, message] of cases) {
    it(`refuses ${what} on a workflow and on a step, naming the field`, () => {
      expect(() => workflow('bad', { rateLimit: rateLimit as never })).toThrow(InvalidWorkflowError);
      expect(() => workflow('bad', { rateLimit: rateLimit as never })).toThrow(message);
      expect(() => workflow('bad').step('s', { rateLimit: rateLimit as never }, () => 1)).toThrow(message);
      expect(() => workflow('bad').step('s', { rateLimit: rateLimit as never }, () => 1)).toThrow(/step "s"/);
    });
  }
});
