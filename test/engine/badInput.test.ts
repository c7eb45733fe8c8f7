import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InvalidInputError, RunNotFoundError, workflow } from '../../src/index.js';
import { useEngineFixture } from './helpers.js';

describe('an input that fails the schema is refused before a run is created', () => {
  const fx = useEngineFixture();

  it('refuses with InvalidInputError carrying the zod issues, and creates no run', async () => {
    let ran = false;
    const wf = workflow('zod-input', { input: z.object({ email: z.email(), qty: z.number().int().positive() }) }).step(
      'order',
      (ctx) => {
        ran = true;
        return ctx.input.qty;
      },
    );
    const executor = fx.executor();
    const error = await executor.execute(wf, { email: 'not-an-email', qty: -1 }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvalidInputError);
    const invalid = error as InvalidInputError;
    expect(invalid.workflow).toBe('zod-input');
    expect(invalid.issues.map((i) => i.path?.[0]).sort()).toEqual(['email', 'qty']);
    expect(invalid.message).toContain('No run was created');
    expect(invalid.message).toContain('email');
    expect(ran).toBe(false);
    expect((await executor.store.listRuns({})).runs).toEqual([]);
  });

  it('refuses with InvalidInputError carrying the valibot issues (any Standard Schema)', async () => {
    const wf = workflow('valibot-input', { input: v.object({ name: v.pipe(v.string(), v.minLength(3)) }) }).step(
      'greet',
      (ctx) => `hello ${ctx.input.name}`,
    );
    const executor = fx.executor();
    const error = await executor.execute(wf, { name: 'al' }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).issues).toHaveLength(1);
    expect((await executor.store.listRuns({})).runs).toEqual([]);

    const ok = await executor.execute(wf, { name: 'alice' });
    expect(ok.output).toBe('hello alice');
  });

  it('refuses at start() too', async () => {
    const wf = workflow('start-input', { input: z.string() }).step('s', (ctx) => ctx.input);
    const executor = fx.executor();
    const fromRequestBody = JSON.parse('42');
    await expect(executor.start(wf, fromRequestBody)).rejects.toBeInstanceOf(InvalidInputError);
    expect((await executor.store.listRuns({})).runs).toEqual([]);
  });

  it('gives steps the parsed input (schemas may transform)', async () => {
    const wf = workflow('parsed-input', { input: z.object({ n: z.coerce.number() }) }).step(
      's',
      (ctx) => ctx.input.n + 1,
    );
    const executor = fx.executor();
    const result = await executor.execute(wf, { n: 41 });
    expect(result.output).toBe(42);
  });

  it('refuses an input that cannot be stored as JSON', async () => {
    const executor = fx.executor();
    await expect(
      executor.execute(
        workflow('fn-input').step('s', () => 1),
        { callback: () => 1 },
      ),
    ).rejects.toMatchObject({
      name: 'NotSerializableError',
    });
    expect((await executor.store.listRuns({})).runs).toEqual([]);
  });
});

describe('an output that cannot be stored fails that step with NotSerializableError', () => {
  const fx = useEngineFixture();

  class Money {
    constructor(readonly cents: number) {}
  }
  const cyclic = (): unknown => {
    const node: Record<string, unknown> = { name: 'loop' };
    node.self = node;
    return node;
  };
  const cases: Array<[string, () => unknown, string]> = [
    ['a function', () => ({ format: () => 'x' }), 'function'],
    ['a bigint', () => ({ total: 10n }), 'bigint'],
    ['a class instance', () => new Money(100), 'Money instance'],
    ['a Map', () => new Map([['a', 1]]), 'Map instance'],
    ['a cycle', cyclic, 'cycle'],
    ['NaN', () => ({ ratio: Number.NaN }), 'NaN'],
  ];

  for (const [label, produce, detail] of cases) {
    it(`refuses ${label}, naming the step, without retrying`, async () => {
      let calls = 0;
      const wf = workflow(`unstorable-${label.replace(/\W/g, '-')}`, { retries: 3, backoff: { initialMs: 1 } })
        .step('fine', () => 'ok')
        .step('produce', { parents: ['fine'] }, () => {
          calls++;
          return produce();
        });
      const result = await fx.executor().execute(wf, null);

      expect(result.status).toBe('failed');
      expect(calls).toBe(1);
      const error = result.context.nodeResults.produce?.error;
      expect(error?.name).toBe('NotSerializableError');
      expect(error?.code).toBe('not_serializable');
      expect(error?.message).toContain('step "produce"');
      expect(error?.message).toContain(detail);
      expect(result.partialResults).toEqual({ fine: 'ok' });
    });
  }

  it('stores a Date as its JSON text', async () => {
    const wf = workflow('date-output').step('when', () => ({ at: new Date(0) }));
    const executor = fx.executor();
    const result = await executor.execute(wf, null);
    expect(result.success).toBe(true);
    const stored = (await executor.store.getSteps(result.runId)).find((s) => s.name === 'when');
    expect(stored?.output).toBe('{"at":"1970-01-01T00:00:00.000Z"}');
  });
});

describe('unknown run ids are refused with RunNotFoundError', () => {
  const fx = useEngineFixture();

  for (const action of ['inspect', 'pause', 'cancel', 'getHandle', 'resume'] as const) {
    it(`from ${action}`, async () => {
      const executor = fx.executor();
      const error = await executor[action]('run-that-does-not-exist').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RunNotFoundError);
      expect((error as RunNotFoundError).runId).toBe('run-that-does-not-exist');
      expect((error as RunNotFoundError).message).toContain('run-that-does-not-exist');
    });
  }
});
