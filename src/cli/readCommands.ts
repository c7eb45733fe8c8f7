import type { Command } from 'commander';
import { RunNotFoundError } from '../model/errors.js';
import { fromJson } from '../model/json.js';
import { RUN_STATUSES, type RunRecord, type RunStatus } from '../store/types.js';
import { openStoreFromOptions } from './openStore.js';

const fmtTime = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19));
const fmtDuration = (r: RunRecord) =>
  r.startedAt === null ? '-' : `${((r.finishedAt ?? Date.now()) - r.startedAt).toLocaleString('en')} ms`;

/** `braid runs` and `braid show`: read-only views of the store, with `--json` for scripts. */
export function registerReadCommands(program: Command): void {
  program
    .command('runs')
    .description('List runs, newest first')
    .option('-w, --workflow <name>', 'only this workflow')
    .option('-s, --status <status>', `only this status (${RUN_STATUSES.join(', ')})`)
    .option('--parent <runId>', 'only children of this run')
    .option('-n, --limit <n>', 'how many', '20')
    .option('--json', 'print JSON')
    .action(async (opts) => {
      if (opts.status && !RUN_STATUSES.includes(opts.status)) {
        program.error(`unknown status "${opts.status}"; use one of ${RUN_STATUSES.join(', ')}`, { exitCode: 2 });
      }
      const store = await openStoreFromOptions(program.opts());
      const page = await store.listRuns({
        ...(opts.workflow ? { workflow: opts.workflow } : {}),
        ...(opts.status ? { status: opts.status as RunStatus } : {}),
        ...(opts.parent ? { parentRunId: opts.parent } : {}),
        limit: Number(opts.limit),
      });
      await store.close();
      if (opts.json) {
        console.log(JSON.stringify(page.runs.map(publicRun), null, 2));
        return;
      }
      console.table(
        page.runs.map((r) => ({
          run: r.id,
          workflow: r.workflow,
          status: r.status,
          started: fmtTime(r.startedAt),
          duration: fmtDuration(r),
          parent: r.parentRunId ?? '',
        })),
      );
    });

  program
    .command('show <runId>')
    .description('Show one run: steps, children, output')
    .option('--json', 'print JSON')
    .action(async (runId: string, opts) => {
      const store = await openStoreFromOptions(program.opts());
      const run = await store.getRun(runId);
      if (!run) {
        await store.close();
        throw new RunNotFoundError(runId);
      }
      const steps = await store.getSteps(runId);
      const children = await store.countRuns({ parentRunId: runId });
      await store.close();
      if (opts.json) {
        console.log(JSON.stringify({ ...publicRun(run), steps: steps.map(publicStep), children }, null, 2));
        return;
      }
      console.log(`${run.workflow} ${run.id}: ${run.status} (${fmtDuration(run)})`);
      if (run.parentRunId) console.log(`spawned by ${run.parentRunId} / ${run.parentStep}`);
      console.table(steps.map((s) => ({ step: s.name, status: s.status, attempts: s.attempts, cacheHit: s.cacheHit })));
      if (Object.keys(children).length) console.log('children:', children);
      if (run.output !== null) console.log('output:', run.output);
      if (run.error !== null) console.log('error:', fromJson<{ message: string }>(run.error).message);
    });
}

function publicRun(r: RunRecord) {
  return {
    ...r,
    input: fromJson(r.input),
    output: fromJson(r.output),
    error: fromJson(r.error),
    globals: fromJson(r.globals),
  };
}

function publicStep(s: import('../store/types.js').StepRecord) {
  return { ...s, output: fromJson(s.output), error: fromJson(s.error), route: fromJson(s.route) };
}
