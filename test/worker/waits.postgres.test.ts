import { describe, expect, it, vi } from 'vitest';
import { PostgresStore, workflow } from '../../src/index.js';
import { postgresWorkers } from '../support/postgresWorkers.js';

// The safety poll is left at its 5 s default: what these tests see on time came from a
// notification or the wake-up timer, not from the backstop.
const WORKER = { leaseMs: 3_000, heartbeatMs: 500, shutdownGraceMs: 2_000 };

const { executor, sql } = postgresWorkers(WORKER, { poolSize: 4 });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(20);
  }
}

interface RunRow {
  owner_id: string | null;
  status: string;
  wake_at: string | null;
}

async function runRow(runId: string): Promise<RunRow> {
  const [row] = await sql<RunRow>('SELECT owner_id, status, wake_at FROM braid.runs WHERE id = $1', [runId]);
  if (!row) throw new Error(`no run ${runId}`);
  return row;
}

async function stepSucceeded(runId: string, step: string): Promise<void> {
  await until(`step ${step} of run ${runId} succeeded`, async () => {
    const rows = await sql('SELECT 1 FROM braid.steps WHERE run_id = $1 AND name = $2 AND status = $3', [
      runId,
      step,
      'succeeded',
    ]);
    return rows.length > 0;
  });
}

/** Resolves once the run's wait of this kind is pending in the database. */
async function waitRegistered(runId: string, kind: string): Promise<void> {
  await until(`run ${runId} waits (${kind})`, async () => {
    const rows = await sql('SELECT 1 FROM braid.waits WHERE run_id = $1 AND kind = $2 AND status = $3', [
      runId,
      kind,
      'pending',
    ]);
    return rows.length > 0;
  });
}

/** The step records where (which worker) and when it got past its wait. */
const orderFlow = (label: string) =>
  workflow('order-flow').step('paid', async (ctx) => {
    const order = (ctx.input as { order: string }).order;
    const paid = await ctx.waitForEvent<{ ref: string }>('order.paid', { match: order, timeout: '1h' });
    return { ref: paid?.ref ?? null, by: label, at: Date.now() };
  });

/**
 * A run kept in its owner's memory while it waits: a second step runs until the test lets it go,
 * so the run is never idle and never leaves its worker (what the event must reach is the owner).
 */
function residentFlow(label: string, release: Promise<void>) {
  return workflow('resident-flow')
    .step('paid', async (ctx) => {
      const order = (ctx.input as { order: string }).order;
      const paid = await ctx.waitForEvent<{ ref: string }>('order.paid', { match: order, timeout: '1h' });
      return { ref: paid?.ref ?? null, by: label, at: Date.now() };
    })
    .step('busy', async () => {
      await release;
      return 'done';
    });
}

function gate(): { promise: Promise<void>; open(): void } {
  let open = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe('durable waits across workers on PostgreSQL', { timeout: 20_000 }, () => {
  it('a wait on worker A is resolved at once by an event sent from a process with no worker (braid_waits)', async () => {
    const busy = gate();
    const a = executor({ workflows: [residentFlow('a', busy.promise)] });
    await a.open();
    const client = executor({ worker: false });
    await client.open();
    const run = await a.start(residentFlow('a', busy.promise), { order: 'o-1' });
    await waitRegistered(run.runId, 'event');
    expect((await runRow(run.runId)).owner_id).toBe(a.workerId);

    const sentAt = Date.now();
    const sent = await client.sendEvent('order.paid', { ref: 'PAY-1' }, { key: 'o-1' });
    expect(sent.delivered).toBe(1);
    await stepSucceeded(run.runId, 'paid');
    busy.open();
    const result = await run.result();
    const output = (result.output as unknown as { paid: { ref: string; by: string; at: number } }).paid;
    expect(output).toMatchObject({ ref: 'PAY-1', by: 'a' });
    // Heard on braid_waits by its owner, which held the run all along.
    expect(output.at - sentAt).toBeLessThan(500);
    const events = await sql<{ type: string }>(
      `SELECT type FROM braid.events WHERE run_id = $1 AND type IN ('step_waiting', 'step_woken') ORDER BY seq`,
      [run.runId],
    );
    expect(events.map((e) => e.type)).toEqual(['step_waiting', 'step_woken']);
  });

  it('a wait on worker A is resolved by an event sent from worker B, and B never runs the step', async () => {
    const busy = gate();
    const a = executor({ workflows: [residentFlow('a', busy.promise)] });
    const b = executor({ workflows: [residentFlow('b', busy.promise)] });
    await Promise.all([a.open(), b.open()]);
    const run = await a.start(residentFlow('a', busy.promise), { order: 'o-2' });
    await waitRegistered(run.runId, 'event');
    const sentAt = Date.now();
    await b.sendEvent('order.paid', { ref: 'PAY-2' }, { key: 'o-2' });
    await stepSucceeded(run.runId, 'paid');
    busy.open();
    const output = ((await run.result()).output as unknown as { paid: { ref: string; by: string; at: number } }).paid;
    expect(output).toMatchObject({ ref: 'PAY-2', by: 'a' });
    expect(output.at - sentAt).toBeLessThan(500);
  });

  it('an event sent before the waiter registers is delivered to a run on another worker', async () => {
    const first = gate();
    // The look-back counts events since the run was created: this one comes while step `first` runs.
    const lateWaiter = (label: string) =>
      workflow('late-waiter')
        .step('first', async () => {
          await first.promise;
          return 'ok';
        })
        .step('paid', { parents: ['first'] }, async (ctx) => {
          const paid = await ctx.waitForEvent<{ ref: string }>('order.paid', { match: 'o-3', timeout: '1h' });
          return { ref: paid?.ref ?? null, by: label };
        });
    const a = executor({ workflows: [lateWaiter('a')] });
    await a.open();
    const client = executor({ worker: false });
    await client.open();
    const run = await client.start(lateWaiter('client'), {});
    await until('step first runs on A', async () => {
      const rows = await sql('SELECT 1 FROM braid.steps WHERE run_id = $1 AND name = $2 AND status = $3', [
        run.runId,
        'first',
        'running',
      ]);
      return rows.length > 0;
    });
    const sent = await client.sendEvent('order.paid', { ref: 'EARLY' }, { key: 'o-3' });
    expect(sent.delivered).toBe(0);
    first.open();
    const result = await run.result();
    expect(result.output).toEqual({ ref: 'EARLY', by: 'a' });
  });

  it('an input answered from another worker resumes the step on its owner', async () => {
    const busy = gate();
    const approval = (label: string) =>
      workflow('approval')
        .step('ask', async (ctx) => {
          const value = await ctx.waitForInput('decision', { payload: { q: 'ok?' }, timeout: '1h' });
          return { value, by: label };
        })
        .step('busy', async () => {
          await busy.promise;
          return 'done';
        });
    const a = executor({ workflows: [approval('a')] });
    const b = executor({ workflows: [approval('b')] });
    await Promise.all([a.open(), b.open()]);
    const run = await a.start(approval('a'), {});
    await waitRegistered(run.runId, 'input');
    const given = await b.provideInput(run.runId, 'decision', { ok: true });
    expect(given.key).toBe('input:decision#0');
    await stepSucceeded(run.runId, 'ask');
    // Answered once: a second value finds nothing pending.
    await expect(b.provideInput(run.runId, 'decision', { ok: false })).rejects.toMatchObject({
      code: 'input_not_awaited',
    });
    busy.open();
    expect(((await run.result()).output as unknown as { ask: unknown }).ask).toEqual({ value: { ok: true }, by: 'a' });
  });

  it('an input answered while its run sleeps out of memory wakes it on a worker', async () => {
    const approval = (label: string) =>
      workflow('approval-asleep').step('ask', async (ctx) => {
        const value = await ctx.waitForInput('decision', { timeout: '1h' });
        return { value, by: label };
      });
    const a = executor({ workflows: [approval('a')] });
    await a.open();
    const client = executor({ worker: false });
    await client.open();
    const run = await client.start(approval('client'), {});
    await waitRegistered(run.runId, 'input');
    await until('the run is handed back', async () => (await runRow(run.runId)).owner_id === null, 5_000);
    await client.provideInput(run.runId, 'decision', { ok: 1 });
    expect((await run.result()).output).toEqual({ value: { ok: 1 }, by: 'a' });
  });

  it('a run that only waits for an event leaves its worker, and the event wakes it on a worker', async () => {
    const a = executor({ workflows: [orderFlow('a')] });
    await a.open();
    const client = executor({ worker: false });
    await client.open();
    const run = await client.start(orderFlow('client'), { order: 'o-4' });
    await waitRegistered(run.runId, 'event');
    await until('the run is handed back', async () => (await runRow(run.runId)).owner_id === null, 5_000);
    const row = await runRow(run.runId);
    expect(row.status).toBe('waiting');
    expect(row.wake_at).not.toBeNull();
    const sentAt = Date.now();
    await client.sendEvent('order.paid', { ref: 'LATE' }, { key: 'o-4' });
    const output = (await run.result()).output as unknown as { ref: string; at: number };
    expect(output.ref).toBe('LATE');
    expect(output.at - sentAt).toBeLessThan(1_000);
  });

  it('a step woken out of memory spawns and joins from the child links its claim read, with no read of its own', async () => {
    let childRuns = 0;
    const child = workflow('links-child').step('only', async () => {
      childRuns++;
      return 'child-done';
    });
    const parent = workflow('links-parent').step('spawnThenWait', async (ctx) => {
      const [value] = await ctx.join([ctx.spawnWorkflow(child, {}, { key: 'only-child' })]);
      const paid = await ctx.waitForEvent<{ ref: string }>('order.paid', { match: 'o-links' });
      return { value, ref: paid?.ref ?? null };
    });
    const a = executor({ workflows: [parent, child] });
    await a.open();
    const client = executor({ worker: false });
    await client.open();
    const run = await client.start(parent, {});
    await waitRegistered(run.runId, 'event');
    await until('the run is handed back', async () => (await runRow(run.runId)).owner_id === null, 5_000);
    const linkReads = vi.spyOn(PostgresStore.prototype, 'getChildLinks');
    try {
      await client.sendEvent('order.paid', { ref: 'PAID' }, { key: 'o-links' });
      const output = (await run.result()).output as unknown as { value: string; ref: string };
      // Run again from its start, the step found its child, finished, in the links its claim read.
      expect(output).toEqual({ value: 'child-done', ref: 'PAID' });
      expect(childRuns).toBe(1);
      expect(linkReads).not.toHaveBeenCalled();
    } finally {
      linkReads.mockRestore();
    }
  });

  it('a run asleep out of its worker is cancelled from a process with no worker, and its wait with it', async () => {
    const a = executor({ workflows: [orderFlow('a')] });
    await a.open();
    const client = executor({ worker: false });
    await client.open();
    const run = await client.start(orderFlow('client'), { order: 'o-5' });
    await waitRegistered(run.runId, 'event');
    await until('the run is handed back', async () => (await runRow(run.runId)).owner_id === null, 5_000);
    const cancelled = await client.cancel(run.runId, 'no longer needed');
    expect(cancelled.cancelled).toBe(true);
    expect((await runRow(run.runId)).status).toBe('cancelled');
    const waits = await sql<{ status: string }>('SELECT status FROM braid.waits WHERE run_id = $1', [run.runId]);
    expect(waits).toEqual([{ status: 'cancelled' }]);
    // The event that comes later finds nobody waiting.
    expect((await client.sendEvent('order.paid', { ref: 'TOO-LATE' }, { key: 'o-5' })).delivered).toBe(0);
  });

  it('a run asleep out of its worker pauses and resumes from any process, and its event still reaches it', async () => {
    const a = executor({ workflows: [orderFlow('a')] });
    await a.open();
    const client = executor({ worker: false });
    await client.open();
    const run = await client.start(orderFlow('client'), { order: 'o-6' });
    await waitRegistered(run.runId, 'event');
    await until('the run is handed back', async () => (await runRow(run.runId)).owner_id === null, 5_000);
    const paused = await client.pause(run.runId);
    expect(paused.paused).toBe(true);
    expect((await runRow(run.runId)).status).toBe('paused');
    await client.resume(run.runId);
    await until('the run waits again', async () => (await runRow(run.runId)).status === 'waiting', 5_000);
    await client.sendEvent('order.paid', { ref: 'AFTER-RESUME' }, { key: 'o-6' });
    expect(((await run.result()).output as { ref: string }).ref).toBe('AFTER-RESUME');
  });

  it('a run sleeping 2 s is handed back (owner NULL, waiting) and woken on time by a worker, without the poll', async () => {
    const napper = workflow('napper').step('nap', async (ctx) => {
      const before = Date.now();
      await ctx.sleep('2s', { name: 'nap' });
      return { before, after: Date.now() };
    });
    const a = executor({ workflows: [napper] });
    const b = executor({ workflows: [napper] });
    await Promise.all([a.open(), b.open()]);
    const client = executor({ worker: false });
    await client.open();
    const run = await client.start(napper, {});
    await waitRegistered(run.runId, 'sleep');
    const [wait] = await sql<{ due_at: string }>('SELECT due_at FROM braid.waits WHERE run_id = $1', [run.runId]);
    const dueAt = Number(wait?.due_at);
    await until('the run is handed back', async () => (await runRow(run.runId)).owner_id === null, 1_800);
    const row = await runRow(run.runId);
    expect(row.status).toBe('waiting');
    expect(Number(row.wake_at)).toBe(dueAt);

    const result = await run.result();
    expect(result.status).toBe('succeeded');
    const { after } = result.output as { before: number; after: number };
    expect(after).toBeGreaterThanOrEqual(dueAt);
    expect(after - dueAt).toBeLessThan(1_000);
    // The sleep was slept once: one sleep wait, resolved; no run owned by anyone at the end.
    const waits = await sql<{ status: string }>('SELECT status FROM braid.waits WHERE run_id = $1', [run.runId]);
    expect(waits).toEqual([{ status: 'resolved' }]);
  });
});
