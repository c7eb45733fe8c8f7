import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidWorkflowError, MemoryStore, Workflow, WorkflowExecutor, workflow } from '../../src/index.js';
import { defineWorkflow, type StepDefinition } from '../../src/model/workflow.js';
import { propertyParameters } from './arbitraries.js';

/** Few distinct names, so parents often name real steps, duplicates and cycles happen. */
const name = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('a', 'b', 'c', 'd') },
  { weight: 2, arbitrary: fc.constantFrom('', '__proto__', 'constructor', 'toString', ' ', 'ü') },
  { weight: 1, arbitrary: fc.string({ maxLength: 3 }) },
);
const number = fc.oneof(
  fc.integer({ min: -2, max: 3 }),
  fc.constantFrom(0.5, Number.NaN, Number.POSITIVE_INFINITY, -0, 1e12),
);
/** Options as a careless caller writes them; the checks of retries, timeoutSeconds and backoff are the engine's. */
const stepSpec = fc.record(
  {
    name,
    parents: fc.oneof(fc.constant([]), fc.array(name, { maxLength: 3 })),
    retries: number,
    timeoutSeconds: number,
    backoff: fc.record({ initialMs: number, maxMs: number, factor: number }, { requiredKeys: [] }),
    routes: fc.oneof(fc.constant([]), fc.array(name, { maxLength: 2 })),
    hasRun: fc.boolean(),
  },
  { requiredKeys: ['name', 'parents', 'hasRun'] },
);

type Spec = typeof stepSpec extends fc.Arbitrary<infer T> ? T : never;

function options({ name: _name, hasRun: _hasRun, ...rest }: Spec) {
  return rest as Omit<StepDefinition, 'name' | 'run'>;
}
const runOf = (spec: Spec) => (spec.hasRun ? () => spec.name : undefined) as StepDefinition['run'];

/** Builds with `workflow().step()...validate()` or `defineWorkflow()`: a Workflow, or what was thrown. */
function define(workflowName: string, specs: Spec[], isData: boolean): unknown {
  try {
    if (isData) {
      return defineWorkflow(
        workflowName,
        {},
        specs.map((s) => ({ ...options(s), name: s.name, run: runOf(s) })),
      );
    }
    let wf: Workflow<unknown, any, any> = workflow(workflowName);
    for (const s of specs) wf = wf.step(s.name, options(s) as never, runOf(s) as never);
    return wf.validate();
  } catch (error) {
    return error;
  }
}

describe('properties: definitions', () => {
  it('any names, parents and options give a valid Workflow or an InvalidWorkflowError', () => {
    const seen = { valid: 0, refused: 0 };
    fc.assert(
      fc.property(
        fc.oneof(name, fc.constant('orders')),
        fc.array(stepSpec, { maxLength: 6 }),
        fc.boolean(),
        (workflowName, specs, isData) => {
          const out = define(workflowName, specs, isData);
          if (!(out instanceof Workflow)) {
            expect(out).toBeInstanceOf(InvalidWorkflowError);
            expect((out as InvalidWorkflowError).message).toMatch(/^Workflow "/);
            seen.refused++;
            return;
          }
          seen.valid++;
          // Valid: every step has a usable name, known parents, a function, and the graph is a DAG.
          const names = new Set(out.steps.map((s) => s.name));
          expect(names.size).toBe(out.steps.length);
          for (const step of out.steps) {
            expect(step.name).not.toBe('');
            expect(Object.hasOwn(Object.prototype, step.name)).toBe(false);
            expect(typeof step.run).toBe('function');
            for (const parent of step.parents) expect(names.has(parent)).toBe(true);
          }
        },
      ),
      { ...propertyParameters, numRuns: 400 },
    );
    // Both outcomes were exercised, not only one.
    expect(seen.valid).toBeGreaterThan(20);
    expect(seen.refused).toBeGreaterThan(20);
  });

  describe('and a valid one runs to an end', () => {
    const executor = new WorkflowExecutor({ store: new MemoryStore() });
    afterAll(() => executor.cleanup());
    /**
     * Only the DAG is random here (the options above are left to the engine's own checks): step i
     * is `s<i>`; most parents are earlier steps, and now and then one is any index (a forward
     * edge, maybe a cycle, or an unknown step).
     */
    const parent = fc.oneof(
      { weight: 6, arbitrary: fc.nat(5).map((back) => (i: number) => i - 1 - back) },
      { weight: 1, arbitrary: fc.nat(7).map((index) => () => index) },
    );
    const shape = fc.array(fc.array(parent, { maxLength: 3 }), { minLength: 1, maxLength: 6 }).map((parentLists) =>
      parentLists.map((parents, i) => ({
        name: `s${i}`,
        parents: [...new Set(parents.map((pick) => pick(i)).filter((p) => p >= 0))].map((p) => `s${p}`),
      })),
    );

    it('every step whose parents succeeded runs once, and the run succeeds', async () => {
      let n = 0;
      let ran = 0;
      await fc.assert(
        fc.asyncProperty(shape, async (specs) => {
          const wf = define(
            `dag-${n++}`,
            specs.map((s) => ({ ...s, hasRun: true })),
            true,
          );
          if (!(wf instanceof Workflow)) return;
          ran++;
          const timeout = new Promise<'hang'>((resolve) => setTimeout(() => resolve('hang'), 5000).unref());
          const result = await Promise.race([executor.execute(wf, {}), timeout]);
          if (result === 'hang') throw new Error('the run did not end within 5 s');
          expect(result.success).toBe(true);
          expect([...result.nodeExecutionOrder].sort()).toEqual(wf.steps.map((s) => s.name).sort());
        }),
        { ...propertyParameters, numRuns: 60 },
      );
      expect(ran).toBeGreaterThan(10);
    });
  });
});
