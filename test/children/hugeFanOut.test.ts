import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type Store, WorkflowExecutor, workflow } from '../../src/index.js';
import { listAllRuns, removeTempDirs, storeKinds } from './helpers.js';

// 20,000 locally; CI machines get a smaller fan-out with the same shape.
const N = process.env.CI ? 2_000 : 20_000;

const item = workflow('item', { input: z.object({ i: z.number() }) }).step('value', (ctx) => ctx.input.i);

const oneCall = workflow('fan-out-one-call').step('fan', async (ctx) => {
  const handles = ctx.spawnWorkflows(Array.from({ length: N }, (_, i) => ({ workflow: item, input: { i } })));
  const outputs = await ctx.join(handles);
  return outputs.reduce((a, b) => a + b, 0);
});

const loop = workflow('fan-out-loop').step('fan', async (ctx) => {
  const handles = [];
  for (let i = 0; i < N; i++) handles.push(ctx.spawnWorkflow(item, { i }));
  const outputs = await ctx.join(handles);
  return outputs.reduce((a, b) => a + b, 0);
});

let executor: WorkflowExecutor | undefined;
afterEach(async () => {
  await executor?.cleanup();
  executor = undefined;
});
afterAll(removeTempDirs);

async function countEvents(store: Store): Promise<Map<string, number>> {
  const byType = new Map<string, number>();
  for (const e of await store.listEvents({ limit: Number.MAX_SAFE_INTEGER })) {
    byType.set(e.type, (byType.get(e.type) ?? 0) + 1);
  }
  return byType;
}

describe.each(storeKinds)(`a fan-out of ${N} children from one step ($kind)`, ({ make }) => {
  it.each([
    ['one spawnWorkflows call', oneCall],
    ['a spawnWorkflow loop', loop],
  ] as const)(
    'joins them all with %s under the default maxParallelNodes',
    async (_name, parent) => {
      executor = new WorkflowExecutor({ store: make() });
      const result = await executor.execute(parent, undefined);
      expect(result.error).toBeUndefined();
      expect(result.status).toBe('succeeded');
      expect(result.output).toBe(((N - 1) * N) / 2);

      const store = executor.store;
      expect(await store.countRuns({ parentRunId: result.runId })).toEqual({ succeeded: N });
      const children = await listAllRuns(store, { parentRunId: result.runId });
      expect(children).toHaveLength(N);
      expect(new Set(children.map((c) => c.spawnKey)).size).toBe(N);
      const sum = children.reduce((acc, c) => acc + (JSON.parse(c.output ?? '0') as number), 0);
      expect(sum).toBe(result.output);

      // Each child and the parent: its one step started and succeeded, and the run succeeded.
      const events = await countEvents(store);
      for (const type of ['step_started', 'step_succeeded', 'run_succeeded']) {
        expect(events.get(type), type).toBe(N + 1);
      }
      expect(events.get('step_failed')).toBeUndefined();
    },
    120_000,
  );
});
