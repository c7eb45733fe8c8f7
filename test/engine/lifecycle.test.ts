import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import {
  type CommitResult,
  ExecutorClosedError,
  MemoryStore,
  WorkflowExecutor,
  type WriteBatch,
  workflow,
} from '../../src/index.js';
import { deferred, untilAborted, useEngineFixture } from './helpers.js';

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

/** A MemoryStore whose commits fail while `failing` is set, like a full disk. */
class FailingStore extends MemoryStore {
  failing = false;
  override async commit(batch: WriteBatch): Promise<CommitResult> {
    if (this.failing) throw new Error('disk full');
    return super.commit(batch);
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
    await executor.open();
    store.failing = true;
    await expect(
      executor.start(
        workflow('not-durable').step('s', () => 1),
        null,
      ),
    ).rejects.toThrow('disk full');
    await expect(
      executor.execute(
        workflow('not-durable').step('s', () => 1),
        null,
      ),
    ).rejects.toThrow('disk full');
    store.failing = false;
    expect((await store.listRuns({})).runs).toEqual([]);
    expect(
      (
        await executor.execute(
          workflow('not-durable').step('s', () => 1),
          null,
        )
      ).success,
    ).toBe(true);
  });

  it('settles the callers of a run whose later commit fails', async () => {
    const store = new FailingStore();
    const executor = fx.executor({ store });
    const wf = workflow('fails-mid-run').step('s', async () => {
      store.failing = true;
      return 1;
    });
    const result = await executor.execute(wf, null);
    store.failing = false;
    expect(result.success).toBe(false);
    expect(result.error?.message).toBe('disk full');
    expect((await store.getRun(result.runId))?.status).toBe('running');
  });
});
