import { describe, expect, it } from 'vitest';
import {
  BraidError,
  CycleError,
  DuplicateStepError,
  defineWorkflow,
  InvalidRouteError,
  InvalidWorkflowError,
  MissingStepFunctionError,
  UnknownParentError,
  type Workflow,
  WorkflowExecutor,
  workflow,
} from '../../src/index.js';
import { useEngineFixture } from './helpers.js';

/** Calls `fn` and returns what it threw. */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('definitions are refused at definition time, naming the step', () => {
  it('refuses a duplicate step with DuplicateStepError', () => {
    const error = thrownBy(() =>
      workflow('dup')
        .step('a', () => 1)
        .step('a', () => 2),
    );
    expect(error).toBeInstanceOf(DuplicateStepError);
    expect(error).toMatchObject({ code: 'duplicate_step', workflow: 'dup', step: 'a' });
    expect(String(error)).toContain('step "a"');
  });

  it('refuses a duplicate step in the data form', () => {
    const error = thrownBy(() =>
      defineWorkflow('dup-data', {}, [
        { name: 'x', run: () => 1 },
        { name: 'x', run: () => 2 },
      ]),
    );
    expect(error).toBeInstanceOf(DuplicateStepError);
  });

  it('refuses an unknown parent with UnknownParentError', () => {
    const error = thrownBy(() =>
      defineWorkflow('orphan', {}, [
        { name: 'a', run: () => 1 },
        { name: 'b', parents: ['a', 'ghost'], run: () => 2 },
      ]),
    );
    expect(error).toBeInstanceOf(UnknownParentError);
    expect(error).toMatchObject({ code: 'unknown_parent', step: 'b', parent: 'ghost' });
    expect(String(error)).toContain('step "b"');
    expect(String(error)).toContain('"ghost"');
  });

  it('refuses a step with no function with MissingStepFunctionError', () => {
    // Definitions built from configuration: JSON can name a step but cannot carry its function.
    const fromConfig = JSON.parse('[{ "name": "a" }, { "name": "b", "parents": ["a"] }]');
    const error = thrownBy(() => defineWorkflow('no-fn', {}, fromConfig));
    expect(error).toBeInstanceOf(MissingStepFunctionError);
    expect(error).toMatchObject({ code: 'missing_step_function', step: 'a' });
  });

  it('refuses a step with no function in the builder', () => {
    const wf = workflow('no-fn-builder');
    const error = thrownBy(() => Reflect.apply(wf.step, wf, ['lonely', {}]));
    expect(error).toBeInstanceOf(MissingStepFunctionError);
    expect(String(error)).toContain('step "lonely"');
  });

  it('refuses a cycle in the data form with CycleError carrying the cycle', () => {
    const error = thrownBy(() =>
      defineWorkflow('loop', {}, [
        { name: 'start', run: () => 0 },
        { name: 'a', parents: ['start', 'c'], run: () => 1 },
        { name: 'b', parents: ['a'], run: () => 2 },
        { name: 'c', parents: ['b'], run: () => 3 },
      ]),
    );
    expect(error).toBeInstanceOf(CycleError);
    const cycle = (error as CycleError).cycle;
    expect(cycle[0]).toBe(cycle[cycle.length - 1]);
    expect([...cycle.slice(1)].sort()).toEqual(['a', 'b', 'c']);
    expect(String(error)).toContain(cycle.join(' -> '));
    expect((error as CycleError).step).toBe(cycle[0]);
  });

  it('refuses a step that is its own parent', () => {
    const error = thrownBy(() => defineWorkflow('self', {}, [{ name: 'me', parents: ['me'], run: () => 1 }]));
    expect(error).toBeInstanceOf(CycleError);
    expect((error as CycleError).cycle).toEqual(['me', 'me']);
  });

  it('gives every definition error a BraidError with a stable code', () => {
    const error = thrownBy(() =>
      workflow('codes')
        .step('a', () => 1)
        .step('a', () => 1),
    );
    expect(error).toBeInstanceOf(BraidError);
    expect(error).toBeInstanceOf(InvalidWorkflowError);
    expect((error as BraidError).name).toBe('DuplicateStepError');
  });

  it('refuses a workflow without a name', () => {
    expect(() => workflow('')).toThrow(InvalidWorkflowError);
  });
});

describe('routes are checked when the workflow is registered', () => {
  const fx = useEngineFixture();

  const badRoutes = () =>
    workflow('bad-routes')
      .step('decide', { routes: ['yes', 'elsewhere'] }, (ctx) => ctx.route('yes'))
      .step('yes', { parents: ['decide'] }, () => 'y')
      .step('elsewhere', () => 'e');

  it('refuses a declared route to a non-child at executor.register with InvalidRouteError', async () => {
    const executor = fx.executor();
    const error = thrownBy(() => executor.register(badRoutes()));
    expect(error).toBeInstanceOf(InvalidRouteError);
    expect(error).toMatchObject({ code: 'invalid_route', step: 'decide', target: 'elsewhere', children: ['yes'] });
    expect((await executor.store.listRuns({})).runs).toEqual([]);
  });

  it('refuses it at executor construction', () => {
    expect(() => new WorkflowExecutor({ store: fx.executor().store, workflows: [badRoutes()] })).toThrow(
      InvalidRouteError,
    );
  });

  it('refuses it at execute, before any run exists', async () => {
    let ran = false;
    const wf = workflow('bad-routes-exec')
      .step('decide', { routes: ['nowhere'] }, () => {
        ran = true;
        return 1;
      })
      .step('child', { parents: ['decide'] }, () => 2);
    const executor = fx.executor();
    await expect(executor.execute(wf, null)).rejects.toBeInstanceOf(InvalidRouteError);
    expect(ran).toBe(false);
    expect((await executor.store.listRuns({})).runs).toEqual([]);
  });

  it('fails the step with InvalidRouteError when ctx.route names a non-child at run time, without retrying', async () => {
    let calls = 0;
    const wf = workflow('runtime-route', { retries: 3, backoff: { initialMs: 1 } })
      .step('decide', (ctx) => {
        calls++;
        return ctx.route('stranger');
      })
      .step('child', { parents: ['decide'] }, () => 'c')
      .step('stranger', () => 's');
    const result = await fx.executor().execute(wf, null);

    expect(result.status).toBe('failed');
    expect(calls).toBe(1);
    expect(result.context.nodeResults.decide?.status).toBe('failed');
    expect(result.context.nodeResults.decide?.error?.name).toBe('InvalidRouteError');
    expect(result.context.nodeResults.decide?.error?.message).toContain('"stranger"');
    expect(result.context.nodeResults.child?.status).toBe('cancelled');
  });

  it('refuses to register two versions of one workflow in one executor', () => {
    const executor = fx.executor();
    executor.register(workflow('versioned', { version: '1' }).step('s', () => 1));
    expect(() => executor.register(workflow('versioned', { version: '2' }).step('s', () => 2))).toThrow(
      InvalidWorkflowError,
    );
  });
});

describe('numeric options are checked when the workflow is defined', () => {
  const fx = useEngineFixture();

  const badWorkflows: Array<[string, () => Workflow<any, any, any>, string | undefined]> = [
    ['workflow maxParallelNodes 0', () => workflow('w1', { maxParallelNodes: 0 }).step('s', () => 1), undefined],
    ['workflow maxRuns 0', () => workflow('w2', { maxRuns: 0 }).step('s', () => 1), undefined],
    ['workflow retries -1', () => workflow('w3', { retries: -1 }).step('s', () => 1), undefined],
    ['workflow timeoutSeconds -5', () => workflow('w4', { timeoutSeconds: -5 }).step('s', () => 1), undefined],
    ['step retries 1.5', () => workflow('w5').step('s', { retries: 1.5 }, () => 1), 's'],
    ['step timeoutSeconds NaN', () => workflow('w6').step('s', { timeoutSeconds: Number.NaN }, () => 1), 's'],
  ];
  for (const [label, make, step] of badWorkflows) {
    it(`refuses ${label}${step ? ', naming the step' : ''}`, async () => {
      const executor = fx.executor();
      const error = thrownBy(make);
      expect(error).toBeInstanceOf(InvalidWorkflowError);
      expect((error as InvalidWorkflowError).step).toBe(step);
      expect((await executor.store.listRuns({})).runs).toEqual([]);
    });
  }
});
