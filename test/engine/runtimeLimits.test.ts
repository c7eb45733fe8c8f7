import { describe, expect, it } from 'vitest';
import {
  InvalidLimitError,
  MaxRunsNotDefinedError,
  PoolNotFoundError,
  WorkflowNotRegisteredError,
  workflow,
} from '../../src/index.js';
import { type Deferred, deferred, useEngineFixture, waitUntil } from './helpers.js';

/** A workflow whose runs each wait for their own gate: `started` says which runs are inside. */
function gatedRuns(name: string, options: { maxRuns?: number; pool?: string } = {}) {
  const gates = new Map<number, Deferred<void>>();
  const started = new Set<number>();
  const gateOf = (i: number) => {
    let gate = gates.get(i);
    if (!gate) {
      gate = deferred();
      gates.set(i, gate);
    }
    return gate;
  };
  const wf = workflow(name, options.maxRuns === undefined ? {} : { maxRuns: options.maxRuns }).step(
    's',
    options.pool === undefined ? {} : { pool: options.pool },
    async (ctx) => {
      const i = ctx.input as number;
      started.add(i);
      await gateOf(i).promise;
      return i;
    },
  );
  return { wf, started, open: (i: number) => gateOf(i).resolve() };
}

describe('maxRuns changed at run time', () => {
  const fx = useEngineFixture();

  it('raising it starts queued runs at once, without waiting for a run to end', async () => {
    const { wf, started, open } = gatedRuns('raise-max-runs', { maxRuns: 1 });
    const executor = fx.executor({ workflows: [wf] });
    const handles = await Promise.all([0, 1, 2].map((i) => executor.start(wf, i)));
    await waitUntil(() => started.size === 1);

    const view = await executor.setMaxRuns('raise-max-runs', 3);
    expect(view).toMatchObject({ workflow: 'raise-max-runs', maxRuns: 3, defined: 1, setting: { value: 3 } });
    await waitUntil(() => started.size === 3);
    for (const i of [0, 1, 2]) open(i);
    expect((await Promise.all(handles.map((h) => h.result()))).map((r) => r.output)).toEqual([0, 1, 2]);
  });

  it('lowering it lets running runs finish and admits no more until under the new limit', async () => {
    const { wf, started, open } = gatedRuns('lower-max-runs', { maxRuns: 3 });
    const executor = fx.executor({ workflows: [wf] });
    const handles = await Promise.all([0, 1, 2, 3].map((i) => executor.start(wf, i)));
    await waitUntil(() => started.size === 3);

    await executor.setMaxRuns('lower-max-runs', 1);
    open(0);
    await handles[0]?.result();
    open(1);
    await handles[1]?.result();
    // Two ended, one still runs: 1 active is the new limit, so run 3 still waits.
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(started.has(3)).toBe(false);
    const usage = (await executor.limits()).maxRuns.find((v) => v.workflow === 'lower-max-runs');
    expect(usage?.keys).toEqual([{ key: '', active: 1, queued: 1 }]);

    open(2);
    await waitUntil(() => started.has(3));
    open(3);
    expect((await handles[3]?.result())?.output).toBe(3);
  });

  it('reset goes back to the definition, and a setting outlives a restart on the same store', async () => {
    const file = fx.sqlitePath();
    const { wf } = gatedRuns('persisted-max-runs', { maxRuns: 2 });
    const first = fx.executor({ store: fx.sqliteStore(file), workflows: [wf] });
    await first.setMaxRuns('persisted-max-runs', 5);
    await first.cleanup();

    const second = fx.executor({ store: fx.sqliteStore(file), workflows: [wf] });
    const [view] = (await second.limits()).maxRuns;
    expect(view).toMatchObject({ workflow: 'persisted-max-runs', maxRuns: 5, defined: 2 });
    await second.resetMaxRuns('persisted-max-runs');
    const [after] = (await second.limits()).maxRuns;
    expect(after).toMatchObject({ maxRuns: 2, setting: null });
  });

  it('applies a stored setting to runs recovered after a restart', async () => {
    const file = fx.sqlitePath();
    const { wf, started, open } = gatedRuns('recovered-max-runs', { maxRuns: 1 });
    const first = fx.executor({ store: fx.sqliteStore(file), workflows: [wf] });
    await Promise.all([0, 1, 2].map((i) => first.start(wf, i)));
    await waitUntil(() => started.size === 1);
    await first.setMaxRuns('recovered-max-runs', 3);
    await waitUntil(() => started.size === 3);
    await first.cleanup();

    started.clear();
    const second = fx.executor({ store: fx.sqliteStore(file), workflows: [wf] });
    await second.open();
    await waitUntil(() => started.size === 3);
    for (const i of [0, 1, 2]) open(i);
  });

  it('refuses a value that is not a whole number >= 1, an unknown workflow, and one without maxRuns', async () => {
    const { wf } = gatedRuns('checked-max-runs', { maxRuns: 1 });
    const { wf: free } = gatedRuns('unlimited');
    const executor = fx.executor({ workflows: [wf, free] });
    for (const bad of [0, -1, 1.5, Number.NaN, '2' as unknown as number]) {
      const error = await executor.setMaxRuns('checked-max-runs', bad).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidLimitError);
      expect(error).toMatchObject({ code: 'invalid_limit', field: 'maxRuns' });
    }
    await expect(executor.setMaxRuns('nope', 2)).rejects.toBeInstanceOf(WorkflowNotRegisteredError);
    await expect(executor.setMaxRuns('unlimited', 2)).rejects.toBeInstanceOf(MaxRunsNotDefinedError);
    await expect(executor.resetMaxRuns('nope')).rejects.toBeInstanceOf(WorkflowNotRegisteredError);
    expect(await executor.store.listLimitSettings()).toEqual([]);
  });
});

describe('pool sizes changed at run time', () => {
  const fx = useEngineFixture();

  it('raising a pool starts waiting steps at once; lowering it starts none until under the new size', async () => {
    const { wf, started, open } = gatedRuns('pooled-runtime', { pool: 'llm' });
    const executor = fx.executor({ workflows: [wf], pools: { llm: 1 } });
    const handles = await Promise.all([0, 1, 2, 3].map((i) => executor.start(wf, i)));
    await waitUntil(() => started.size === 1);
    expect((await executor.limits()).pools).toEqual([
      { pool: 'llm', size: 1, defined: 1, setting: null, busy: 1, waiting: 3 },
    ]);

    const view = await executor.setPoolSize('llm', 3);
    expect(view).toMatchObject({ pool: 'llm', size: 3, defined: 1, setting: { value: 3 } });
    await waitUntil(() => started.size === 3);

    await executor.setPoolSize('llm', 1);
    open(0);
    open(1);
    await Promise.all([handles[0]?.result(), handles[1]?.result()]);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(started.has(3)).toBe(false);
    expect((await executor.limits()).pools[0]).toMatchObject({ size: 1, busy: 1, waiting: 1 });

    await executor.resetPoolSize('llm');
    open(2);
    await waitUntil(() => started.has(3));
    open(3);
    expect((await handles[3]?.result())?.output).toBe(3);
  });

  it('refuses an unknown pool and a size that is not a whole number >= 1, naming the field', async () => {
    const executor = fx.executor({ pools: { llm: 2 } });
    await expect(executor.setPoolSize('gpu', 2)).rejects.toBeInstanceOf(PoolNotFoundError);
    await expect(executor.resetPoolSize('gpu')).rejects.toBeInstanceOf(PoolNotFoundError);
    const error = await executor.setPoolSize('llm', 0).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidLimitError);
    expect(error).toMatchObject({ field: 'size', message: expect.stringMatching(/Pool "llm": `size` must be/) });
  });
});
