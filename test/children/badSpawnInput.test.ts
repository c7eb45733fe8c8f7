import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MemoryStore, SpawnError, type StepContext, WorkflowExecutor, workflow } from '../../src/index.js';

const typed = workflow('typed-child', { input: z.object({ n: z.number() }) }).step('x', (ctx) => ctx.input.n);
const untyped = workflow('untyped-child').step('x', () => 'ok');

let executor: WorkflowExecutor | undefined;
afterEach(async () => {
  await executor?.cleanup();
  executor = undefined;
});

/**
 * Runs a parent whose step calls `spawn` synchronously and records what it threw; the step then
 * returns normally so the test sees the error as thrown at the call, not as the run's failure.
 */
async function spawnError(spawn: (ctx: StepContext) => unknown): Promise<{ error: unknown; runId: string }> {
  executor = new WorkflowExecutor({ store: new MemoryStore(), workflows: [typed] });
  let error: unknown;
  const parent = workflow('parent').step('spawn', (ctx) => {
    try {
      spawn(ctx);
    } catch (e) {
      error = e;
    }
    return null;
  });
  const result = await executor.execute(parent, undefined);
  expect(result.status).toBe('succeeded');
  return { error, runId: result.runId };
}

describe('a bad spawn throws SpawnError at the call, naming the child workflow', () => {
  it('refuses an unregistered workflow name', async () => {
    const { error, runId } = await spawnError((ctx) => ctx.spawnWorkflow('no-such-workflow', {}));
    expect(error).toBeInstanceOf(SpawnError);
    expect((error as SpawnError).workflow).toBe('no-such-workflow');
    expect((error as SpawnError).code).toBe('spawn_failed');
    expect((error as Error).message).toContain('"no-such-workflow"');
    expect(await executor?.store.countRuns({ parentRunId: runId })).toEqual({});
  });

  it("refuses an input that fails the child's zod schema", async () => {
    const { error, runId } = await spawnError((ctx) => ctx.spawnWorkflow(typed, { n: 'three' } as never));
    expect(error).toBeInstanceOf(SpawnError);
    expect((error as SpawnError).workflow).toBe('typed-child');
    expect((error as Error).message).toMatch(/typed-child.*schema/);
    expect(await executor?.store.countRuns({ parentRunId: runId })).toEqual({});
  });

  it('refuses a function as input', async () => {
    const { error } = await spawnError((ctx) => ctx.spawnWorkflow(untyped, { callback: () => 1 } as never));
    expect(error).toBeInstanceOf(SpawnError);
    expect((error as SpawnError).workflow).toBe('untyped-child');
    expect((error as Error).message).toContain('function');
  });

  it('refuses a bigint as input', async () => {
    const { error } = await spawnError((ctx) => ctx.spawnWorkflow(untyped, { big: 10n } as never));
    expect(error).toBeInstanceOf(SpawnError);
    expect((error as SpawnError).workflow).toBe('untyped-child');
    expect((error as Error).message).toContain('bigint');
  });

  it('refuses a workflow object whose version differs from the registered one', async () => {
    const v2 = workflow('typed-child', { input: z.object({ n: z.number() }), version: '2' }).step('x', () => 2);
    const { error } = await spawnError((ctx) => ctx.spawnWorkflow(v2, { n: 1 }));
    expect(error).toBeInstanceOf(SpawnError);
    expect((error as SpawnError).workflow).toBe('typed-child');
  });

  it('spawns nothing when one child of a spawnWorkflows batch is bad', async () => {
    const { error, runId } = await spawnError((ctx) =>
      ctx.spawnWorkflows([
        { workflow: typed, input: { n: 1 } },
        { workflow: typed, input: { n: 2 } },
        { workflow: typed, input: { n: 'bad' } as never },
      ]),
    );
    expect(error).toBeInstanceOf(SpawnError);
    expect((error as SpawnError).workflow).toBe('typed-child');
    expect(await executor?.store.countRuns({ parentRunId: runId })).toEqual({});
    expect(await executor?.store.countRuns({ workflow: 'typed-child' })).toEqual({});
  });

  it('fails the parent step with the SpawnError when the step does not catch it', async () => {
    executor = new WorkflowExecutor({ store: new MemoryStore() });
    const parent = workflow('parent').step('spawn', (ctx) => ctx.spawnWorkflow('missing', {}).key);
    const result = await executor.execute(parent, undefined);
    expect(result.status).toBe('failed');
    expect(result.error?.cause?.name).toBe('SpawnError');
    expect(result.error?.cause?.message).toContain('"missing"');
  });
});
