import { describe, expect, it } from 'vitest';
import { makeRun } from '../../test/store/conformance.js';
import { MemoryStore, WorkflowExecutor, workflow } from '../index.js';
import type { RunRecord } from '../store/types.js';
import { WorkflowRegistry } from './registry.js';
import { continuationsToWrite, NO_CONTINUATIONS, NO_WAITS, waitsToWrite } from './runState.js';
import { RunTable } from './runTable.js';

const twoSteps = workflow('two-steps')
  .step('a', () => 1)
  .step('b', { parents: ['a'] }, (ctx) => ctx.parent('a') + 1);

const newRecord = (id: string): RunRecord =>
  makeRun({ id, workflow: 'two-steps', version: twoSteps.version, input: 'null', createdAt: 0 });

describe("a step's waits and continuations", () => {
  it('are the shared empty maps until the step waits: a new run builds no map for them', () => {
    const plan = new WorkflowRegistry({}, () => true).register(twoSteps);
    const run = new RunTable().hydrate(newRecord('r1'), plan, null, {}, []);
    for (const step of run.steps.values()) {
      expect(step.waits).toBe(NO_WAITS);
      expect(step.continuations).toBe(NO_CONTINUATIONS);
    }
  });

  it('become maps of the step own when first written, and the shared ones stay empty', () => {
    const plan = new WorkflowRegistry({}, () => true).register(twoSteps);
    const run = new RunTable().hydrate(newRecord('r2'), plan, null, {}, []);
    const [a, b] = [...run.steps.values()];
    const waits = waitsToWrite(a!);
    expect(waits).not.toBe(NO_WAITS);
    expect(waitsToWrite(a!)).toBe(waits);
    expect(continuationsToWrite(a!)).not.toBe(NO_CONTINUATIONS);
    expect(b!.waits).toBe(NO_WAITS);
    expect(NO_WAITS.size).toBe(0);
    expect(NO_CONTINUATIONS.size).toBe(0);
  });

  it('leave the shared maps empty after steps that sleep and wait for events have run', async () => {
    const waiter = workflow('waiter').step('w', async (ctx) => {
      await ctx.sleep(5);
      await ctx.waitForFirst({ slept: { sleep: 5 }, never: { event: 'never-sent' } });
      return 'done';
    });
    const executor = new WorkflowExecutor({ store: new MemoryStore(), workflows: [waiter] });
    try {
      const results = await Promise.all([executor.execute(waiter, null), executor.execute(waiter, null)]);
      expect(results.map((r) => r.output)).toEqual(['done', 'done']);
      expect(NO_WAITS.size).toBe(0);
      expect(NO_CONTINUATIONS.size).toBe(0);
    } finally {
      await executor.cleanup();
    }
  });
});
