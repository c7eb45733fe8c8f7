/**
 * The data form, `defineWorkflow(name, options, steps)`: steps as a list (each with its `name`) or
 * as an object keyed by step name, checked whole; any other shape is refused with a typed error
 * that says what is expected.
 */
import { describe, expect, it } from 'vitest';
import {
  defineWorkflow,
  InvalidWorkflowError,
  MemoryStore,
  UnknownParentError,
  WorkflowExecutor,
} from '../../src/index.js';

/** Calls `fn` and returns what it threw. */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

async function outputOf(wf: ReturnType<typeof defineWorkflow>): Promise<unknown> {
  const executor = new WorkflowExecutor({ store: new MemoryStore() });
  try {
    return (await executor.execute(wf, { qty: 3 })).output;
  } finally {
    await executor.cleanup();
  }
}

describe('defineWorkflow', () => {
  it('accepts an object of steps keyed by name, in any order', async () => {
    const wf = defineWorkflow(
      'keyed',
      {},
      {
        price: { parents: ['fetch'], run: (ctx) => (ctx.parent('fetch') as { qty: number }).qty * 4 },
        fetch: { run: (ctx) => ({ qty: (ctx.input as { qty: number }).qty }) },
      },
    );
    expect(wf.steps.map((s) => s.name).sort()).toEqual(['fetch', 'price']);
    expect(await outputOf(wf)).toBe(12);
  });

  it('accepts a list of named steps, as before', async () => {
    const wf = defineWorkflow('listed', {}, [
      { name: 'price', parents: ['fetch'], run: (ctx) => (ctx.parent('fetch') as number) * 4 },
      { name: 'fetch', run: () => 3 },
    ]);
    expect(await outputOf(wf)).toBe(12);
  });

  it('checks an object of steps whole, naming the step', () => {
    const error = thrownBy(() =>
      defineWorkflow('keyed-orphan', {}, { a: { run: () => 1 }, b: { parents: ['ghost'], run: () => 2 } }),
    );
    expect(error).toBeInstanceOf(UnknownParentError);
    expect(error).toMatchObject({ step: 'b', parent: 'ghost' });
  });

  it.each([
    ['a string', 'fetch', /steps must be a list of steps .* or an object keyed by step name .*; got a string/],
    ['null', null, /steps must be a list .*; got null/],
    ['a Map', new Map(), /steps must be a list .*; got a Map/],
  ])('refuses steps given as %s with InvalidWorkflowError', (_what, steps, message) => {
    const error = thrownBy(() => Reflect.apply(defineWorkflow, undefined, ['odd', {}, steps]));
    expect(error).toBeInstanceOf(InvalidWorkflowError);
    expect(error).toMatchObject({ code: 'invalid_workflow', workflow: 'odd' });
    expect(String(error)).toMatch(message);
  });

  it('refuses a step that is not an object, naming it and saying what a step looks like', () => {
    const error = thrownBy(() => Reflect.apply(defineWorkflow, undefined, ['fn', {}, { fetch: () => 1 }]));
    expect(error).toBeInstanceOf(InvalidWorkflowError);
    expect(error).toMatchObject({ code: 'invalid_workflow', step: 'fetch' });
    expect(String(error)).toContain('{ run: (ctx) => ..., parents?: [...] }');
  });

  it('refuses a listed step with no name, and a keyed step whose name differs from its key', () => {
    const unnamed = thrownBy(() => Reflect.apply(defineWorkflow, undefined, ['unnamed', {}, [{ run: () => 1 }]]));
    expect(unnamed).toBeInstanceOf(InvalidWorkflowError);
    expect(String(unnamed)).toContain('steps[0] has no name');
    const renamed = thrownBy(() => defineWorkflow('renamed', {}, { fetch: { name: 'load', run: () => 1 } }));
    expect(renamed).toBeInstanceOf(InvalidWorkflowError);
    expect(renamed).toMatchObject({ step: 'fetch' });
    expect(String(renamed)).toContain('"load"');
  });

  it('refuses parents that are not a list of names', () => {
    const error = thrownBy(() =>
      Reflect.apply(defineWorkflow, undefined, ['p', {}, { a: { run: () => 1 }, b: { parents: 'a', run: () => 2 } }]),
    );
    expect(error).toBeInstanceOf(InvalidWorkflowError);
    expect(error).toMatchObject({ step: 'b' });
    expect(String(error)).toContain('parents must be a list of step names');
  });
});
