/**
 * A Braid process for the schedule crash test (schedules.crash.test.ts), run as
 * `node schedules.worker.js <config JSON>`: an executor on a SQLite file with a
 * per-second schedule whose step logs its tick (before and after a short piece of work) and says
 * `ready` once open. The test SIGKILLs it in the middle of a tick and starts it again.
 * schedules.worker.js is this file compiled for the test run (test/support/compiled.ts).
 */
import fs from 'node:fs';
import { SqliteStore, schedule, WorkflowExecutor, workflow } from '../../src/index.js';
import { runWorkerProcess } from '../support/workerProcess.js';

export interface ScheduleCrashConfig {
  dbPath: string;
  logPath: string;
}

async function main(config: ScheduleCrashConfig): Promise<void> {
  const log = (what: string, runId: string, scheduledAt: number | undefined) =>
    fs.appendFileSync(config.logPath, `${JSON.stringify({ what, runId, scheduledAt, pid: process.pid })}\n`);
  const tick = workflow('crash-tick').step('work', async (ctx) => {
    log('started', ctx.runId, ctx.schedule?.scheduledAt.getTime());
    await new Promise((resolve) => setTimeout(resolve, 400));
    log('finished', ctx.runId, ctx.schedule?.scheduledAt.getTime());
  });
  const executor = new WorkflowExecutor({
    store: new SqliteStore({ path: config.dbPath }),
    retention: false,
    schedules: [schedule(tick, { id: 'crash', cron: '* * * * * *', overlap: 'allow_all', catchupWindow: '1m' })],
  });
  await executor.open();
  process.stdout.write('ready local\n');
}

runWorkerProcess<ScheduleCrashConfig>(main);
