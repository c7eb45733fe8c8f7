import { type Command, Option } from 'commander';
import { ConflictingOptionsError } from '../errors.js';
import { addExecutorOptions, DEFAULT_WORKFLOW_FILE, databaseUrlOption, dbOption, parseSeconds } from '../options.js';
import { colorsFor } from '../render/colors.js';
import { plural } from '../render/format.js';

interface WorkerOptions {
  db: string;
  databaseUrl?: string;
  drain?: boolean;
  pool: Record<string, number>;
  maxParallel?: number;
  shutdownGrace: number;
}

const SQLITE_NOTE =
  'One executor runs a SQLite file at a time: a second worker, or `braid dev`, on the same file stops with ' +
  'StoreLockedError. To run several workers side by side, give them a PostgreSQL database (--database-url).';

export function registerWorker(program: Command): void {
  const command = program
    .command('worker')
    .description('Run and recover the runs of your workflows, without a server')
    .argument('[files...]', `files that export workflows (default: ${DEFAULT_WORKFLOW_FILE}, if it exists)`)
    .addOption(dbOption())
    .addOption(databaseUrlOption())
    .addOption(
      new Option('--shutdown-grace <seconds>', 'on SIGTERM, how long running steps may take to finish (Postgres)')
        .default(30)
        .argParser(parseSeconds),
    )
    .option('--drain', 'exit once the resumed runs have ended, instead of waiting for SIGTERM (SQLite)');
  addExecutorOptions(command)
    .addHelpText(
      'after',
      `
A worker is an executor process. On a SQLite file it resumes the unfinished runs of the workflows
in the files (after a crash, say), runs them to the end and logs each as it ends.

On PostgreSQL (--database-url, or BRAID_DATABASE_URL) start as many workers as you like, on as many
hosts: each registers the workflows (name and version) it loaded, claims runs of those workflows
as they are started from anywhere, and holds them under a lease it renews. If a worker dies, its
runs go to the others when the lease expires; finished steps never run again.

SIGTERM or Ctrl-C stops cleanly and exits 0. On Postgres the worker stops claiming, lets running
steps finish for up to --shutdown-grace seconds, then hands its runs to the other workers.

${SQLITE_NOTE}

Examples:
  $ braid worker src/workflows.ts --db .braid/braid.db
  $ braid worker src/workflows.ts --drain     # finish what a crashed process left, then exit
  $ BRAID_DATABASE_URL=postgres://braid:secret@db:5432/braid braid worker src/workflows.ts`,
    )
    .action((files: string[], options: WorkerOptions) => runWorker(files, options));
}

async function runWorker(files: string[], options: WorkerOptions): Promise<void> {
  if (options.drain && options.databaseUrl) {
    throw new ConflictingOptionsError(
      '--drain applies to a SQLite file; on PostgreSQL the other workers take over whatever this one leaves.',
    );
  }
  const c = colorsFor(process.stdout);
  // The engine, the store and the workflow files load here: `--help` and the HTTP commands never pay for them.
  const { describeOrphans, logRunEnds, onShutdownSignal, openHost } = await import('../hostExecutor.js');
  const print = (line: string) => console.log(line);
  const host = await openHost({
    files,
    db: options.db,
    databaseUrl: options.databaseUrl,
    pools: options.pool,
    maxParallel: options.maxParallel,
    shutdownGraceMs: options.shutdownGrace * 1000,
  });
  const runEnds = logRunEnds(host, c, print);
  print(`Braid worker on ${host.where} (pid ${process.pid})`);
  print(
    `  workflows  ${host.workflows.map((w) => `${w.name}@${w.version}`).join(', ')}  ${c.dim(`from ${host.files.join(', ')}`)}`,
  );
  if (host.executor.workerId) print(`  worker id  ${host.executor.workerId}`);
  else print(`  resumed    ${plural(host.resumed.length, 'unfinished run')}`);
  for (const handle of host.resumed) print(c.dim(`             ${handle.runId} (${handle.workflow})`));
  const orphans = describeOrphans(host.orphans);
  if (orphans) print(c.yellow(`  note: ${orphans}`));
  if (!options.databaseUrl) print(c.dim(`Note: ${SQLITE_NOTE}`));

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
