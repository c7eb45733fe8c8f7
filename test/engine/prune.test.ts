import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InvalidDurationError, InvalidPruneOptionError, workflow } from '../../src/index.js';
import { deferred, useEngineFixture } from './helpers.js';

const child = workflow('prune-child', { input: z.object({ n: z.number() }) }).step('double', (ctx) => ctx.input.n * 2);
const parent = workflow('prune-parent').step('fan', (ctx) =>
  ctx.join([1, 2, 3].map((n) => ctx.spawnWorkflow(child, { n }, { key: String(n) }))),
);
const failing = workflow('prune-failing').step('boom', () => {
  throw new Error('boom');
});

describe('executor.prune', () => {
  const fixture = useEngineFixture();

  it('removes finished run trees with their children, and leaves a run that is still going', async () => {
    const gate = deferred();
    const slow = workflow('prune-slow').step('wait', () => gate.promise);
    const executor = fixture.executor({ store: fixture.sqliteStore(fixture.sqlitePath()) });
    const done = await executor.execute(parent, {});
    expect(done.success).toBe(true);
    const failed = await executor.execute(failing, {});
    expect(failed.success).toBe(false);
    const running = await executor.start(slow, {});

    const children = (await executor.store.listRuns({ parentRunId: done.context.runId })).runs;
    expect(children).toHaveLength(3);

    const dry = await executor.prune({ dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, roots: 2, runs: 5, batches: 0 });
    expect(await executor.store.getRun(done.context.runId)).toBeDefined();

    const result = await executor.prune({ batchSize: 1 });
    expect(result).toMatchObject({ dryRun: false, roots: 2, runs: 5 });
    expect(result.batches).toBeGreaterThanOrEqual(2);
    expect(result.steps).toBeGreaterThanOrEqual(5);
    expect(result.events).toBeGreaterThan(5);
    for (const id of [done.context.runId, failed.context.runId, ...children.map((c) => c.id)]) {
      expect(await executor.store.getRun(id)).toBeUndefined();
      expect(await executor.store.listEvents({ runId: id })).toEqual([]);
    }
    expect(await executor.store.getRun(running.runId)).toBeDefined();
    gate.resolve();
    expect((await running.result()).success).toBe(true);
  });

  it('prunes only what the filters select: age, status (failed includes timed out) and workflow', async () => {
    const executor = fixture.executor();
    const ok = await executor.execute(parent, {});
    const failed = await executor.execute(failing, {});
    expect(await executor.prune({ olderThan: '1h' })).toMatchObject({ roots: 0, runs: 0 });
    expect(await executor.prune({ workflow: 'prune-child' })).toMatchObject({ roots: 0 });
    expect(await executor.prune({ status: 'failed' })).toMatchObject({ roots: 1, runs: 1 });
    expect(await executor.store.getRun(failed.context.runId)).toBeUndefined();
    expect(await executor.prune({ status: ['cancelled'] })).toMatchObject({ roots: 0 });
    expect(await executor.prune({ workflow: 'prune-parent', status: 'succeeded' })).toMatchObject({
      roots: 1,
      runs: 4,
    });
    expect(await executor.store.getRun(ok.context.runId)).toBeUndefined();
  });

  it('refuses bad options with a typed error naming the field, and prunes nothing', async () => {
    const executor = fixture.executor();
    const ok = await executor.execute(parent, {});
    const refused = async (options: unknown) => {
      const error = await executor.prune(options as never).catch((e: unknown) => e);
      expect(await executor.store.getRun(ok.context.runId)).toBeDefined();
      return error as Error;
    };
    let error = await refused({ olderThan: '-5d' });
    expect(error).toBeInstanceOf(InvalidDurationError);
    expect(error.message).toContain('`olderThan`');
    error = await refused({ olderThan: 'soon' });
    expect(error).toBeInstanceOf(InvalidDurationError);
    expect(error.message).toContain('`olderThan`');
    error = await refused({ olderThan: -1 });
    expect(error.message).toContain('`olderThan`');
    error = await refused({ status: 'timed_out' });
    expect(error).toBeInstanceOf(InvalidPruneOptionError);
    expect(error.message).toContain('`status`');
    error = await refused({ batchSize: 0 });
    expect(error).toMatchObject({ code: 'invalid_prune_option', option: 'batchSize' });
    error = await refused({ batchSize: 1.5 });
    expect(error).toMatchObject({ option: 'batchSize' });
    error = await refused({ workflow: '' });
    expect(error).toMatchObject({ option: 'workflow' });
    error = await refused({ dryRun: 'yes' });
    expect(error).toMatchObject({ option: 'dryRun' });
  });
});
