/**
 * Races on durable waits, many small trials from a seeded random source (replay one with
 * BRAID_RACE_SEED=<seed>): whatever lands first of an event (or an input), the wait's timeout and a
 * cancel, the wait settles once and the run, the store and the callers all agree on which one won;
 * an event sent as its waiter registers is not lost; two answers to one input, or one event sent
 * several times at once, are taken once.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EVICT_AFTER_MS } from '../../src/engine/runSleep.js';
import {
  type ExecutionResult,
  type ExecutorOptions,
  InputNotAwaitedError,
  type SentEvent,
  type WaitRecord,
  type WorkflowExecutor,
  workflow,
} from '../../src/index.js';
import { sleep, useEngineFixture, waitUntil } from './helpers.js';

const STORES = ['memory', 'sqlite'] as const;

const seed = Number(process.env.BRAID_RACE_SEED ?? Date.now() % 1_000_000);

/** mulberry32: a small seeded PRNG, so a failing trial can be replayed from its seed. */
function seededRandom(s: number): () => number {
  let a = s >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [lo, hi]. */
const between = (random: () => number, lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));

async function pendingWaits(executor: WorkflowExecutor, runId: string, count = 1): Promise<WaitRecord[]> {
  let waits: WaitRecord[] = [];
  await waitUntil(async () => {
    waits = await executor.waits(runId);
    return waits.filter((w) => w.status === 'pending').length >= count;
  });
  return waits;
}

/** Calls `fn` at epoch ms `at` (at once if that has passed) and resolves with what it resolves. */
function at<T>(time: number, fn: () => Promise<T>): Promise<T> {
  return sleep(Math.max(0, time - Date.now())).then(fn);
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: { code?: string } };
const settle = <T>(p: Promise<T>): Promise<Outcome<T>> =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error) => ({ ok: false as const, error }),
  );

describe.each(STORES)(`races on durable waits, %s store (seed ${seed})`, (kind) => {
  const fx = useEngineFixture();
  const open = (options: ExecutorOptions = {}) =>
    fx.executor(kind === 'sqlite' ? { store: fx.sqliteStore(fx.sqlitePath()), ...options } : options);

  const waiter = workflow('race-waiter', {
    input: z.object({ trial: z.number(), by: z.enum(['event', 'input']), timeoutMs: z.number() }),
  }).step('wait', async (ctx) => {
    const { trial, by, timeoutMs } = ctx.input;
    const got =
      by === 'event'
        ? await ctx.waitForEvent('race.go', { match: { trial }, timeout: timeoutMs })
        : await ctx.waitForInput('race.answer', { timeout: timeoutMs });
    return { got };
  });

  /**
   * One trial: a run waits (for an event or an input) with a timeout; around that deadline, within
   * a few ms either side, the resolver and (in half the trials) a cancel land. Whatever wins, it
   * must win everywhere: the sender's answer, the stored wait, the run's output and its events.
   */
  async function trial(executor: WorkflowExecutor, random: () => number, n: number, timeoutMs: number) {
    const by = random() < 0.5 ? 'event' : 'input';
    const handle = await executor.start(waiter, { trial: n, by, timeoutMs });
    const [wait] = await pendingWaits(executor, handle.runId);
    const due = wait?.dueAt as number;
    const sends = random() < 0.9;
    const cancels = random() < 0.5;
    const payload = { trial: n, token: random() };
    const resolver = sends
      ? // The timeout's own timer is armed for the deadline exactly, and a send takes a moment to
        // commit: the window leans early so that the event and the timeout win about as often.
        at(due + between(random, -6, 2), () =>
          by === 'event'
            ? settle<SentEvent | { key: string }>(executor.sendEvent('race.go', payload))
            : settle<SentEvent | { key: string }>(executor.provideInput(handle.runId, 'race.answer', payload)),
        )
      : undefined;
    const cancel = cancels ? at(due + between(random, -4, 4), () => executor.cancel(handle.runId, 'race')) : undefined;
    const [resolved, cancelled, result] = await Promise.all([resolver, cancel, handle.result()]);
    return { n, by, handle, payload, resolved, cancelled, result, sends, cancels };
  }

  async function check(executor: WorkflowExecutor, t: Awaited<ReturnType<typeof trial>>): Promise<string> {
    const label = `trial ${t.n} (${t.by}${t.sends ? ', resolver' : ''}${t.cancels ? ', cancel' : ''})`;
    const result: ExecutionResult = t.result;
    const waits = await executor.waits(t.handle.runId);
    expect(waits, label).toHaveLength(1);
    const wait = waits[0] as WaitRecord;
    // Settled, once, by exactly one of the three.
    expect(['resolved', 'timed_out', 'cancelled'], label).toContain(wait.status);
    expect(wait.resolvedAt, label).not.toBeNull();

    // The resolver's caller was told the truth.
    let delivered = false;
    if (t.resolved) {
      if (t.by === 'event') {
        expect(t.resolved.ok, label).toBe(true);
        delivered = t.resolved.ok && (t.resolved.value as SentEvent).delivered === 1;
      } else {
        delivered = t.resolved.ok;
        if (!t.resolved.ok) expect(['input_not_awaited', 'invalid_state'], label).toContain(t.resolved.error.code);
      }
    }
    expect(wait.status === 'resolved', `${label}: delivered ${delivered}, wait ${wait.status}`).toBe(delivered);
    if (delivered) {
      const value = JSON.parse(wait.value as string);
      expect(t.by === 'event' ? value.payload : value, label).toEqual(t.payload);
    }

    // The run ended once, consistently with the wait.
    if (!t.cancels) expect(result.status, label).toBe('succeeded');
    else expect(['succeeded', 'cancelled'], label).toContain(result.status);
    if (t.cancelled) expect(t.cancelled.status, label).toBe(result.status);
    if (result.status === 'succeeded') {
      expect(wait.status, label).not.toBe('cancelled');
      expect(result.output, label).toEqual({ got: wait.status === 'resolved' ? t.payload : null });
    } else {
      expect(result.context.nodeResults.wait?.status, label).toBe('cancelled');
    }
    const events = await executor.store.listEvents({ runId: t.handle.runId });
    const count = (type: string) => events.filter((e) => e.type === type).length;
    expect(count('step_waiting'), label).toBe(1);
    expect(count('step_woken'), label).toBeLessThanOrEqual(1);
    expect(count('run_succeeded') + count('run_cancelled'), label).toBe(1);
    expect((await executor.store.getRun(t.handle.runId))?.status, label).toBe(result.status);
    return wait.status;
  }

  /** Every way a trial can end must have happened, or the trials did not race. */
  function expectEveryOutcome(outcomes: string[]) {
    const seen = new Set(outcomes);
    for (const status of ['resolved', 'timed_out', 'cancelled']) expect(seen, outcomes.join(' ')).toContain(status);
  }

  it('event or input vs timeout vs cancel at the same instant, in memory: each wait settles once and everyone agrees', async () => {
    const random = seededRandom(seed);
    const executor = open();
    let trials = 0;
    const outcomes: string[] = [];
    for (let round = 0; round < 4; round++) {
      const batch = await Promise.all(Array.from({ length: 12 }, () => trial(executor, random, trials++, 60)));
      for (const t of batch) outcomes.push(await check(executor, t));
    }
    expect(trials).toBe(48);
    expectEveryOutcome(outcomes);
  });

  it('event or input vs timeout vs cancel at the same instant, for runs that left memory to wait', async () => {
    const random = seededRandom(seed + 1);
    const executor = open();
    const batch = await Promise.all(
      Array.from({ length: 12 }, (_, i) => trial(executor, random, i, EVICT_AFTER_MS + 150)),
    );
    const outcomes: string[] = [];
    for (const t of batch) outcomes.push(await check(executor, t));
    // Twelve trials are too few to demand every outcome; most often all three happen.
    expect(new Set(outcomes).size, outcomes.join(' ')).toBeGreaterThanOrEqual(2);
  });

  it('an event sent as its waiter registers is never lost', async () => {
    const random = seededRandom(seed + 2);
    const late = workflow('race-late-waiter', { input: z.object({ trial: z.number(), ms: z.number() }) }).step(
      'wait',
      async (ctx) => {
        await sleep(ctx.input.ms); // not a durable wait: the step is busy, then registers
        return ctx.waitForEvent('race.pre', { match: { trial: ctx.input.trial } });
      },
    );
    const executor = open();
    for (let round = 0; round < 4; round++) {
      const trials = await Promise.all(
        Array.from({ length: 10 }, async (_, i) => {
          const n = round * 10 + i;
          const handle = await executor.start(late, { trial: n, ms: between(random, 0, 6) });
          const sent = await at(Date.now() + between(random, 0, 6), () =>
            executor.sendEvent('race.pre', { trial: n, seen: true }),
          );
          return { n, handle, sent, result: await handle.result() };
        }),
      );
      for (const t of trials) {
        expect(t.result.output, `trial ${t.n}`).toEqual({ trial: t.n, seen: true });
        const [wait] = await executor.waits(t.handle.runId);
        expect(JSON.parse(wait?.value as string).seq, `trial ${t.n}`).toBe(t.sent.seq);
        expect([0, 1]).toContain(t.sent.delivered);
      }
    }
  });

  it('two answers to one input at once: one wins, the other gets InputNotAwaitedError', async () => {
    const random = seededRandom(seed + 3);
    // After the answer the step waits on (for `close`), so the loser finds the run still going.
    const asks = workflow('race-input').step('ask', async (ctx) => {
      const pick = await ctx.waitForInput('pick', { schema: z.string() });
      await ctx.waitForInput('close');
      return pick;
    });
    const executor = open();
    for (let round = 0; round < 3; round++) {
      const trials = await Promise.all(
        Array.from({ length: 10 }, async () => {
          const handle = await executor.start(asks, null);
          await pendingWaits(executor, handle.runId);
          const gap = between(random, 0, 2);
          const answers = await Promise.all([
            settle(executor.provideInput(handle.runId, 'pick', 'a')),
            at(Date.now() + gap, () => settle(executor.provideInput(handle.runId, 'pick', 'b'))),
          ]);
          await waitUntil(async () => (await executor.waits(handle.runId)).some((w) => w.name === 'close'));
          await executor.provideInput(handle.runId, 'close', null);
          return { handle, answers, result: await handle.result() };
        }),
      );
      for (const t of trials) {
        const won = t.answers.filter((a) => a.ok);
        const lost = t.answers.filter((a) => !a.ok);
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(1);
        const loser = lost[0] as { ok: false; error: unknown };
        expect(loser.error).toBeInstanceOf(InputNotAwaitedError);
        const winner = t.answers[0]?.ok ? 'a' : 'b';
        expect(t.result.output).toBe(winner);
        // By name: `close` may be created in the same millisecond as `pick`, and waits list by time then key.
        const wait = (await executor.waits(t.handle.runId)).find((w) => w.name === 'pick');
        expect(wait?.value).toBe(JSON.stringify(winner));
      }
    }
  });

  it('one event sent several times at once under one idempotency key is recorded and delivered once', async () => {
    const random = seededRandom(seed + 4);
    // An event name per round: an event of the round before may share the new run's millisecond,
    // and the default lookback (since the run began) would count it.
    const wf = workflow('race-idempotent', { input: z.number() }).step('wait', (ctx) =>
      ctx.waitForEvent(`race.once.${ctx.input}`),
    );
    const executor = open();
    for (let round = 0; round < 10; round++) {
      const handle = await executor.start(wf, round);
      await pendingWaits(executor, handle.runId);
      const key = `once-${round}`;
      const sends = await Promise.all(
        Array.from({ length: 5 }, (_, copy) =>
          at(Date.now() + between(random, 0, 3), () =>
            executor.sendEvent(`race.once.${round}`, { copy }, { idempotencyKey: key }),
          ),
        ),
      );
      const first = sends.filter((s) => !s.duplicate);
      expect(first).toHaveLength(1);
      expect(sends.reduce((sum, s) => sum + s.delivered, 0)).toBe(1);
      expect(new Set(sends.map((s) => s.seq)).size).toBe(1);
      const winner = sends.indexOf(first[0] as SentEvent);
      expect((await handle.result()).output).toEqual({ copy: winner });
    }
    const inbox = await executor.store.listInbox({ limit: 100 });
    expect(inbox.filter((e) => e.name.startsWith('race.once.'))).toHaveLength(10);
  });
});
