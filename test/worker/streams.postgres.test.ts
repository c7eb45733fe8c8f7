/**
 * Step output streams and progress across processes sharing PostgreSQL (two executors in one test
 * process, each with its own pool and LISTEN connection, as two processes would have): a worker runs
 * the step, a process with no worker (an API server, say) reads its stream live and its progress.
 */
import { describe, expect, it, vi } from 'vitest';
import { workflow } from '../../src/index.js';
import { postgresWorkers } from '../support/postgresWorkers.js';

// A long safety poll: what these tests see arrives by notification.
const { executor } = postgresWorkers({ leaseMs: 5_000, heartbeatMs: 1_000, pollMs: 60_000 });

function gate() {
  let open!: () => void;
  const isOpen = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { isOpen, open };
}

describe('streams and progress on PostgreSQL', () => {
  it("a process that runs no steps follows a worker's stream live and sees the step's progress, forgotten when the run ends", async () => {
    const steps = [gate(), gate()];
    const wf = workflow('pg-streamer').step('write', async (ctx) => {
      ctx.progress({ done: 0, total: 2 });
      await ctx.emit('first');
      await steps[0]!.isOpen;
      ctx.progress({ done: 1, total: 2 });
      await ctx.emit('second');
      await steps[1]!.isOpen;
      return null;
    });
    await executor({ workflows: [wf] }).open();
    const reader = executor({ worker: false });
    const handle = await reader.start(wf, {});
    const seen: unknown[] = [];
    const reading = (async () => {
      for await (const chunk of reader.stream(handle.runId, { step: 'write' })) {
        seen.push(chunk.data);
        if (chunk.data === 'first') steps[0]!.open();
      }
    })();
    await vi.waitFor(() => expect(seen).toEqual(['first', 'second']), { timeout: 10_000 });
    // The step waits on the second gate: its progress reached this process by notification.
    await vi.waitFor(
      () =>
        expect(reader.progress(handle.runId)).toEqual({
          write: { value: { done: 1, total: 2 }, at: expect.any(Number) },
        }),
      { timeout: 10_000 },
    );
    steps[1]!.open();
    await reading;
    expect(seen).toEqual(['first', 'second']);
    expect((await handle.result()).success).toBe(true);
    await vi.waitFor(() => expect(reader.progress(handle.runId)).toEqual({}), { timeout: 10_000 });
  });
});
