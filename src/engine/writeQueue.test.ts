import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../store/memory/memoryStore.js';
import type { CommitResult } from '../store/store.js';
import type { EventRecord, RunRecord, WriteBatch } from '../store/types.js';
import { ManualClock } from '../testing/manualClock.js';
import { type Clock, systemClock } from './clock.js';
import { type CommitHandlers, type CommitPolicy, WriteQueue } from './writeQueue.js';

function run(id: string, root = id): RunRecord {
  return {
    id,
    workflow: 'wf',
    version: '1',
    status: 'running',
    input: '{}',
    output: null,
    error: null,
    globals: '{}',
    idempotencyKey: null,
    parentRunId: root === id ? null : root,
    parentStep: root === id ? null : 's',
    spawnKey: root === id ? null : id,
    rootRunId: root,
    concurrencyKey: null,
    replayOf: null,
    createdAt: 1,
    startedAt: 1,
    finishedAt: null,
    deadlineAt: null,
    checkpointSeq: 0,
    wakeAt: null,
    pausedAt: null,
    priority: 0,
  };
}

const event = (runId: string): EventRecord => ({
  runId,
  step: null,
  type: 'run_started',
  at: 1,
  attempt: null,
  data: null,
});

/** A MemoryStore that records each batch and can fail commits on demand. */
class ScriptedStore extends MemoryStore {
  batches: WriteBatch[] = [];
  /** Called before each commit: throw to fail it. */
  before: (batch: WriteBatch) => void = () => {};
  override async commit(batch: WriteBatch): Promise<CommitResult> {
    this.before(batch);
    this.batches.push(batch);
    return super.commit(batch);
  }
  isTransientError(error: unknown): boolean {
    return (error as { code?: string }).code === 'SQLITE_BUSY';
  }
}

function queueOn(
  store: ScriptedStore,
  failed: Array<{ error: unknown; batch: WriteBatch }> = [],
  clock: Clock = systemClock,
) {
  const handlers: CommitHandlers = { failed: (error, batch) => failed.push({ error, batch }), result: () => {} };
  const policy: CommitPolicy = {
    isTransient: (e) => store.isTransientError(e),
    giveUpAfterMs: Number.POSITIVE_INFINITY,
    groupOf: (id) => id,
  };
  return new WriteQueue(store, handlers, policy, clock);
}

describe('WriteQueue', () => {
  it('commits what one tick writes in one batch, and runs effects only after it', async () => {
    const store = new ScriptedStore();
    const queue = queueOn(store);
    const order: string[] = [];
    const a = run('a');
    queue.insertRun(a);
    a.status = 'succeeded';
    queue.updateRun(a); // an update of a run new in the batch is part of its insert
    queue.appendEvent(event('a'));
    queue.afterCommit(() => order.push(`effect after ${store.batches.length} commit(s)`));
    order.push('written');
    await queue.flushed();
    expect(order).toEqual(['written', 'effect after 1 commit(s)']);
    expect(store.batches).toHaveLength(1);
    expect(store.batches[0]?.newRuns).toHaveLength(1);
    expect(store.batches[0]?.runUpdates).toHaveLength(0);
    expect((await store.getRun('a'))?.status).toBe('succeeded');
  });

  it('commits batches one after another, in order, and tells listeners the events with their seq', async () => {
    const store = new ScriptedStore();
    const queue = queueOn(store);
    const heard: number[][] = [];
    queue.onCommitted((events) => heard.push(events.map((e) => e.seq as number)));
    queue.insertRun(run('a'));
    queue.appendEvent(event('a'));
    await new Promise((resolve) => setImmediate(resolve));
    queue.appendEvent(event('a'));
    queue.appendEvent(event('a'));
    await queue.flushed();
    expect(heard).toEqual([[1], [2, 3]]);
  });

  it('retries a commit that fails for a passing reason until it lands; later writes land with it, after its own', async () => {
    const store = new ScriptedStore();
    const failed: Array<{ error: unknown; batch: WriteBatch }> = [];
    const queue = queueOn(store, failed);
    let busy = 3;
    store.before = () => {
      if (busy-- > 0) throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    };
    const effects: string[] = [];
    queue.insertRun(run('first'));
    queue.afterCommit(() => effects.push('first'));
    await new Promise((resolve) => setImmediate(resolve));
    queue.insertRun(run('second'));
    queue.afterCommit(() => effects.push('second'));
    await queue.flushed();
    expect(failed).toEqual([]);
    expect(effects).toEqual(['first', 'second']);
    // The retry took the writes that queued behind it in: they land with it, after its own.
    expect(store.batches.map((b) => b.newRuns.map((r) => r.id))).toEqual([['first', 'second']]);
  });

  it('lands a record that changed while its commit was retried together with the events of the change', async () => {
    // Found by the simulation (seed 7): a step written as running succeeded while its batch waited
    // to be retried; the retry stored it as succeeded, its success event still pending behind it, and
    // a crash right then left a success the event log never recorded.
    const store = new ScriptedStore();
    const queue = queueOn(store);
    let busy = 1;
    store.before = () => {
      if (busy-- > 0) throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    };
    const a = run('a');
    queue.insertRun(a);
    queue.appendEvent(event('a'));
    await new Promise((resolve) => setImmediate(resolve)); // the first try fails
    a.status = 'succeeded';
    queue.updateRun(a);
    queue.appendEvent({ ...event('a'), type: 'run_succeeded' });
    await queue.flushed();
    const landed = store.batches[0] as WriteBatch;
    expect(landed.newRuns[0]?.status).toBe('succeeded');
    expect(landed.runUpdates).toEqual([]); // part of the insert
    expect(landed.events.map((e) => e.type)).toEqual(['run_started', 'run_succeeded']);
    expect((await store.listEvents({ runId: 'a' })).map((e) => e.type)).toEqual(['run_started', 'run_succeeded']);
  });

  it('splits a batch the store refuses for its data: only the guilty run tree fails, the rest lands', async () => {
    const store = new ScriptedStore();
    const failed: Array<{ error: unknown; batch: WriteBatch }> = [];
    const queue = queueOn(store, failed);
    store.before = (batch) => {
      if (batch.newRuns.some((r) => r.input === 'BAD')) throw new Error('bad row');
    };
    const bad = { ...run('bad-child', 'parent'), input: 'BAD' };
    const effects: string[] = [];
    queue.insertRun(run('parent'));
    queue.insertRun(bad);
    queue.insertRun(run('other'));
    queue.appendEvent(event('parent'));
    queue.appendEvent(event('other'));
    queue.afterCommit(() => effects.push('ran'));
    await queue.flushed();
    expect(failed).toHaveLength(1);
    expect(String(failed[0]?.error)).toBe('Error: bad row');
    expect(failed[0]?.batch.newRuns.map((r) => r.id).sort()).toEqual(['bad-child', 'parent']);
    expect(await store.getRun('other')).toBeDefined();
    expect(await store.getRun('parent')).toBeUndefined();
    expect(effects).toEqual(['ran']);
  });

  it('gives a transient failure up when told to (on close), reporting the batch', async () => {
    const store = new ScriptedStore();
    const failed: Array<{ error: unknown; batch: WriteBatch }> = [];
    const queue = queueOn(store, failed);
    store.before = () => {
      throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    };
    queue.insertRun(run('stuck'));
    const flushed = queue.flushed();
    await new Promise((resolve) => setTimeout(resolve, 30));
    queue.abandonRetries();
    await flushed;
    expect(failed.map((f) => f.batch.newRuns[0]?.id)).toEqual(['stuck']);
  });

  it('waits out a failed commit’s backoff on its clock: a virtual clock decides when it is tried again', async () => {
    const store = new ScriptedStore();
    const clock = new ManualClock(1_000_000);
    const queue = queueOn(store, [], clock);
    let failures = 2;
    store.before = () => {
      if (failures-- > 0) throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    };
    queue.insertRun(run('retried'));
    const flushed = queue.flushed();
    await clock.advance(0);
    expect(await store.getRun('retried')).toBeUndefined();
    expect(clock.pendingTimers).toBe(1); // the first backoff, armed on the virtual clock
    await new Promise((resolve) => setTimeout(resolve, 50)); // real time alone does not retry it
    expect(await store.getRun('retried')).toBeUndefined();
    await clock.advance(1_000);
    await flushed;
    expect(await store.getRun('retried')).toBeDefined();
    // The batch carries the engine's time, for the stores that stamp settled waits with it.
    expect(store.batches.at(-1)?.at).toBe(1_000_000);
  });
});
