/**
 * The wake-up scan (src/engine/wakeups.ts): runs asleep in the store are read in batches past a
 * keyset cursor, and woken each once, also when a run's wake-up time moves behind the cursor while
 * a pass goes on.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock, MemoryStore, type RunRecord, type RunUpdate, type Store, workflow } from '../../src/index.js';
import type { WakeCursor } from '../../src/store/store.js';
import { emptyBatch } from '../../src/store/types.js';
import { sleep, useEngineFixture, waitUntil } from './helpers.js';

/** More than one batch of the scan (WAKE_BATCH is 500), so the second read goes past a cursor. */
const DUE_AT_ONCE = 600;
const START = Date.UTC(2026, 0, 1);

/** Moves the clock on by 100 ms every few real ms, one step after the other, until stopped. */
function tick(clock: ManualClock): { stop(): Promise<void> } {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await clock.advance(100);
      await sleep(5);
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

function updateOf(run: RunRecord): RunUpdate {
  const { id, status, output, error, startedAt, finishedAt, deadlineAt, globals, checkpointSeq, wakeAt, pausedAt } =
    run;
  return { id, status, output, error, startedAt, finishedAt, deadlineAt, globals, checkpointSeq, wakeAt, pausedAt };
}

describe.each(['memory', 'sqlite'] as const)('the wake-up scan on the %s store', (kind) => {
  const fx = useEngineFixture();

  it('wakes runs due at once batch after batch, each once, and a run moved behind the cursor meanwhile in the next pass', async () => {
    const store: Store = kind === 'memory' ? new MemoryStore() : fx.sqliteStore(fx.sqlitePath());
    // On a ManualClock: however slowly this machine starts the runs, none is due before all sleep.
    const clock = new ManualClock(START);
    /** How often each run went on past its sleep, by index. */
    const woke = new Map<number, number>();
    const sleeper = workflow('batch-sleeper', { timeoutSeconds: 0 }).step('nap', async (ctx) => {
      const { i, at } = ctx.input as { i: number; at: number };
      await ctx.sleepUntil(at);
      woke.set(i, (woke.get(i) ?? 0) + 1);
      return i;
    });
    const executor = fx.executor({ store, clock, workflows: [sleeper], maxParallelNodes: 1000 });
    const dueAt = START + 60_000;
    const handles = [];
    for (let i = 0; i < DUE_AT_ONCE; i++) handles.push(await executor.start(sleeper, { i, at: dueAt }));
    const laterAt = START + 3_600_000;
    const moved = await executor.start(sleeper, { i: -1, at: laterAt });
    // Every run has left memory: each is a row with its wake-up time.
    await waitUntil(
      async () => (await store.listRunsToWake(dueAt, 2 * DUE_AT_ONCE, ['batch-sleeper'])).length === DUE_AT_ONCE,
    );
    await waitUntil(async () => (await store.getRun(moved.runId))?.wakeAt === laterAt);

    // The first read past a cursor moves the later run's wake-up behind that cursor, as an event
    // that settles its wait would (to now) if loading it at once failed.
    const reads: Array<{ after: WakeCursor | undefined; ids: string[] }> = [];
    const read = store.listRunsToWake.bind(store);
    store.listRunsToWake = async (now, limit, workflows, after) => {
      if (after && !reads.some((r) => r.after)) {
        const rec = (await store.getRun(moved.runId)) as RunRecord;
        await store.commit({ ...emptyBatch(), runUpdates: [{ ...updateOf(rec), wakeAt: after.wakeAt - 1 }] });
      }
      const due = await read(now, limit, workflows, after);
      reads.push({ after, ids: due.map((r) => r.id) });
      return due;
    };

    await clock.advanceTo(dueAt);
    // Later passes are armed MIN_SCAN_INTERVAL_MS after a pass ends: the clock moves on meanwhile.
    const ticker = tick(clock);
    try {
      const outputs = await Promise.all(handles.map(async (h) => (await h.result()).output));
      expect(outputs).toEqual(handles.map((_, i) => i));
      for (let i = 0; i < DUE_AT_ONCE; i++) expect(woke.get(i)).toBe(1);
      // The batches went on past a cursor: no run was read twice in a pass.
      const nextPass = reads.findIndex((r, j) => j > 0 && !r.after);
      const firstPass = nextPass === -1 ? reads : reads.slice(0, nextPass);
      const readInFirstPass = firstPass.flatMap((r) => r.ids);
      expect(new Set(readInFirstPass).size).toBe(readInFirstPass.length);
      expect(firstPass.filter((r) => r.after).length).toBeGreaterThan(0);

      // The moved run was behind the cursor: the next pass, from the beginning, loaded it (its sleep
      // is not over: it went back to its row with the sleep's deadline), and it did not go on.
      await waitUntil(async () => reads.some((r) => r.ids.includes(moved.runId)));
    } finally {
      await ticker.stop();
    }
    await waitUntil(async () => (await store.getRun(moved.runId))?.wakeAt === laterAt);
    const readIt = reads.find((r) => r.ids.includes(moved.runId));
    expect(readIt).toBeDefined();
    expect(readIt?.after).toBeUndefined();
    expect(woke.has(-1)).toBe(false);
  });

  it('a sleeper woken from the store writes its wake and its end in one commit: its run, step and wait once each, four events', async () => {
    const store: Store = kind === 'memory' ? new MemoryStore() : fx.sqliteStore(fx.sqlitePath());
    const clock = new ManualClock(START);
    const sleeper = workflow('one-commit-sleeper', { timeoutSeconds: 0 }).step('nap', async (ctx) => {
      await ctx.sleepUntil((ctx.input as { at: number }).at);
      return 'rested';
    });
    const executor = fx.executor({ store, clock, workflows: [sleeper], maxParallelNodes: 1000 });
    const dueAt = START + 60_000;
    const handles = [];
    for (let i = 0; i < 20; i++) handles.push(await executor.start(sleeper, { at: dueAt }));
    await waitUntil(async () => (await store.listRunsToWake(dueAt, 100, ['one-commit-sleeper'])).length === 20);

    /** From the deadline on, per run: what each commit wrote of it. */
    const writes = new Map<string, Array<{ runs: number; steps: number; waits: number; events: string[] }>>();
    const commit = store.commit.bind(store);
    store.commit = async (batch) => {
      const ids = new Set(
        [...batch.runUpdates, ...batch.steps, ...(batch.waits ?? []), ...batch.events].map((r) =>
          'runId' in r ? r.runId : r.id,
        ),
      );
      for (const id of ids) {
        const list = writes.get(id) ?? [];
        list.push({
          runs: batch.runUpdates.filter((r) => r.id === id).length,
          steps: batch.steps.filter((s) => s.runId === id).length,
          waits: (batch.waits ?? []).filter((w) => w.runId === id).length,
          events: batch.events.filter((e) => e.runId === id).map((e) => e.type),
        });
        writes.set(id, list);
      }
      return commit(batch);
    };
    await clock.advanceTo(dueAt);
    for (const h of handles) expect((await h.result()).output).toBe('rested');
    expect(writes.size).toBe(20);
    for (const h of handles) {
      expect(writes.get(h.runId)).toEqual([
        { runs: 1, steps: 1, waits: 1, events: ['step_woken', 'run_woken', 'step_succeeded', 'run_succeeded'] },
      ]);
    }
  });
});
