import { describe, expect, it } from 'vitest';
import {
  type ChildHandle,
  DuplicateWorkflowError,
  IdempotencyConflictError,
  InvalidWorkflowError,
  type StepContext,
  workflow,
} from '../../src/index.js';
import { deferred, useEngineFixture } from './helpers.js';

describe('a second definition under a registered name', () => {
  const fx = useEngineFixture();

  it('is refused with an error naming both, instead of running the first one’s code', async () => {
    const first = workflow('dup').step('a', () => 'first');
    const second = workflow('dup')
      .step('a', () => 'second')
      .step('b', { parents: ['a'] }, () => 'extra');
    const executor = fx.executor({ workflows: [first] });
    let error: unknown;
    try {
      executor.register(second);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DuplicateWorkflowError);
    expect((error as Error).message).toContain('steps a, b, where the registered one has a');
    await expect(executor.execute(second, null)).rejects.toBeInstanceOf(DuplicateWorkflowError);
    expect((await executor.execute(first, null)).output).toBe('first');
  });

  it('refuses the same steps with other code', () => {
    const executor = fx.executor({ workflows: [workflow('same-shape').step('a', () => 1)] });
    expect(() => executor.register(workflow('same-shape').step('a', () => 2))).toThrow(/other code or options/);
  });

  it('accepts the same definition built twice (a factory, a module loaded twice)', async () => {
    const make = () => workflow('factory').step('a', (ctx) => `got ${ctx.input}`);
    const executor = fx.executor({ workflows: [make()] });
    expect(() => executor.register(make())).not.toThrow();
    expect((await executor.execute(make(), 'x')).output).toBe('got x');
  });
});

describe('an idempotency key used on two workflows', () => {
  const fx = useEngineFixture();

  it('is a conflict naming both, and starts nothing', async () => {
    const a = workflow('key-a').step('s', () => 'a');
    const b = workflow('key-b').step('s', () => 'b');
    const executor = fx.executor();
    const run = await executor.start(a, null, { idempotencyKey: 'shared' });
    const error = await executor.start(b, null, { idempotencyKey: 'shared' }).catch((e) => e);
    expect(error).toBeInstanceOf(IdempotencyConflictError);
    expect(error.message).toContain(run.runId);
    expect(error.message).toContain('"key-a"');
    expect(error.message).toContain('"key-b"');
    expect((await executor.store.listRuns({})).runs).toHaveLength(1);
  });

  it('is a conflict also while the first start is still being created', async () => {
    const executor = fx.executor();
    await executor.open();
    const a = executor.start(
      workflow('race-a').step('s', () => 1),
      null,
      { idempotencyKey: 'racing' },
    );
    const b = executor.start(
      workflow('race-b').step('s', () => 2),
      null,
      { idempotencyKey: 'racing' },
    );
    await a;
    await expect(b).rejects.toBeInstanceOf(IdempotencyConflictError);
  });
});

describe('a step context used after its attempt ended', () => {
  const fx = useEngineFixture();

  it('refuses spawnWorkflow, join and setGlobal with StepEndedError, and changes nothing', async () => {
    const child = workflow('late-child').step('s', () => 1);
    const kept = deferred<StepContext<any, any>>();
    const parent = workflow('leaks-ctx').step('s', (ctx) => {
      kept.resolve(ctx);
      return 'done';
    });
    const executor = fx.executor({ workflows: [child] });
    const result = await executor.execute(parent, null, { globalVariables: { a: 1 } });
    const ctx = await kept.promise;
    expect(() => ctx.spawnWorkflow(child, null)).toThrow(expect.objectContaining({ code: 'step_ended' }));
    expect(() => ctx.setGlobal('b', 2)).toThrow(/was called after attempt 1 of step "s"/);
    await expect(ctx.join([])).rejects.toMatchObject({ code: 'step_ended' });
    expect(await executor.store.countRuns({ parentRunId: result.runId })).toEqual({});
    expect((await executor.inspect(result.runId)).context.globalVariables).toEqual({ a: 1 });
  });
});

describe('joining handles a step did not spawn', () => {
  const fx = useEngineFixture();

  it('fails with InvalidJoinError saying what to do, not a spawn error', async () => {
    const child = workflow('other-child').step('s', () => 1);
    const stolen = deferred<ChildHandle<number>>();
    const owner = workflow('owner').step('spawn', async (ctx) => {
      const h = ctx.spawnWorkflow(child, null);
      stolen.resolve(h);
      return ctx.join([h]);
    });
    const thief = workflow('thief').step('join', async (ctx) => ctx.join([await stolen.promise]));
    const executor = fx.executor({ workflows: [child] });
    const [, result] = await Promise.all([executor.execute(owner, null), executor.execute(thief, null)]);
    expect(result.status).toBe('failed');
    expect(result.error?.cause?.code).toBe('invalid_join');
    expect(result.error?.cause?.message).toContain('was not spawned by this step');
  });

  it('refuses a quorum of 0 as a policy that needs a whole number from 1', async () => {
    const child = workflow('q-child').step('s', () => 1);
    const parent = workflow('q-parent').step('s', (ctx) =>
      ctx.join([ctx.spawnWorkflow(child, null)], { policy: { atLeast: 0 } }),
    );
    const result = await fx.executor({ workflows: [child] }).execute(parent, null);
    expect(result.error?.cause?.message).toContain('{ atLeast: 0 } needs a whole number from 1 to 1');
  });
});

describe('spawn keys', () => {
  const fx = useEngineFixture();

  it('refuses a key that is not a non-empty string with SpawnError at the call; nothing is spawned', async () => {
    const child = workflow('keyed-child').step('s', () => 1);
    const parent = workflow('bad-key').step('s', (ctx) => {
      ctx.spawnWorkflow(child, null, { key: {} as unknown as string });
    });
    const executor = fx.executor({ workflows: [child] });
    const result = await executor.execute(parent, null);
    expect(result.error?.cause?.code).toBe('spawn_failed');
    expect(result.error?.cause?.message).toContain('key must be a non-empty string, got object');
    expect(await executor.store.countRuns({ parentRunId: result.runId })).toEqual({});
  });

  it('a bad key in one run does not touch the other runs committed with it', async () => {
    const child = workflow('keyed-child-2').step('s', () => 1);
    const parent = workflow('keys').step('s', (ctx) =>
      ctx.join([
        ctx.spawnWorkflow(child, null, { key: ctx.input === 3 ? ({} as unknown as string) : `k${ctx.input}` }),
      ]),
    );
    const executor = fx.executor({ workflows: [child] });
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => executor.execute(parent, i)));
    expect(results.map((r) => r.status)).toEqual([
      'succeeded',
      'succeeded',
      'succeeded',
      'failed',
      'succeeded',
      'succeeded',
      'succeeded',
      'succeeded',
    ]);
  });
});

describe('definitions with bad numbers', () => {
  it('refuses a NaN or undefined-made-NaN backoff when the workflow is defined, naming the option', () => {
    expect(() => workflow('nan').step('s', { retries: 1, backoff: { initialMs: Number.NaN } }, () => 1)).toThrow(
      /`backoff.initialMs` must be a finite number >= 0, got NaN/,
    );
    expect(() => workflow('neg', { backoff: { factor: 0.5 } })).toThrow(InvalidWorkflowError);
    expect(() => workflow('jit').step('s', { backoff: { jitter: 2 } }, () => 1)).toThrow(/jitter/);
  });

  it('treats a backoff option given as undefined as its default, so the retry still happens', async () => {
    const fx = { n: 0 };
    const wf = workflow('undefined-max').step('s', { retries: 1, backoff: { initialMs: 1, maxMs: undefined } }, () => {
      if (++fx.n === 1) throw new Error('once');
      return 'ok';
    });
    const { WorkflowExecutor, MemoryStore } = await import('../../src/index.js');
    const executor = new WorkflowExecutor({ store: new MemoryStore() });
    expect((await executor.execute(wf, null)).output).toBe('ok');
    await executor.cleanup();
  });
});

describe('every reader sees a step output in its stored JSON form', () => {
  const fx = useEngineFixture();

  it('gives a downstream step, the result, a cache hit and a recovered run the same value', async () => {
    const when = new Date('2026-01-02T03:04:05.000Z');
    const seen: unknown[] = [];
    const wf = workflow('json-form')
      .step('make', { cache: true }, () => ({ when, list: [undefined, 1] }))
      .step('read', { parents: ['make'] }, (ctx) => {
        seen.push(ctx.parent('make'));
        return 'read';
      });
    const executor = fx.executor();
    const live = await executor.execute(wf, null);
    const cached = await executor.execute(wf, null);
    const stored = { when: '2026-01-02T03:04:05.000Z', list: [null, 1] };
    expect(seen).toEqual([stored, stored]);
    expect(live.context.nodeResults.make?.output).toEqual(stored);
    expect(cached.context.nodeResults.make?.cacheHit).toBe(true);
    expect((await executor.inspect(live.runId)).context.nodeResults.make?.output).toEqual(stored);
  });

  it('gives steps the run input and global variables in their stored form too', async () => {
    const seen: unknown[] = [];
    const wf = workflow('input-form').step('s', (ctx) => {
      seen.push(ctx.input, { ...ctx.globals });
      ctx.setGlobal('at', new Date(0));
      return ctx.globals.at;
    });
    const result = await fx
      .executor()
      .execute(wf, { at: new Date(0) } as never, { globalVariables: { d: new Date(0) } });
    expect(seen).toEqual([{ at: '1970-01-01T00:00:00.000Z' }, { d: '1970-01-01T00:00:00.000Z' }]);
    expect(result.output).toBe('1970-01-01T00:00:00.000Z');
  });
});
