import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import {
  type CommitResult,
  ExecutorClosedError,
  MemoryStore,
  WorkflowExecutor,
  type WriteBatch,
  workflow,
} from '../../src/index.js';
import { deferred, untilAborted, useEngineFixture, waitUntil } from './helpers.js';

describe('executor lifecycle', () => {
  const fx = useEngineFixture();

  it('refuses new runs after cleanup with ExecutorClosedError', async () => {
    const executor = fx.executor();
    await executor.execute(
      workflow('before-close').step('s', () => 1),
      null,
    );
    await executor.cleanup();
    await expect(
      executor.execute(
        workflow('after-close').step('s', () => 1),
        null,
      ),
    ).rejects.toBeInstanceOf(ExecutorClosedError);
  });

  it('refuses new runs on an executor cleaned up before first use', async () => {
    const executor = new WorkflowExecutor({ store: new MemoryStore() });
    await executor.cleanup();
    await expect(
      executor.start(
        workflow('never-opened').step('s', () => 1),
        null,
      ),
    ).rejects.toBeInstanceOf(ExecutorClosedError);
  });

  it("aborts running steps' signals with ExecutorClosedError on cleanup", async () => {
    const started = deferred<AbortSignal>();
    const executor = fx.executor();
    await executor.start(
      workflow('abort-on-close').step('s', (ctx) => {
        started.resolve(ctx.signal);
        return untilAborted(ctx.signal);
      }),
      null,
    );
    const signal = await started.promise;
    await executor.cleanup();
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(ExecutorClosedError);
  });

  it('settles a pending execute() on cleanup instead of leaving it hanging', async () => {
    const started = deferred();
    const executor = fx.executor();
    const executing = executor.execute(
      workflow('pending-at-close').step('s', (ctx) => {
        started.resolve();
        return untilAborted(ctx.signal);
      }),
      null,
    );
    await started.promise;
    await executor.cleanup();
    const result = await executing;

    expect(result.success).toBe(false);
    expect(result.error?.code).toBe('executor_closed');
  });

  it('leaves the store open when the caller passed it in', async () => {
    const store = new MemoryStore();
    const executor = fx.executor({ store });
    const result = await executor.execute(
      workflow('store-kept').step('s', () => 'kept'),
      null,
    );
    await executor.cleanup();
    expect((await store.getRun(result.runId))?.status).toBe('succeeded');
  });

  it('cleans up twice without error', async () => {
    const executor = fx.executor();
    await executor.open();
    await executor.cleanup();
    await expect(executor.cleanup()).resolves.toBeUndefined();
  });
});

/** A MemoryStore whose commits fail while `failing` is set, with an error the store calls permanent. */
class FailingStore extends MemoryStore {
  failing = false;
  override async commit(batch: WriteBatch): Promise<CommitResult> {
    if (this.failing) throw new Error('disk full');
    return super.commit(batch);
  }
}

/**
 * A MemoryStore that refuses, as bad data, any batch holding a step output that contains "POISON",
 * and fails the next `busyCommits` commits with SQLITE_BUSY, which it calls transient.
 */
class PickyStore extends MemoryStore {
  busyCommits = 0;
  commits = 0;
  override async commit(batch: WriteBatch): Promise<CommitResult> {
    this.commits++;
    if (this.busyCommits > 0) {
      this.busyCommits--;
      throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    }
    if (batch.steps.some((s) => s.output?.includes('POISON'))) throw new Error('value too long for type');
    return super.commit(batch);
  }
  isTransientError(error: unknown): boolean {
    return (error as { code?: string }).code === 'SQLITE_BUSY';
  }
}

describe('a store commit that fails', () => {
  const fx = useEngineFixture();
  let errorLog: MockInstance;

  beforeEach(() => {
    errorLog = vi.spyOn(console, 'error').mockImplementation(() => {});
  });
  afterEach(() => {
    errorLog.mockRestore();
  });

  it('rejects start() with the store error instead of hanging, and leaves no run behind', async () => {
    const store = new FailingStore();
    const executor = fx.executor({ store });
    const wf = workflow('not-durable').step('s', () => 1);
    await executor.open();
    store.failing = true;
    await expect(executor.start(wf, null)).rejects.toThrow('disk full');
    await expect(executor.execute(wf, null)).rejects.toThrow('disk full');
    store.failing = false;
    expect((await store.listRuns({})).runs).toEqual([]);
    expect((await executor.execute(wf, null)).success).toBe(true);
  });

  it('retries a commit that fails for a passing reason (SQLITE_BUSY) until it lands: every run finishes', async () => {
    const store = new PickyStore();
    const executor = fx.executor({ store });
    const wf = workflow('busy').step('s', async (ctx) => `done ${ctx.input}`);
    await executor.open();
    const handles = await Promise.all(Array.from({ length: 20 }, (_, i) => executor.start(wf, i)));
    store.busyCommits = 5;
    const results = await Promise.all(handles.map((h) => h.result()));
    expect(results.map((r) => r.output)).toEqual(Array.from({ length: 20 }, (_, i) => `done ${i}`));
    expect(store.busyCommits).toBe(0);
    for (const h of handles) expect((await store.getRun(h.runId))?.status).toBe('succeeded');
  });

  it('fails only the run whose data the store refuses; the other runs of the same batch go on', async () => {
    const store = new PickyStore();
    const executor = fx.executor({ store });
    const wf = workflow('picky').step('s', async (ctx) => (ctx.input === 7 ? 'POISON' : `fine ${ctx.input}`));
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => executor.execute(wf, i)));

    const poisoned = results[7]!;
    expect(poisoned.success).toBe(false);
    expect(poisoned.error?.code).toBe('store_commit_failed');
    expect(poisoned.error?.message).toContain('value too long for type');
    for (const [i, r] of results.entries()) if (i !== 7) expect(r.output).toBe(`fine ${i}`);
    // The refused run is recorded as failed, not left "running" in the store.
    await waitUntil(async () => (await store.getRun(poisoned.runId))?.status === 'failed');
    expect(JSON.parse((await store.getRun(poisoned.runId))?.error ?? '{}').code).toBe('store_commit_failed');
  });
});
