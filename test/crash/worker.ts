/**
 * A Braid process for the crash tests, run as `node worker.js <config JSON>`. It opens
 * a WorkflowExecutor on a SQLite file, starts the configured runs with idempotency keys `run-<i>`
 * (so a restarted worker re-attaches to them instead of starting new ones), waits for all of them,
 * writes a JSON summary and exits 0. The tests SIGKILL it at random points and start it again.
 *
 * Every step appends one line to a side-effect log (fs.appendFileSync, before it returns): the
 * tests compare those lines with the step_started / step_succeeded events in the store.
 * worker.js is this file compiled for the test run (test/support/compiled.ts).
 */
import fs from 'node:fs';
import { z } from 'zod';
import { SqliteStore, type StepContext, WorkflowExecutor, workflow } from '../../src/index.js';
import {
  CHILD_WORKFLOW,
  DAG_WORKFLOW,
  type EffectLine,
  FANOUT_WORKFLOW,
  type WorkerConfig,
  type WorkerSummary,
} from './harness.js';

function main(config: WorkerConfig): void {
  const [minMs, maxMs] = config.stepMs;
  const work = () => new Promise((resolve) => setTimeout(resolve, minMs + Math.random() * (maxMs - minMs)));
  const effect = (ctx: StepContext<any, any>, key: string | null) => {
    const line: EffectLine = { runId: ctx.runId, step: ctx.stepName, attempt: ctx.attempt, key };
    fs.appendFileSync(config.logPath, `${JSON.stringify(line)}\n`);
  };

  const dag = workflow(DAG_WORKFLOW, { input: z.object({ x: z.number() }) })
    .step('a', async (ctx) => {
      await work();
      effect(ctx, null);
      return ctx.input.x + 1;
    })
    .step('b', { parents: ['a'] }, async (ctx) => {
      await work();
      effect(ctx, null);
      return ctx.parent('a') * 2;
    })
    .step('c', { parents: ['a'] }, async (ctx) => {
      await work();
      effect(ctx, null);
      return ctx.parent('a') * 3;
    })
    .step('d', { parents: ['b', 'c'] }, async (ctx) => {
      await work();
      effect(ctx, null);
      return ctx.parent('b') + ctx.parent('c');
    });

  const child = workflow(CHILD_WORKFLOW, { input: z.object({ p: z.number(), j: z.number() }) }).step(
    'work',
    async (ctx) => {
      await work();
      effect(ctx, `${ctx.input.p}/${ctx.input.j}`);
      return ctx.input.p * 1000 + ctx.input.j;
    },
  );

  const fanout = workflow(FANOUT_WORKFLOW, { input: z.object({ p: z.number() }) }).step('spawn', async (ctx) => {
    const handles = ctx.spawnWorkflows(
      Array.from({ length: config.children }, (_, j) => ({
        workflow: child,
        input: { p: ctx.input.p, j },
        ...(config.explicitKeys ? { options: { key: `c-${j}` } } : {}),
      })),
    );
    const outputs = await ctx.join(handles);
    effect(ctx, null);
    return outputs.reduce((a, b) => a + b, 0);
  });

  const executor = new WorkflowExecutor({
    store: new SqliteStore({ path: config.dbPath }),
    workflows: [dag, child, fanout],
    maxParallelNodes: config.maxParallelNodes,
  });

  const run = async () => {
    await executor.open();
    const starts = [];
    for (let i = 0; i < config.dagRuns; i++) {
      starts.push(executor.start(dag, { x: i }, { idempotencyKey: `run-${i}` }));
    }
    for (let p = 0; p < config.fanoutRuns; p++) {
      starts.push(executor.start(fanout, { p }, { idempotencyKey: `run-${config.dagRuns + p}` }));
    }
    const handles = await Promise.all(starts);
    const results = await Promise.all(handles.map((h) => h.result()));
    const summary: WorkerSummary = {
      runs: results.map((r, i) => ({
        key: `run-${i}`,
        runId: r.runId,
        workflow: r.workflow,
        status: r.status,
        output: r.output,
      })),
    };
    // Written whole or not at all: a kill mid-write must not leave half a summary.
    fs.writeFileSync(`${config.summaryPath}.tmp`, JSON.stringify(summary));
    fs.renameSync(`${config.summaryPath}.tmp`, config.summaryPath);
    await executor.cleanup();
  };

  run().then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}

process.stdout.write('booted\n');
main(JSON.parse(process.argv[2] ?? '{}') as WorkerConfig);
