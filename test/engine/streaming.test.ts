import { describe, expect, it, vi } from 'vitest';
import {
  InvalidConfigError,
  InvalidStreamNameError,
  NotSerializableError,
  RunNotFoundError,
  SqliteStore,
  StepNotFoundError,
  type StreamChunkView,
  type StreamLimitError,
  workflow,
} from '../../src/index.js';
import { deferred, useEngineFixture } from './helpers.js';

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe('ctx.emit: durable step output streams', () => {
  const fx = useEngineFixture();

  it('stores what a step emits, in order, on the default and on named streams', async () => {
    const executor = fx.executor();
    const wf = workflow('emits').step('s', async (ctx) => {
      ctx.emit('hello ');
      ctx.emit('world');
      await ctx.emit('log', { level: 'info', line: 'done' });
      return 'ok';
    });
    const result = await executor.execute(wf, {});
    expect(result.success).toBe(true);
    const runId = result.context.runId;
    const text = await collect(executor.stream(runId, { step: 's' }));
    expect(text.map((c) => c.data)).toEqual(['hello ', 'world']);
    expect(text.every((c) => c.attempt === 1 && c.step === 's' && c.stream === 'default')).toBe(true);
    expect(text[1]!.seq).toBeGreaterThan(text[0]!.seq);
    const log = await collect(executor.stream(runId, { step: 's', name: 'log' }));
    expect(log.map((c) => c.data)).toEqual([{ level: 'info', line: 'done' }]);
    const all = await collect(executor.stream(runId, { step: 's', name: '*' }));
    expect(all.map((c) => c.stream)).toEqual(['default', 'default', 'log']);
  });

  it('rides the group commit: a burst of 2,000 emits is a few commits, and each emit resolves once durable', async () => {
    const store = fx.sqliteStore(fx.sqlitePath());
    const commit = vi.spyOn(store, 'commit');
    const executor = fx.executor({ store });
    let allDurable = false;
    const wf = workflow('burst').step('s', async (ctx) => {
      const emits = Array.from({ length: 2_000 }, (_, i) => ctx.emit(`token ${i}`));
      await Promise.all(emits);
      // Resolved only once committed: the store has them all before the step goes on.
      allDurable = (await store.listChunks({ runId: ctx.runId, step: 's', limit: 10_000 })).length === 2_000;
      return null;
    });
    const before = commit.mock.calls.length;
    const result = await executor.execute(wf, {});
    expect(result.success).toBe(true);
    expect(allDurable).toBe(true);
    const withChunks = commit.mock.calls.slice(before).filter(([batch]) => batch.chunks?.length);
    expect(withChunks.length).toBeLessThanOrEqual(3);
  });

  it('a workflow that never emits writes no chunk and commits batches without a chunks part', async () => {
    const store = fx.sqliteStore(fx.sqlitePath());
    const commit = vi.spyOn(store, 'commit');
    const executor = fx.executor({ store });
    await executor.execute(
      workflow('quiet').step('s', () => 1),
      {},
    );
    expect(commit.mock.calls.every(([batch]) => batch.chunks === undefined)).toBe(true);
  });

  it("keeps a retried attempt's chunks apart: readers see every attempt by default, or only the final one", async () => {
    const executor = fx.executor();
    const wf = workflow('retried').step('s', { retries: 2, backoff: { initialMs: 1, jitter: 0 } }, async (ctx) => {
      await ctx.emit(`attempt ${ctx.attempt} begins`);
      if (ctx.attempt < 3) throw new Error(`attempt ${ctx.attempt} fails`);
      await ctx.emit('the answer');
      return 42;
    });
    const result = await executor.execute(wf, {});
    expect(result.success).toBe(true);
    const runId = result.context.runId;
    const all = await collect(executor.stream(runId, { step: 's' }));
    expect(all.map((c) => [c.attempt, c.data])).toEqual([
      [1, 'attempt 1 begins'],
      [2, 'attempt 2 begins'],
      [3, 'attempt 3 begins'],
      [3, 'the answer'],
    ]);
    const final = await collect(executor.stream(runId, { step: 's', attempts: 'final' }));
    expect(final.map((c) => [c.attempt, c.data])).toEqual([
      [3, 'attempt 3 begins'],
      [3, 'the answer'],
    ]);
  });

  it('refuses a chunk that is not JSON at the call, with a typed error, and writes nothing', async () => {
    const executor = fx.executor();
    const seen: unknown[] = [];
    const wf = workflow('bad-chunk').step('s', async (ctx) => {
      for (const bad of [() => 1, 10n, { self: undefined as unknown }, Number.NaN]) {
        if (typeof bad === 'object' && bad) (bad as { self: unknown }).self = bad;
        try {
          ctx.emit(bad);
        } catch (error) {
          seen.push(error);
        }
      }
      return null;
    });
    const result = await executor.execute(wf, {});
    expect(result.success).toBe(true);
    expect(seen).toHaveLength(4);
    for (const error of seen) {
      expect(error).toBeInstanceOf(NotSerializableError);
      expect((error as NotSerializableError).code).toBe('not_serializable');
      expect((error as Error).message).toContain('stream "default" of step "s"');
    }
    expect(await executor.store.listChunks({ runId: result.context.runId })).toEqual([]);
  });

  it('refuses a stream name that is empty, "*", not a string or longer than 128 characters', async () => {
    const executor = fx.executor();
    const seen: unknown[] = [];
    const wf = workflow('bad-name').step('s', async (ctx) => {
      for (const name of ['', '*', 42, 'x'.repeat(129)]) {
        try {
          ctx.emit(name as string, 'chunk');
        } catch (error) {
          seen.push(error);
        }
      }
      await ctx.emit('x'.repeat(128), 'a name of 128 characters is fine');
      return null;
    });
    expect((await executor.execute(wf, {})).success).toBe(true);
    expect(seen.map((e) => (e as InvalidStreamNameError).code)).toEqual(Array(4).fill('invalid_stream_name'));
    expect(seen.every((e) => e instanceof InvalidStreamNameError)).toBe(true);
    expect((seen[3] as Error).message).toContain('129 characters long, over the limit of 128');
  });

  it('bounds a stream per attempt by chunks and by bytes, saying which bound and how to raise it', async () => {
    const executor = fx.executor({ streamMaxChunks: 3, streamMaxBytes: 20 });
    const errors: StreamLimitError[] = [];
    const wf = workflow('bounded').step('s', async (ctx) => {
      for (let i = 0; i < 3; i++) await ctx.emit('n', i);
      try {
        ctx.emit('n', 3);
      } catch (error) {
        errors.push(error as StreamLimitError);
      }
      await ctx.emit('b', 'x'.repeat(10)); // 12 bytes of JSON
      try {
        ctx.emit('b', 'y'.repeat(10));
      } catch (error) {
        errors.push(error as StreamLimitError);
      }
      await ctx.emit('other', 'own bound');
      return null;
    });
    const result = await executor.execute(wf, {});
    expect(result.success).toBe(true);
    expect(errors.map((e) => [e.code, e.bound, e.limit])).toEqual([
      ['stream_limit_exceeded', 'streamMaxChunks', 3],
      ['stream_limit_exceeded', 'streamMaxBytes', 20],
    ]);
    expect(errors[0]!.message).toContain('raise `streamMaxChunks` in the ExecutionConfig');
    expect(errors[1]!.message).toContain('raise `streamMaxBytes`');
    const chunks = await executor.store.listChunks({ runId: result.context.runId });
    expect(chunks.map((c) => c.data)).toEqual(['0', '1', '2', '"xxxxxxxxxx"', '"own bound"']);
  });

  it('refuses bounds that are not whole numbers >= 1', () => {
    expect(() => fx.executor({ streamMaxChunks: 0 })).toThrow(InvalidConfigError);
    expect(() => fx.executor({ streamMaxBytes: 1.5 })).toThrow(/streamMaxBytes/);
  });

  it('follows a running step live and completes when it ends', async () => {
    const executor = fx.executor();
    const gates = [deferred(), deferred()];
    const wf = workflow('live')
      .step('s', async (ctx) => {
        await ctx.emit('one');
        await gates[0]!.promise;
        await ctx.emit('two');
        await gates[1]!.promise;
        return null;
      })
      .step('after', { parents: ['s'] }, async (ctx) => {
        await ctx.emit('from another step');
        return null;
      });
    const handle = await executor.start(wf, {});
    const seen: StreamChunkView[] = [];
    const reading = (async () => {
      for await (const chunk of executor.stream(handle.runId, { step: 's' })) {
        seen.push(chunk);
        if (chunk.data === 'one') gates[0]!.resolve();
        if (chunk.data === 'two') gates[1]!.resolve();
      }
    })();
    await reading;
    expect(seen.map((c) => c.data)).toEqual(['one', 'two']);
    // The run handle's stream reads every step's, until the run ends.
    const wholeRun = await collect(handle.stream());
    expect(wholeRun.map((c) => [c.step, c.data])).toEqual([
      ['s', 'one'],
      ['s', 'two'],
      ['after', 'from another step'],
    ]);
    expect((await handle.result()).success).toBe(true);
  });

  it('resumes after a seq', async () => {
    const executor = fx.executor();
    const wf = workflow('resume').step('s', async (ctx) => {
      for (let i = 0; i < 5; i++) ctx.emit(i);
      return null;
    });
    const { context } = await executor.execute(wf, {});
    const all = await collect(executor.stream(context.runId, { step: 's' }));
    const rest = await collect(executor.stream(context.runId, { step: 's', afterSeq: all[1]!.seq }));
    expect(rest.map((c) => c.data)).toEqual([2, 3, 4]);
  });

  it('a read of an unknown run or step fails with a typed error', async () => {
    const executor = fx.executor();
    const { context } = await executor.execute(
      workflow('one-step').step('s', () => 1),
      {},
    );
    await expect(collect(executor.stream('no-such-run'))).rejects.toBeInstanceOf(RunNotFoundError);
    await expect(collect(executor.stream(context.runId, { step: 'nope' }))).rejects.toBeInstanceOf(StepNotFoundError);
    await expect(collect(executor.stream(context.runId, { name: 'x'.repeat(200) }))).rejects.toBeInstanceOf(
      InvalidStreamNameError,
    );
  });

  it('survives a restart: chunks written before it are read after it, with the new attempt apart', async () => {
    const file = fx.sqlitePath();
    const started = deferred();
    const wf = workflow('restarted').step('s', async (ctx) => {
      await ctx.emit(`attempt ${ctx.attempt}`);
      if (ctx.attempt === 1) {
        started.resolve();
        await new Promise(() => {}); // the process "dies" here
      }
      return null;
    });
    const first = fx.executor({ store: new SqliteStore({ path: file }) });
    const handle = await first.start(wf, {});
    await started.promise;
    await first.cleanup();
    const second = fx.executor({ store: new SqliteStore({ path: file }), workflows: [wf] });
    await second.open();
    expect((await (await second.getHandle(handle.runId)).result()).success).toBe(true);
    const chunks = await collect(second.stream(handle.runId, { step: 's' }));
    expect(chunks.map((c) => [c.attempt, c.data])).toEqual([
      [1, 'attempt 1'],
      [2, 'attempt 2'],
    ]);
  });
});

describe('ctx.progress: ephemeral, latest value only', () => {
  const fx = useEngineFixture();

  it('keeps the latest value per step while the run lives, tells listeners, and stores nothing', async () => {
    const executor = fx.executor();
    const gate = deferred();
    const heard: unknown[] = [];
    executor.onProgress((u) => heard.push([u.step, u.value]));
    const commit = vi.spyOn(executor.store, 'commit');
    const wf = workflow('progress').step('s', async (ctx) => {
      ctx.progress({ done: 1, total: 3 });
      ctx.progress({ done: 2, total: 3 });
      await gate.promise;
      return null;
    });
    const handle = await executor.start(wf, {});
    await vi.waitFor(() => expect(heard).toHaveLength(2));
    expect(executor.progress(handle.runId)).toEqual({ s: { value: { done: 2, total: 3 }, at: expect.any(Number) } });
    expect(heard).toEqual([
      ['s', { done: 1, total: 3 }],
      ['s', { done: 2, total: 3 }],
    ]);
    expect(JSON.stringify(commit.mock.calls)).not.toContain('total');
    gate.resolve();
    await handle.result();
    expect(executor.progress(handle.runId)).toEqual({});
  });

  it('refuses a value that is not JSON with a typed error', async () => {
    const executor = fx.executor();
    let error: unknown;
    const wf = workflow('bad-progress').step('s', (ctx) => {
      try {
        ctx.progress(() => 1);
      } catch (e) {
        error = e;
      }
      return null;
    });
    await executor.execute(wf, {});
    expect(error).toBeInstanceOf(NotSerializableError);
    expect((error as Error).message).toContain('progress of step "s"');
  });
});
