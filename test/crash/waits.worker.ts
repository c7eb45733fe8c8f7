/**
 * A Braid process for the durable-waits crash test, run as `node waits.worker.js
 * <config JSON>` with an IPC channel. It opens a WorkflowExecutor on a SQLite file, (re)starts
 * `runs` runs of `crash-waits` with idempotency keys `wait-run-<i>`, and then:
 * - every 50 ms tells the driver which runs have a pending event or input wait;
 * - sends an event or gives an input when the driver asks, and answers with the outcome
 *   (as an HTTP API in front of the executor would);
 * - once every run has ended, writes a summary and exits 0.
 * The test SIGKILLs it at random moments and starts it again. Every step logs as it begins, as
 * each sleep is asked for and returns, and as it gets past its last wait (see WaitsLogLine).
 * waits.worker.js is this file compiled for the test run (test/support/compiled.ts).
 */
import fs from 'node:fs';
import { z } from 'zod';
import { SqliteStore, WorkflowExecutor, workflow } from '../../src/index.js';
import {
  eventPayloadOf,
  inputValueOf,
  napMsOf,
  SECOND_SLEEP_MS,
  type SendOutcome,
  type SendRequest,
  WAITS_WORKFLOW,
  type WaitsLogLine,
  type WaitsSummary,
  type WaitsWorkerConfig,
  type WorkerMessage,
} from './waits.harness.js';

function main(config: WaitsWorkerConfig): void {
  const log = (line: WaitsLogLine) => fs.appendFileSync(config.logPath, `${JSON.stringify(line)}\n`);
  const life = config.life;
  const send = (message: WorkerMessage) => process.send?.(message);

  const wf = workflow(WAITS_WORKFLOW, { input: z.object({ i: z.number(), napMs: z.number() }) })
    .step('nap', async (ctx) => {
      log({ type: 'invoke', life, at: Date.now(), runId: ctx.runId, step: 'nap' });
      for (const [key, ms, options] of [
        ['sleep#0', ctx.input.napMs, undefined],
        ['sleep:second', SECOND_SLEEP_MS, { name: 'second' }],
      ] as const) {
        // The call computes its deadline as it is made; the line is written before anything commits.
        const due = Date.now() + ms;
        const slept = ctx.sleep(ms, options);
        log({ type: 'asked', life, at: Date.now(), runId: ctx.runId, key, due });
        await slept;
        log({ type: 'woke', life, at: Date.now(), runId: ctx.runId, key });
      }
      log({ type: 'effect', life, at: Date.now(), runId: ctx.runId, step: 'nap' });
      return ctx.input.i;
    })
    .step('hear', { parents: ['nap'] }, async (ctx) => {
      log({ type: 'invoke', life, at: Date.now(), runId: ctx.runId, step: 'hear' });
      const event = await ctx.waitForEvent('crash.go', { match: { i: ctx.input.i } });
      log({ type: 'effect', life, at: Date.now(), runId: ctx.runId, step: 'hear' });
      return event;
    })
    .step('ask', { parents: ['nap', 'hear'] }, async (ctx) => {
      log({ type: 'invoke', life, at: Date.now(), runId: ctx.runId, step: 'ask' });
      // Asked twice: two occurrences of one input (`input:approve#0`, `#1`), each answered once.
      const values: unknown[] = [];
      for (let round = 0; round < 2; round++) {
        values.push(await ctx.waitForInput('approve', { schema: z.object({ by: z.string() }), payload: { round } }));
      }
      log({ type: 'effect', life, at: Date.now(), runId: ctx.runId, step: 'ask' });
      return { nap: ctx.parent('nap'), hear: ctx.parent('hear'), ask: values };
    });

  const executor = new WorkflowExecutor({ store: new SqliteStore({ path: config.dbPath }), workflows: [wf] });

  const run = async () => {
    log({ type: 'boot', life, at: Date.now() });
    await executor.open();
    const handles = await Promise.all(
      Array.from({ length: config.runs }, (_, i) =>
        executor.start(wf, { i, napMs: napMsOf(i) }, { idempotencyKey: `wait-run-${i}` }),
      ),
    );
    const runIds = handles.map((h) => h.runId);
    send({ type: 'ready', runIds });

    process.on('message', (request: SendRequest) => {
      const runId = runIds[request.i] as string;
      const act =
        request.kind === 'event'
          ? executor.sendEvent('crash.go', eventPayloadOf(request.i), { idempotencyKey: `go-${request.i}` })
          : executor.provideInput(runId, 'approve', inputValueOf(request.i));
      act.then(
        (value) => {
          const outcome: SendOutcome =
            'duplicate' in value ? { ok: true, duplicate: value.duplicate, delivered: value.delivered } : { ok: true };
          send({ type: 'sent', id: request.id, outcome });
        },
        (error) =>
          send({
            type: 'sent',
            id: request.id,
            outcome: { ok: false, code: String(error?.code), message: String(error?.message) },
          }),
      );
    });

    let reporting = false;
    const report = setInterval(() => {
      if (reporting) return;
      reporting = true;
      Promise.all(runIds.map((id) => executor.waits(id)))
        .then((all) => {
          const events: number[] = [];
          const inputs: Array<{ i: number; key: string }> = [];
          all.forEach((waits, i) => {
            for (const w of waits) {
              if (w.status !== 'pending') continue;
              if (w.kind === 'event') events.push(i);
              if (w.kind === 'input') inputs.push({ i, key: w.key });
            }
          });
          send({ type: 'pending', events, inputs });
        })
        .catch(() => {})
        .finally(() => {
          reporting = false;
        });
    }, 50);

    const results = await Promise.all(handles.map((h) => h.result()));
    clearInterval(report);
    const summary: WaitsSummary = {
      runs: results.map((r, i) => ({ i, runId: r.runId, status: r.status, output: r.output })),
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

main(JSON.parse(process.argv[2] ?? '{}') as WaitsWorkerConfig);
