import type { Command } from 'commander';
import { addExecutorOptions, DEFAULT_WORKFLOW_FILE, dbOption } from '../options.js';
import { colorsFor } from '../render/colors.js';
import { plural } from '../render/format.js';

interface WorkerOptions {
  db: string;
  drain?: boolean;
  pool: Record<string, number>;
  maxParallel?: number;
}

const SQLITE_NOTE =
  'One executor runs a SQLite file at a time: a second worker, or `braid dev`, on the same file stops with ' +
  'StoreLockedError. Running several workers side by side needs PostgreSQL, which Braid does not support yet.';

export function registerWorker(program: Command): void {
  const command = program
    .command('worker')
    .description('Run and recover the runs of your workflows, without a server')
    .argument('[files...]', `files that export workflows (default: ${DEFAULT_WORKFLOW_FILE}, if it exists)`)
    .addOption(dbOption())
    .option('--drain', 'exit once the resumed runs have ended, instead of waiting for SIGTERM');
  addExecutorOptions(command)
    .addHelpText(
      'after',
      `
A worker is an executor process: it resumes the unfinished runs of the workflows in the files
(after a crash, say), runs them to the end and logs each as it ends. SIGTERM or Ctrl-C stops it
cleanly (running steps resume on the next start) and it exits 0.

${SQLITE_NOTE}

Examples:
  $ braid worker src/workflows.ts --db .braid/braid.db
  $ braid worker src/workflows.ts --drain     # finish what a crashed process left, then exit`,
    )
    .action((files: string[], options: WorkerOptions) => runWorker(files, options));
}

async function runWorker(files: string[], options: WorkerOptions): Promise<void> {
  const c = colorsFor(process.stdout);
  // The engine, SQLite and the workflow files load here: `--help` and the HTTP commands never pay for them.
  const { describeOrphans, logRunEnds, onShutdownSignal, openHost } = await import('../hostExecutor.js');
  const print = (line: string) => console.log(line);
  const host = await openHost({ files, db: options.db, pools: options.pool, maxParallel: options.maxParallel });
  const runEnds = logRunEnds(host, c, print);
  print(`Braid worker on ${options.db} (pid ${process.pid})`);
  print(`  workflows  ${host.workflows.map((w) => w.name).join(', ')}  ${c.dim(`from ${host.files.join(', ')}`)}`);
  print(`  resumed    ${plural(host.resumed.length, 'unfinished run')}`);
  for (const handle of host.resumed) print(c.dim(`             ${handle.runId} (${handle.workflow})`));
  const orphans = describeOrphans(host.orphans);
  if (orphans) print(c.yellow(`  note: ${orphans}`));
  print(c.dim(`Note: ${SQLITE_NOTE}`));

  const stop = async () => {
    clearInterval(keepAlive);
    runEnds.stop();
    await host.close();
  };
  // Nothing else holds the event loop open while no run is in flight (SQLite calls are synchronous).
  const keepAlive = setInterval(() => {}, 60_000);
  onShutdownSignal(stop, print);
  if (!options.drain) return;
  await Promise.allSettled(host.resumed.map((handle) => handle.result()));
  await runEnds.flush();
  print('Every resumed run has ended: exiting.');
  await stop();
}
