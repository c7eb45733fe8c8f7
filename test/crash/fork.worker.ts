/**
 * A Braid process for the fork crash test, run as `node fork.worker.js <JSON order>`.
 * Orders: `original` runs the workflow once and prints its run id; `fork` calls `executor.fork()`
 * and SIGKILLs itself `killAfterMs` later (-1: in the same tick as the call; 'committed': as soon as
 * fork() resolves, with the fork's steps still to run); `recover` opens the file (which resumes
 * unfinished runs), waits for every fork of the original to end and prints them as JSON.
 * Every step appends `{ runId, step }` to the effect log before it returns.
 * fork.worker.js is this file compiled for the test run (test/support/compiled.ts).
 */
import fs from 'node:fs';
import { z } from 'zod';
import { SqliteStore, WorkflowExecutor, workflow } from '../../src/index.js';
import type { ForkOrder } from './fork.harness.js';

async function main(order: ForkOrder): Promise<void> {
  const effect = (runId: string, step: string) =>
    fs.appendFileSync(order.logPath, `${JSON.stringify({ runId, step })}\n`);
  const pause = () => new Promise((resolve) => setTimeout(resolve, 60));
  const wf = workflow('crash-fork', { input: z.object({ x: z.number() }) })
    .step('a', async (ctx) => {
      await pause();
      effect(ctx.runId, 'a');
      return ctx.input.x + 1;
    })
    .step('b', { parents: ['a'] }, async (ctx) => {
      await pause();
      effect(ctx.runId, 'b');
      return (ctx.parent('a') as number) * 10;
    })
    .step('c', { parents: ['b'] }, async (ctx) => {
      await pause();
      effect(ctx.runId, 'c');
      return (ctx.parent('b') as number) + ctx.input.x * 100;
    });
  const executor = new WorkflowExecutor({ store: new SqliteStore({ path: order.dbPath }), workflows: [wf] });

  if (order.mode === 'original') {
    const result = await executor.execute(wf, { x: 1 });
    await executor.cleanup();
    process.stdout.write(`${JSON.stringify({ runId: result.context.runId, output: result.output })}\n`);
    return;
  }
  const originalId = order.originalId as string;
  if (order.mode === 'fork') {
    await executor.open();
    const forking = executor.fork(originalId, { from: 'b', input: { x: 5 } });
    const kill = () => process.kill(process.pid, 'SIGKILL');
    if (order.killAfterMs === 'committed') forking.then(kill, kill);
    else if (order.killAfterMs === undefined || order.killAfterMs < 0) kill();
    else setTimeout(kill, order.killAfterMs);
    await forking;
    await new Promise(() => {}); // the kill comes first
  }
  await executor.open();
  const forks = await executor.forksOf(originalId);
  const ended = [];
  for (const fork of forks) {
    const result = await (await executor.getHandle(fork.runId)).result();
    ended.push({ runId: fork.runId, status: result.status, output: result.output });
  }
  await executor.cleanup();
  process.stdout.write(`${JSON.stringify(ended)}\n`);
}

main(JSON.parse(process.argv[2] as string) as ForkOrder).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
