/**
 * Durable waits, as a user of the library sees them, on the two embedded stores: ctx.sleep /
 * sleepUntil / waitForEvent / waitForInput / waitForFirst, a step's `delay`, sendEvent and
 * provideInput, event-triggered workflows, and cancel, pause and the run deadline on waiting runs.
 * Real timers, short waits; the few tests that let a run leave memory wait just past EVICT_AFTER_MS.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EVICT_AFTER_MS } from '../../src/engine/runSleep.js';
import {
  type EventRecord,
  type ExecutorOptions,
  InputNotAwaitedError,
  InvalidEventError,
  InvalidInputError,
  InvalidInputValueError,
  InvalidStateError,
  InvalidWorkflowError,
  NotSerializableError,
  RunNotFoundError,
  type WaitRecord,
  type WorkflowExecutor,
  workflow,
} from '../../src/index.js';
import { deferred, sleep, useEngineFixture, waitUntil } from './helpers.js';

const STORES = ['memory', 'sqlite'] as const;

/** The waits of a run once it has `count` pending ones (the step got to its wait calls). */
async function pendingWaits(executor: WorkflowExecutor, runId: string, count = 1): Promise<WaitRecord[]> {
  let waits: WaitRecord[] = [];
  await waitUntil(async () => {
    waits = await executor.waits(runId);
    return waits.filter((w) => w.status === 'pending').length >= count;
  });
  return waits;
}

/** Waits until the run's stored row says `status`. */
async function storedStatus(executor: WorkflowExecutor, runId: string, status: string): Promise<void> {
  await waitUntil(async () => (await executor.store.getRun(runId))?.status === status, 5000);
}

async function eventsOf(executor: WorkflowExecutor, runId: string): Promise<EventRecord[]> {
  return executor.store.listEvents({ runId });
}

describe.each(STORES)('durable waits on the %s store', (kind) => {
  const fx = useEngineFixture();
  const open = (options: ExecutorOptions = {}) =>
    fx.executor(kind === 'sqlite' ? { store: fx.sqliteStore(fx.sqlitePath()), ...options } : options);

  describe('sleep', () => {
    it('sleeps for text and millisecond durations and until a Date or epoch ms, each stored with its deadline', async () => {
      const asked = [60, 40, 50, 30];
      const wf = workflow('sleeps').step('s', async (ctx) => {
        await ctx.sleep('60ms');
        await ctx.sleep(40);
        await ctx.sleepUntil(new Date(Date.now() + 50));
        await ctx.sleepUntil(Date.now() + 30);
        return 'awake';
      });
      const executor = open();
      const t0 = Date.now();
      const result = await executor.execute(wf, null);
      expect(result.output).toBe('awake');
      expect(Date.now() - t0).toBeGreaterThanOrEqual(180);
      const waits = await executor.waits(result.runId);
      expect(waits.map((w) => [w.key, w.kind, w.status])).toEqual([
        ['sleep#0', 'sleep', 'resolved'],
        ['sleep#1', 'sleep', 'resolved'],
        ['sleep#2', 'sleep', 'resolved'],
        ['sleep#3', 'sleep', 'resolved'],
      ]);
      waits.forEach((w, i) => {
        const due = w.dueAt as number;
        expect(Math.abs(due - w.createdAt - (asked[i] as number)), w.key).toBeLessThanOrEqual(5);
        // Never woken early; on this shared machine, within a generous bound of its deadline.
        expect(w.resolvedAt, w.key).toBeGreaterThanOrEqual(due);
        expect(w.resolvedAt as number, w.key).toBeLessThan(due + 500);
      });
    });

    it('a run whose step sleeps longer than EVICT_AFTER_MS leaves memory, wakes on time and skips the sleeps it finished', async () => {
      const longMs = EVICT_AFTER_MS + 200;
      let invocations = 0;
      const warmUpTook: number[] = [];
      const wf = workflow('long-sleeper').step('s', async (ctx) => {
        invocations++;
        const t = Date.now();
        await ctx.sleep(30, { name: 'warm-up' });
        warmUpTook.push(Date.now() - t);
        await ctx.sleep(longMs);
        await ctx.sleep(20);
        return invocations;
      });
      const executor = open();
      const handle = await executor.start(wf, null);
      await waitUntil(async () => (await executor.store.getRun(handle.runId))?.wakeAt != null, 3000);
      const asleep = await executor.store.getRun(handle.runId);
      const stored = await executor.store.getWaits(handle.runId);
      const long = stored.find((w) => w.key === 'sleep#0');
      expect(asleep?.status).toBe('waiting');
      expect(long?.status).toBe('pending');
      // Its row holds its wake-up time: the stored deadline of the sleep, nothing in memory.
      expect(asleep?.wakeAt).toBe(long?.dueAt);
      expect((await executor.store.getSteps(handle.runId))[0]?.status).toBe('waiting');

      const result = await handle.result();
      // Once before it left memory, once when it woke: the same attempt, run again from its start.
      expect(result.output).toBe(2);
      expect(warmUpTook).toHaveLength(2);
      expect(warmUpTook[0]).toBeGreaterThanOrEqual(29);
      expect(warmUpTook[1]).toBeLessThan(25); // the finished named sleep returned at once
      const waits = await executor.waits(handle.runId);
      expect(waits.map((w) => [w.key, w.status])).toEqual([
        ['sleep:warm-up', 'resolved'],
        ['sleep#0', 'resolved'],
        ['sleep#1', 'resolved'],
      ]);
      const woke = waits[1] as WaitRecord;
      expect(woke.resolvedAt).toBeGreaterThanOrEqual(woke.dueAt as number);
      expect(woke.resolvedAt as number).toBeLessThan((woke.dueAt as number) + 1000);
      const [step] = await executor.store.getSteps(handle.runId);
      expect(step?.attempts).toBe(1);
      expect((await eventsOf(executor, handle.runId)).filter((e) => e.type === 'step_started')).toHaveLength(1);
      expect((await executor.store.getRun(handle.runId))?.wakeAt).toBeNull();
    });

    it('a sleeping step holds no slot: under maxParallelNodes 1 other runs go through, in memory and out of it', async () => {
      const short = workflow('short-sleeper').step('s', async (ctx) => {
        await ctx.sleep(500);
        return 'short';
      });
      const long = workflow('evicted-sleeper').step('s', async (ctx) => {
        await ctx.sleep(EVICT_AFTER_MS + 200);
        return 'long';
      });
      const quick = workflow('quick').step('s', () => 'quick');
      const executor = open({ maxParallelNodes: 1 });
      const a = await executor.start(short, null);
      const b = await executor.start(long, null);
      await pendingWaits(executor, a.runId);
      await pendingWaits(executor, b.runId);
      const t = Date.now();
      const results = await Promise.all(Array.from({ length: 5 }, () => executor.execute(quick, null)));
      expect(results.map((r) => r.output)).toEqual(Array(5).fill('quick'));
      expect(Date.now() - t).toBeLessThan(450);
      expect(await a.status()).toBe('waiting');
      expect((await a.result()).output).toBe('short');
      expect((await b.result()).output).toBe('long');
    });

    it('a step `delay` starts the step no earlier than its delay after it became ready, from a stored time', async () => {
      // A delay shorter than EVICT_AFTER_MS on a step with parents never fired before its fix: waits.regressions.test.ts.
      const longMs = EVICT_AFTER_MS + 200;
      const wf = workflow('delayed')
        .step('a', { delay: '200ms' }, () => Date.now())
        .step('b', { parents: ['a'], delay: longMs }, (ctx) => ({ waited: Date.now() - ctx.parent('a') }));
      const executor = open();
      const handle = await executor.start(wf, null);
      const created = (await executor.store.getRun(handle.runId))?.createdAt as number;
      await waitUntil(async () =>
        (await executor.store.getSteps(handle.runId)).some((s) => s.name === 'a' && s.nextAttemptAt !== null),
      );
      const a = (await executor.store.getSteps(handle.runId)).find((s) => s.name === 'a');
      expect(a?.status).toBe('queued');
      expect(a?.attempts).toBe(0);
      expect((a?.nextAttemptAt as number) - created).toBeGreaterThanOrEqual(195);
      // A long delay lets the run leave memory until the step's stored not-before time.
      await waitUntil(async () => (await executor.store.getRun(handle.runId))?.wakeAt != null, 3000);
      const asleep = await executor.store.getRun(handle.runId);
      const b = (await executor.store.getSteps(handle.runId)).find((s) => s.name === 'b');
      expect(asleep?.wakeAt).toBe(b?.nextAttemptAt);
      const result = await handle.result();
      expect((result.output as { waited: number }).waited).toBeGreaterThanOrEqual(longMs - 5);
      const steps = await executor.store.getSteps(handle.runId);
      expect((steps.find((s) => s.name === 'a')?.startedAt as number) - created).toBeGreaterThanOrEqual(195);
      expect(steps.map((s) => s.attempts)).toEqual([1, 1]);
    });
  });

  describe('events', () => {
    it('an event sent with a key resolves the waiters that match that key, and only those', async () => {
      const wf = workflow('by-key', { input: z.object({ order: z.string() }) }).step('wait', (ctx) =>
        ctx.waitForEvent('order.paid', { match: ctx.input.order }),
      );
      const executor = open();
      const a = await executor.start(wf, { order: 'A' });
      const b = await executor.start(wf, { order: 'B' });
      await pendingWaits(executor, a.runId);
      const [bWait] = await pendingWaits(executor, b.runId);
      expect(bWait?.eventKey).toBe('B');

      const sent = await executor.sendEvent('order.paid', { amount: 5 }, { key: 'B' });
      expect(sent).toMatchObject({ duplicate: false, delivered: 1, started: [] });
      expect((await b.result()).output).toEqual({ amount: 5 });
      // An event without a key is not for a waiter that asked for one.
      expect((await executor.sendEvent('order.paid', { amount: 1 })).delivered).toBe(0);
      expect(await a.status()).toBe('waiting');
      expect((await executor.sendEvent('order.paid', { amount: 7 }, { key: 'A' })).delivered).toBe(1);
      expect((await a.result()).output).toEqual({ amount: 7 });
      const [resolved] = await executor.waits(a.runId);
      expect(JSON.parse(resolved?.value as string)).toMatchObject({
        name: 'order.paid',
        key: 'A',
        payload: { amount: 7 },
      });
    });

    it('matches payload fields by JSON value, with dotted paths into nested objects', async () => {
      const wf = workflow('by-fields').step('wait', (ctx) =>
        ctx.waitForEvent('shipment', { match: { 'order.id': 42, carrier: 'ups', 'dims.box': { w: 1, h: 2 } } }),
      );
      const executor = open();
      const handle = await executor.start(wf, null);
      await pendingWaits(executor, handle.runId);
      const base = { order: { id: 42 }, carrier: 'ups', dims: { box: { w: 1, h: 2 } } };
      const misses = [
        { ...base, order: { id: 43 } },
        { ...base, carrier: 'dhl' },
        { ...base, order: { id: '42' } }, // a string is not the number
        { ...base, dims: { box: { w: 1 } } },
        { carrier: 'ups', dims: base.dims }, // no order at all
      ];
      for (const payload of misses) expect((await executor.sendEvent('shipment', payload)).delivered).toBe(0);
      expect(await handle.status()).toBe('waiting');
      const hit = { order: { id: 42, lines: 3 }, carrier: 'ups', dims: { box: { h: 2, w: 1 } }, extra: true };
      expect((await executor.sendEvent('shipment', hit)).delivered).toBe(1);
      expect((await handle.result()).output).toEqual(hit);
    });

    it('a timeout resolves the wait to null and marks it timed_out; a later event reaches nothing', async () => {
      const wf = workflow('event-timeout').step('wait', async (ctx) => ({
        got: await ctx.waitForEvent('never', { timeout: '80ms' }),
      }));
      const executor = open();
      const result = await executor.execute(wf, null);
      expect(result.output).toEqual({ got: null });
      const [wait] = await executor.waits(result.runId);
      expect(wait?.status).toBe('timed_out');
      expect(wait?.value).toBeNull();
      expect(wait?.resolvedAt).toBeGreaterThanOrEqual(wait?.dueAt as number);
      expect((await executor.sendEvent('never', 1)).delivered).toBe(0);
    });

    it('an event sent before the waiter registers is delivered when it does (the default lookback: since the run began)', async () => {
      const gate = deferred();
      const wf = workflow('early-event', { input: z.object({ id: z.number() }) })
        .step('first', () => gate.promise)
        .step('wait', { parents: ['first'] }, (ctx) => ctx.waitForEvent('early', { match: { id: ctx.input.id } }));
      const executor = open();
      const handle = await executor.start(wf, { id: 1 });
      await storedStatus(executor, handle.runId, 'running');
      const sent = await executor.sendEvent('early', { id: 1, v: 'x' });
      expect(sent.delivered).toBe(0); // nobody waits yet: it waits in the inbox
      gate.resolve();
      expect((await handle.result()).output).toEqual({ id: 1, v: 'x' });
      const [wait] = await executor.waits(handle.runId);
      expect(JSON.parse(wait?.value as string).seq).toBe(sent.seq);
    });

    it('the default lookback does not reach before the run; lookback 0 counts only events after the wait began; a longer one reaches back', async () => {
      const gate = deferred();
      const wf = workflow('lookbacks')
        .step('first', () => gate.promise)
        .step('default', { parents: ['first'] }, (ctx) => ctx.waitForEvent('lb.old', { timeout: 100 }))
        .step('zero', { parents: ['first'] }, (ctx) => ctx.waitForEvent('lb.new', { lookback: 0, timeout: 100 }))
        .step('hour', { parents: ['first'] }, (ctx) => ctx.waitForEvent('lb.old', { lookback: '1h', timeout: 100 }));
      const executor = open();
      await executor.sendEvent('lb.old', 'before the run');
      await sleep(5);
      const handle = await executor.start(wf, null);
      await storedStatus(executor, handle.runId, 'running');
      await executor.sendEvent('lb.new', 'before the wait');
      await sleep(5);
      gate.resolve();
      const result = await handle.result();
      expect(result.output).toEqual({ default: null, zero: null, hour: 'before the run' });
    });

    it('an idempotency key records and delivers an event once, however often it is sent', async () => {
      const wf = workflow('idempotent-event').step('wait', (ctx) => ctx.waitForEvent('charge'));
      const executor = open();
      const handle = await executor.start(wf, null);
      await pendingWaits(executor, handle.runId);
      const sends = [];
      for (let n = 1; n <= 3; n++)
        sends.push(await executor.sendEvent('charge', { n }, { idempotencyKey: 'charge-1' }));
      expect(sends.map((s) => [s.duplicate, s.delivered])).toEqual([
        [false, 1],
        [true, 0],
        [true, 0],
      ]);
      expect(new Set(sends.map((s) => s.seq)).size).toBe(1);
      expect((await handle.result()).output).toEqual({ n: 1 });
      expect(await executor.store.listInbox({ name: 'charge' })).toHaveLength(1);
    });

    it('one event resolves every waiter it matches: several runs, and two steps of one run', async () => {
      const wf = workflow('broadcast')
        .step('left', (ctx) => ctx.waitForEvent('go'))
        .step('right', (ctx) => ctx.waitForEvent('go'));
      const executor = open();
      const handles = await Promise.all([1, 2, 3].map(() => executor.start(wf, null)));
      for (const h of handles) await pendingWaits(executor, h.runId, 2);
      const sent = await executor.sendEvent('go', { at: 'once' });
      expect(sent.delivered).toBe(6);
      for (const h of handles)
        expect((await h.result()).output).toEqual({ left: { at: 'once' }, right: { at: 'once' } });
    });

    it('an event starts the workflows it triggers; with an idempotency key, one run however often it is sent', async () => {
      const triggered = workflow('on-paid', { on: { event: 'order.paid' }, input: z.object({ id: z.string() }) }).step(
        's',
        (ctx) => `paid ${ctx.input.id}`,
      );
      const executor = open({ workflows: [triggered] });
      const first = await executor.sendEvent('order.paid', { id: 'o-1' }, { idempotencyKey: 'pay-o-1' });
      expect(first.duplicate).toBe(false);
      expect(first.started).toEqual([{ workflow: 'on-paid', runId: expect.any(String) }]);
      const runId = first.started[0]?.runId as string;
      for (let i = 0; i < 3; i++) {
        const again = await executor.sendEvent('order.paid', { id: 'o-1' }, { idempotencyKey: 'pay-o-1' });
        expect(again.duplicate).toBe(true);
        expect(again.started).toEqual([{ workflow: 'on-paid', runId }]);
      }
      const result = await (await executor.getHandle(runId)).result();
      expect(result.output).toBe('paid o-1');
      expect(await executor.store.countRuns({ workflow: 'on-paid' })).toEqual({ succeeded: 1 });

      // Without a key, each send is a new event and starts a new run.
      const a = await executor.sendEvent('order.paid', { id: 'o-2' });
      const b = await executor.sendEvent('order.paid', { id: 'o-2' });
      expect(a.started[0]?.runId).not.toBe(b.started[0]?.runId);
      for (const s of [a, b])
        expect((await (await executor.getHandle(s.started[0]?.runId as string)).result()).output).toBe('paid o-2');

      // A payload the triggered workflow's schema refuses is refused whole: no event, no run.
      const inboxBefore = await executor.store.listInbox({});
      await expect(executor.sendEvent('order.paid', { id: 5 })).rejects.toBeInstanceOf(InvalidInputError);
      expect(await executor.store.listInbox({})).toEqual(inboxBefore);
      expect(await executor.store.countRuns({ workflow: 'on-paid' })).toEqual({ succeeded: 3 });
    });
  });

  describe('inputs', () => {
    const approval = z.object({ approved: z.boolean(), note: z.string().default('none') });
    const asks = () =>
      workflow('asks').step('ask', (ctx) =>
        ctx.waitForInput('approval', { schema: approval, payload: { question: 'Ship order 7?' } }),
      );

    it('returns the value parsed by the schema; the request (payload and JSON Schema) is readable from executor.waits', async () => {
      const executor = open();
      const handle = await executor.start(asks(), null);
      const [wait] = await pendingWaits(executor, handle.runId);
      expect(wait).toMatchObject({ kind: 'input', name: 'approval', key: 'input:approval#0', status: 'pending' });
      const request = JSON.parse(wait?.request as string);
      expect(request.payload).toEqual({ question: 'Ship order 7?' });
      expect(request.schema).toMatchObject({ type: 'object', properties: { approved: { type: 'boolean' } } });
      expect(await handle.status()).toBe('waiting');

      const given = await executor.provideInput(handle.runId, 'approval', { approved: true });
      expect(given).toEqual({ runId: handle.runId, name: 'approval', key: 'input:approval#0' });
      // The schema's default was applied by the step's parse.
      expect((await handle.result()).output).toEqual({ approved: true, note: 'none' });
      const [resolved] = await executor.waits(handle.runId);
      expect(resolved?.status).toBe('resolved');
      expect(JSON.parse(resolved?.value as string)).toEqual({ approved: true });
    });

    it('refuses bad values and names with typed errors and changes nothing', async () => {
      const executor = open();
      const handle = await executor.start(asks(), null);
      await pendingWaits(executor, handle.runId);
      const before = await executor.waits(handle.runId);

      const wrong = await executor.provideInput(handle.runId, 'approval', { approved: 'yes' }).catch((e) => e);
      expect(wrong).toBeInstanceOf(InvalidInputValueError);
      expect(wrong.code).toBe('invalid_input_value');
      expect(wrong.message).toContain('approved');
      const unknown = await executor.provideInput(handle.runId, 'aproval', { approved: true }).catch((e) => e);
      expect(unknown).toBeInstanceOf(InputNotAwaitedError);
      expect(unknown.code).toBe('input_not_awaited');
      expect(unknown.awaited).toEqual(['approval']);
      const noRun = await executor.provideInput('01NOSUCHRUN0000000000000000', 'approval', {}).catch((e) => e);
      expect(noRun).toBeInstanceOf(RunNotFoundError);
      const notJson = await executor.provideInput(handle.runId, 'approval', () => true).catch((e) => e);
      expect(notJson).toBeInstanceOf(NotSerializableError);
      await expect(executor.waits('01NOSUCHRUN0000000000000000')).rejects.toBeInstanceOf(RunNotFoundError);

      expect(await executor.waits(handle.runId)).toEqual(before);
      expect(await handle.status()).toBe('waiting');
      await executor.provideInput(handle.runId, 'approval', { approved: false, note: 'no stock' });
      expect((await handle.result()).output).toEqual({ approved: false, note: 'no stock' });
      const finished = await executor.provideInput(handle.runId, 'approval', { approved: true }).catch((e) => e);
      expect(finished).toBeInstanceOf(InvalidStateError);
      expect(finished.code).toBe('invalid_state');
    });

    it('inputs in a loop are keyed by name and occurrence, answered oldest first', async () => {
      const wf = workflow('lines').step('collect', async (ctx) => {
        const lines: unknown[] = [];
        for (let i = 0; i < 3; i++) lines.push(await ctx.waitForInput('line', { payload: { line: i } }));
        return lines;
      });
      const executor = open();
      const handle = await executor.start(wf, null);
      for (const [i, value] of ['a', 'b', 'c'].entries()) {
        await waitUntil(async () =>
          (await executor.waits(handle.runId)).some((w) => w.key === `input:line#${i}` && w.status === 'pending'),
        );
        expect((await executor.provideInput(handle.runId, 'line', value)).key).toBe(`input:line#${i}`);
      }
      expect((await handle.result()).output).toEqual(['a', 'b', 'c']);
      const waits = await executor.waits(handle.runId);
      expect(waits.map((w) => [w.key, w.status, JSON.parse(w.request as string).payload, w.value])).toEqual([
        ['input:line#0', 'resolved', { line: 0 }, '"a"'],
        ['input:line#1', 'resolved', { line: 1 }, '"b"'],
        ['input:line#2', 'resolved', { line: 2 }, '"c"'],
      ]);
    });

    it('a timeout resolves the input to null; answering it afterwards is refused', async () => {
      const wf = workflow('input-timeout').step('ask', async (ctx) => {
        const late = await ctx.waitForInput('late', { timeout: 80 });
        const next = await ctx.waitForInput('next', { timeout: 2000 });
        return { late, next };
      });
      const executor = open();
      const handle = await executor.start(wf, null);
      await waitUntil(async () => (await executor.waits(handle.runId)).some((w) => w.name === 'next'));
      const refused = await executor.provideInput(handle.runId, 'late', 1).catch((e) => e);
      expect(refused).toBeInstanceOf(InputNotAwaitedError);
      expect(refused.awaited).toEqual(['next']);
      await executor.provideInput(handle.runId, 'next', 2);
      expect((await handle.result()).output).toEqual({ late: null, next: 2 });
      expect((await executor.waits(handle.runId)).map((w) => w.status)).toEqual(['timed_out', 'resolved']);
    });
  });

  describe('waitForFirst', () => {
    const racer = () =>
      workflow('first-of', { input: z.object({ id: z.number(), napMs: z.number() }) }).step('race', (ctx) =>
        ctx.waitForFirst({
          paid: { event: 'race.paid', match: { id: ctx.input.id } },
          nap: { sleep: ctx.input.napMs },
          person: { input: 'decision' },
        }),
      );
    const statuses = async (executor: WorkflowExecutor, runId: string) =>
      Object.fromEntries((await executor.waits(runId)).map((w) => [w.key, w.status]));

    it('the sleep wins when nothing comes first; the event and input waits are cancelled', async () => {
      const executor = open();
      const result = await executor.execute(racer(), { id: 1, napMs: 100 });
      expect(result.output).toEqual({ name: 'nap' });
      expect(await statuses(executor, result.runId)).toEqual({
        'first#0/paid': 'cancelled',
        'first#0/nap': 'resolved',
        'first#0/person': 'cancelled',
      });
      expect((await executor.sendEvent('race.paid', { id: 1 })).delivered).toBe(0);
    });

    it('the event wins over a long sleep and the input; the losers are cancelled and take nothing later', async () => {
      const executor = open();
      const handle = await executor.start(racer(), { id: 2, napMs: 60_000 });
      await pendingWaits(executor, handle.runId, 3);
      expect((await executor.sendEvent('race.paid', { id: 2, total: 9 })).delivered).toBe(1);
      expect((await handle.result()).output).toEqual({ name: 'paid', value: { id: 2, total: 9 } });
      expect(await statuses(executor, handle.runId)).toEqual({
        'first#0/paid': 'resolved',
        'first#0/nap': 'cancelled',
        'first#0/person': 'cancelled',
      });
      expect((await executor.sendEvent('race.paid', { id: 2 })).delivered).toBe(0);
    });

    it('the input wins; it is given by its own name, and the others are cancelled', async () => {
      const executor = open();
      const handle = await executor.start(racer(), { id: 3, napMs: 60_000 });
      await pendingWaits(executor, handle.runId, 3);
      expect((await executor.provideInput(handle.runId, 'decision', 'go')).key).toBe('first#0/person');
      expect((await handle.result()).output).toEqual({ name: 'person', value: 'go' });
      expect(await statuses(executor, handle.runId)).toEqual({
        'first#0/paid': 'cancelled',
        'first#0/nap': 'cancelled',
        'first#0/person': 'resolved',
      });
      expect((await executor.sendEvent('race.paid', { id: 3 })).delivered).toBe(0);
    });
  });

  describe('cancel, pause and the run deadline on waiting runs', () => {
    it('cancelling a waiting run, in memory or out of it, cancels its waits; an event or input after reaches nothing', async () => {
      const inMemory = workflow('cancel-sleeping').step('s', (ctx) => ctx.sleep(800));
      const outOfMemory = workflow('cancel-waiting').step('s', (ctx) => ctx.waitForEvent('cancel.me'));
      const executor = open();
      const a = await executor.start(inMemory, null);
      const b = await executor.start(outOfMemory, null);
      await pendingWaits(executor, a.runId);
      await pendingWaits(executor, b.runId);
      await waitUntil(async () => (await executor.store.getRun(b.runId))?.wakeAt != null);
      for (const handle of [a, b]) {
        const result = await executor.cancel(handle.runId, 'no longer needed');
        expect(result.status).toBe('cancelled');
        expect((await executor.waits(handle.runId)).map((w) => w.status)).toEqual(['cancelled']);
        expect((await executor.store.getSteps(handle.runId)).map((s) => s.status)).toEqual(['cancelled']);
        expect((await executor.store.getRun(handle.runId))?.wakeAt).toBeNull();
      }
      expect((await executor.sendEvent('cancel.me', 1)).delivered).toBe(0);
      await expect(executor.provideInput(b.runId, 'x', 1)).rejects.toBeInstanceOf(InvalidStateError);
    });

    it('a paused waiting run keeps an event that comes meanwhile and goes on with it when resumed', async () => {
      const wf = workflow('pause-waiting').step('s', (ctx) => ctx.waitForEvent('while.paused'));
      const executor = open();
      const handle = await executor.start(wf, null);
      await pendingWaits(executor, handle.runId);
      expect((await executor.pause(handle.runId)).status).toBe('paused');
      expect((await executor.sendEvent('while.paused', { kept: true })).delivered).toBe(1);
      await sleep(100);
      expect(await handle.status()).toBe('paused');
      expect((await executor.store.getRun(handle.runId))?.status).toBe('paused');
      await executor.resume(handle.runId);
      expect((await handle.result()).output).toEqual({ kept: true });
    });

    it('a run paused past its sleep stays paused, and wakes at once when resumed', async () => {
      const wf = workflow('pause-sleeping').step('s', async (ctx) => {
        await ctx.sleep(100);
        return 'rested';
      });
      const executor = open();
      const handle = await executor.start(wf, null);
      await pendingWaits(executor, handle.runId);
      await executor.pause(handle.runId);
      await sleep(300);
      expect(await handle.status()).toBe('paused');
      const t = Date.now();
      await executor.resume(handle.runId);
      expect((await handle.result()).output).toBe('rested');
      expect(Date.now() - t).toBeLessThan(500);
    });

    it('the run deadline counts while it waits by default, in memory and out of it', async () => {
      const inMemory = workflow('deadline-sleeping', { timeoutSeconds: 0.3 }).step('s', (ctx) => ctx.sleep(5000));
      const outOfMemory = workflow('deadline-waiting', { timeoutSeconds: 1.3 }).step('s', (ctx) =>
        ctx.waitForEvent('too.late'),
      );
      const executor = open();
      for (const [wf, seconds] of [
        [inMemory, 0.3],
        [outOfMemory, 1.3],
      ] as const) {
        const t = Date.now();
        const result = await executor.execute(wf, null);
        const took = Date.now() - t;
        expect(result.status, wf.name).toBe('timed_out');
        expect(result.error?.code).toBe('run_timeout');
        expect(took).toBeGreaterThanOrEqual(seconds * 1000 - 20);
        expect(took).toBeLessThan(seconds * 1000 + 1000);
        expect((await executor.waits(result.runId)).map((w) => w.status)).toEqual(['cancelled']);
      }
    });

    it('timeoutIncludesWaiting: false moves the deadline on by the time spent waiting; busy time still counts', async () => {
      const waits = workflow('deadline-excludes-waiting', { timeoutSeconds: 0.4, timeoutIncludesWaiting: false }).step(
        's',
        async (ctx) => {
          await ctx.sleep(700);
          return 'in time';
        },
      );
      const busy = workflow('deadline-busy', { timeoutSeconds: 0.4, timeoutIncludesWaiting: false }).step(
        's',
        async (ctx) => {
          await ctx.sleep(200);
          await sleep(700); // working, not waiting
          return 'too slow';
        },
      );
      const executor = open();
      const handle = await executor.start(waits, null);
      await pendingWaits(executor, handle.runId);
      const first = await executor.store.getRun(handle.runId);
      const result = await handle.result();
      expect(result.status).toBe('succeeded');
      const after = await executor.store.getRun(handle.runId);
      expect((after?.deadlineAt as number) - (first?.deadlineAt as number)).toBeGreaterThanOrEqual(650);
      expect(after?.pausedAt).toBeNull();
      const slow = await executor.execute(busy, null);
      expect(slow.status).toBe('timed_out');
    });
  });

  describe('statuses and events', () => {
    it('run and step read `waiting` while a sleep lasts; step_waiting, run_waiting, step_woken and run_woken record it in order', async () => {
      const release = deferred();
      const wf = workflow('observed').step('s', async (ctx) => {
        await ctx.sleep(150);
        await release.promise;
        return 'done';
      });
      const executor = open();
      const handle = await executor.start(wf, null);
      await storedStatus(executor, handle.runId, 'waiting');
      expect(await handle.status()).toBe('waiting');
      expect((await executor.inspect(handle.runId)).status).toBe('waiting');
      expect((await executor.store.getSteps(handle.runId))[0]?.status).toBe('waiting');
      await storedStatus(executor, handle.runId, 'running');
      expect((await executor.store.getSteps(handle.runId))[0]?.status).toBe('running');
      release.resolve();
      await handle.result();
      const events = await eventsOf(executor, handle.runId);
      expect(events.map((e) => e.type)).toEqual([
        'run_started',
        'step_started',
        'step_waiting',
        'run_waiting',
        'step_woken',
        'run_woken',
        'step_succeeded',
        'run_succeeded',
      ]);
      const waiting = events.find((e) => e.type === 'step_waiting');
      const [wait] = await executor.waits(handle.runId);
      expect(JSON.parse(waiting?.data as string)).toEqual([
        { key: 'sleep#0', kind: 'sleep', name: null, dueAt: wait?.dueAt },
      ]);
      expect(JSON.parse(events.find((e) => e.type === 'step_woken')?.data as string)).toEqual({
        key: 'sleep#0',
        status: 'resolved',
      });
      expect(events.filter((e) => e.step !== null).every((e) => e.step === 's')).toBe(true);
    });

    it('a run of two steps is `waiting` only while none of them runs', async () => {
      const release = deferred();
      const wf = workflow('half-waiting')
        .step('sleeper', (ctx) => ctx.sleep(200))
        .step('worker', () => release.promise);
      const executor = open();
      const handle = await executor.start(wf, null);
      await pendingWaits(executor, handle.runId);
      await sleep(30);
      expect(await handle.status()).toBe('running');
      const steps = Object.fromEntries((await executor.store.getSteps(handle.runId)).map((s) => [s.name, s.status]));
      expect(steps).toEqual({ sleeper: 'waiting', worker: 'running' });
      release.resolve();
      expect((await handle.result()).status).toBe('succeeded');
      const types = (await eventsOf(executor, handle.runId)).map((e) => e.type);
      expect(types).not.toContain('run_waiting');
    });
  });

  describe('bad input', () => {
    it('sendEvent refuses a payload that is not JSON, an empty name and empty keys with InvalidEventError; the inbox is unchanged', async () => {
      const executor = open();
      await executor.sendEvent('kept', 1);
      const before = await executor.store.listInbox({});
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      const bad: Array<[string, unknown, Record<string, unknown>?]> = [
        ['fn', () => 1],
        ['bigint', 10n],
        ['symbol', Symbol('s')],
        ['cyclic', cyclic],
        ['nan', { n: Number.NaN }],
        ['', 1],
        ['x'.repeat(201), 1],
        ['key', 1, { key: '' }],
        ['idem', 1, { idempotencyKey: '' }],
      ];
      for (const [name, payload, options] of bad) {
        const error = await executor.sendEvent(name, payload, options).catch((e) => e);
        expect(error, name).toBeInstanceOf(InvalidEventError);
        expect(error.code).toBe('invalid_event');
      }
      const notAString = await executor.sendEvent(5 as unknown as string, 1).catch((e) => e);
      expect(notAString).toBeInstanceOf(InvalidEventError);
      expect(await executor.store.listInbox({})).toEqual(before);
    });

    it('a wait call with a bad duration, time, name or match rejects with a typed error and records nothing', async () => {
      const wf = workflow('bad-waits').step('s', async (ctx) => {
        const codes: string[] = [];
        const attempt = async (call: () => Promise<unknown>) => {
          try {
            await call();
            codes.push('none');
          } catch (error) {
            codes.push((error as { code: string }).code);
          }
        };
        await attempt(() => ctx.sleep('soon'));
        await attempt(() => ctx.sleep(Number.NaN));
        await attempt(() => ctx.sleep(-1));
        await attempt(() => ctx.sleepUntil(Number.NaN));
        await attempt(() => ctx.sleepUntil(new Date('not a date')));
        await attempt(() => ctx.waitForEvent(''));
        await attempt(() => ctx.waitForEvent('e', { timeout: 'soon' }));
        await attempt(() => ctx.waitForEvent('e', { lookback: -5 }));
        await attempt(() => ctx.waitForEvent('e', { match: 5 as unknown as string }));
        await attempt(() => ctx.waitForInput(''));
        await attempt(() => ctx.waitForInput('i', { payload: () => 1 }));
        await attempt(() => ctx.waitForFirst({}));
        await attempt(() => ctx.waitForFirst({ odd: { nap: 5 } as never }));
        await attempt(() => ctx.waitForFirst({ a: { sleep: 10 }, b: { sleep: 'soon' } }));
        return codes;
      });
      const executor = open();
      const result = await executor.execute(wf, null);
      expect(result.output).toEqual([
        'invalid_duration',
        'invalid_duration',
        'invalid_duration',
        'invalid_wait',
        'invalid_wait',
        'invalid_wait',
        'invalid_duration',
        'invalid_duration',
        'invalid_wait',
        'invalid_wait',
        'not_serializable',
        'invalid_wait',
        'invalid_wait',
        'invalid_duration',
      ]);
      expect(await executor.waits(result.runId)).toEqual([]);
      expect((await eventsOf(executor, result.runId)).map((e) => e.type)).not.toContain('step_waiting');
    });

    it('an uncaught bad sleep fails its step with that error; bad wait options in a definition are refused when defined', async () => {
      const wf = workflow('bad-sleep').step('s', (ctx) => ctx.sleep('soon'));
      const executor = open();
      const result = await executor.execute(wf, null);
      expect(result.status).toBe('failed');
      expect(result.error?.message).toContain('"soon"');
      expect(result.context.nodeResults.s?.error?.code).toBe('invalid_duration');
      expect(() => workflow('bad-delay').step('s', { delay: 'soon' }, () => 1)).toThrow(InvalidWorkflowError);
      expect(() => workflow('bad-delay').step('s', { delay: -1 }, () => 1)).toThrow(InvalidWorkflowError);
      expect(() => workflow('bad-trigger', { on: { event: '' } })).toThrow(InvalidWorkflowError);
    });
  });
});
