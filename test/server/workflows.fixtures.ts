import * as v from 'valibot';
import { z } from 'zod';
import { workflow } from '../../src/index.js';

/** A two-step order pipeline with a zod input schema. */
export const order = workflow('order', {
  input: z.object({ id: z.string(), qty: z.number().int().positive() }),
  description: 'Prices an order',
})
  .step('fetch', (ctx) => ({ id: ctx.input.id, qty: ctx.input.qty, unit: 4 }))
  .step('price', { parents: ['fetch'], retries: 2, timeoutSeconds: 5, cache: true }, (ctx) => {
    const f = ctx.parent('fetch');
    return f.qty * f.unit;
  });

/** A workflow whose input schema is valibot: no JSON Schema can be derived. */
export const greet = workflow('greet', { input: v.object({ name: v.string() }) }).step(
  'hello',
  (ctx) => `hello ${ctx.input.name}`,
);

/** Waits on a gate the test opens, so the test can act while the run is in flight. */
export function gatedWorkflow(name = 'gated') {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const wf = workflow(name)
    .step('first', async () => {
      await gate;
      return 1;
    })
    .step('second', { parents: ['first'] }, () => 2);
  return { workflow: wf, open };
}

export const child = workflow('child', { input: z.object({ i: z.number() }) }).step('double', (ctx) => ctx.input.i * 2);

/** Spawns `n` children from one step and joins them. */
export const fanOut = workflow('fan-out', { input: z.object({ n: z.number() }) }).step('spawn', async (ctx) => {
  const handles = Array.from({ length: ctx.input.n }, (_, i) => ctx.spawnWorkflow(child, { i }));
  const doubled = await ctx.join(handles);
  return doubled.reduce((a, b) => a + b, 0);
});
