import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryStore, WorkflowExecutor, workflow } from '../../src/index.js';
import { NotSerializableError, serializeError } from '../../src/model/errors.js';
import { canonicalJson, toJson } from '../../src/model/json.js';
import { anyValue, build, propertyParameters, type Recipe } from './arbitraries.js';

/** The JSON text of `value`, or the NotSerializableError it raises; anything else fails the property. */
function jsonOrRefusal(value: unknown): string | NotSerializableError {
  try {
    return toJson(value, 'The value');
  } catch (error) {
    if (error instanceof NotSerializableError) return error;
    throw error;
  }
}

describe('properties: any value through the model', () => {
  it('toJson gives JSON text that parses, or a NotSerializableError', () => {
    fc.assert(
      fc.property(anyValue, (recipe) => {
        const value = build(recipe);
        const out = jsonOrRefusal(value);
        if (typeof out === 'string') JSON.parse(out);
        else expect(out.message).toMatch(/^The value cannot be stored as JSON: /);
      }),
      propertyParameters,
    );
  });

  it('canonicalJson gives text or a NotSerializableError, and is the same after a store round trip', () => {
    fc.assert(
      fc.property(anyValue, (recipe) => {
        const value = build(recipe);
        let canonical: string | undefined;
        try {
          canonical = canonicalJson(value);
        } catch (error) {
          expect(error).toBeInstanceOf(NotSerializableError);
        }
        const stored = jsonOrRefusal(value);
        // A cache key or spawn key computed live must match the one computed from the stored input.
        if (typeof stored === 'string') expect(canonicalJson(JSON.parse(stored))).toBe(canonical);
      }),
      propertyParameters,
    );
  });

  it('serializeError never throws, and what it gives survives JSON', () => {
    fc.assert(
      fc.property(anyValue, (recipe) => {
        const thrown = build(recipe);
        const out = serializeError(thrown);
        expect(typeof out.name).toBe('string');
        expect(typeof out.message).toBe('string');
        expect(JSON.parse(JSON.stringify(out))).toEqual(out);
      }),
      propertyParameters,
    );
  });
});

describe('properties: any value as a step output, through an executor', () => {
  const executor = new WorkflowExecutor({ store: new MemoryStore() });
  afterAll(() => executor.cleanup());

  /**
   * What a step returns is awaited by JavaScript's own rules before Braid sees it: a thenable is
   * followed, and one that never settles would hang by design, so none is generated.
   */
  const isThenable = (recipe: Recipe) =>
    'object' in recipe &&
    recipe.object.some(([k, item]) => k === 'then' && 'hostile' in item && item.hostile === 'function');
  it('the run succeeds with the JSON form of the value, or the step fails with NotSerializableError', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        anyValue.filter((recipe) => !isThenable(recipe)),
        async (recipe) => {
          const value = build(recipe);
          const wf = workflow(`returns-${n++}`).step('give', () => value);
          const timeout = new Promise<'hang'>((resolve) => setTimeout(() => resolve('hang'), 5000).unref());
          const result = await Promise.race([executor.execute(wf, {}), timeout]);
          if (result === 'hang') throw new Error('the run did not end within 5 s');
          const stored = jsonOrRefusal(value);
          const steps = await executor.store.getSteps(result.runId);
          if (typeof stored === 'string') {
            expect(result.success).toBe(true);
            expect(steps[0]?.output).toBe(stored);
            expect(JSON.stringify(result.output) ?? 'null').toBe(stored);
          } else {
            expect(result.success).toBe(false);
            expect(result.error?.message).toContain('cannot be stored as JSON');
            expect(steps[0]?.status).toBe('failed');
            expect(JSON.parse(steps[0]!.error!).message).toContain('cannot be stored as JSON');
          }
        },
      ),
      { ...propertyParameters, numRuns: 60 },
    );
  });

  it('any thrown value fails the step with a stored error, and the run ends', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(anyValue, fc.boolean(), async (recipe, isAsync) => {
        const thrown = build(recipe);
        const fail = () => {
          throw thrown;
        };
        const wf = workflow(`throws-${n++}`).step('boom', isAsync ? async () => fail() : fail);
        const timeout = new Promise<'hang'>((resolve) => setTimeout(() => resolve('hang'), 5000).unref());
        const result = await Promise.race([executor.execute(wf, {}), timeout]);
        if (result === 'hang') throw new Error('the run did not end within 5 s');
        expect(result.success).toBe(false);
        const [step] = await executor.store.getSteps(result.runId);
        expect(step?.status).toBe('failed');
        expect(JSON.parse(step!.error!)).toEqual(serializeError(thrown));
      }),
      { ...propertyParameters, numRuns: 60 },
    );
  });
});
