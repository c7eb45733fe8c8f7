/**
 * The output type a step gets from its function and its fallback: what `ctx.parent(name)` returns to
 * the steps after it. These are checked by the type-checker (`npm test` runs tsc over test/); the
 * runtime part only shows the types describe what the engine does.
 */
import { describe, expectTypeOf, it } from 'vitest';
import { MemoryStore, NonRetryableError, WorkflowExecutor, workflow } from '../../src/index.js';
import type { WorkflowOutput } from '../../src/model/context.js';

describe('step output types', () => {
  it("counts a fallback's value in the output of a step whose function only throws", async () => {
    const flow = workflow('declined')
      // The README's second example: the function only throws, so the output is the fallback's.
      .step('charge', { fallback: (_ctx, error) => ({ charged: false, reason: error.message }) }, () => {
        throw new NonRetryableError('card declined');
      })
      .step('only-throws', { fallback: () => 'fallback' as const }, () => {
        throw new NonRetryableError('always');
      })
      .step('notify', { parents: ['charge', 'only-throws'] }, (ctx) => {
        expectTypeOf(ctx.parent('charge')).toEqualTypeOf<{ charged: boolean; reason: string }>();
        expectTypeOf(ctx.parent('only-throws')).toEqualTypeOf<'fallback'>();
        return ctx.parent('charge').charged ? 'sent' : `not sent: ${ctx.parent('charge').reason}`;
      });
    expectTypeOf<WorkflowOutput<typeof flow>>().toEqualTypeOf<string>();

    const executor = new WorkflowExecutor({ store: new MemoryStore() });
    const result = await executor.execute(flow, {});
    await executor.cleanup();
    expectTypeOf(result.output).toEqualTypeOf<string | undefined>();
    if (result.output !== 'not sent: card declined') throw new Error(`unexpected output ${result.output}`);
  });

  it('counts an async fallback and a named fallback step by their resolved values', () => {
    const flow = workflow('fallbacks')
      .step('a', { fallback: async () => 1 }, (): string => 'one')
      .step('b', { fallback: { name: 'manual', run: () => ({ manual: true }) } }, () => {
        throw new Error('down');
      })
      .step('c', { parents: ['a', 'b'] }, (ctx) => {
        expectTypeOf(ctx.parent('a')).toEqualTypeOf<string | number>();
        expectTypeOf(ctx.parent('b')).toEqualTypeOf<{ manual: boolean }>();
        return null;
      });
    expectTypeOf(flow).not.toBeAny();
  });

  it('keeps the output of a step without a fallback as its function returns it', () => {
    workflow('plain')
      .step('n', () => 1)
      .step('routed', { parents: ['n'], routes: ['x'] }, (ctx) => ctx.route('x', { total: ctx.parent('n') }))
      .step('x', { parents: ['routed'] }, (ctx) => {
        expectTypeOf(ctx.parent('n')).toEqualTypeOf<number>();
        expectTypeOf(ctx.parent('routed')).toEqualTypeOf<{ total: number }>();
        return ctx.parent('routed').total;
      });
  });
});
