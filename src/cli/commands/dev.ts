import { type Command, Option } from 'commander';
import { PortInUseError } from '../errors.js';
import {
  addExecutorOptions,
  DEFAULT_PORT,
  DEFAULT_URL,
  DEFAULT_WORKFLOW_FILE,
  databaseUrlOption,
  dbOption,
  parsePort,
} from '../options.js';
import { colorsFor } from '../render/colors.js';
import { plural } from '../render/format.js';

interface DevOptions {
  db: string;
  databaseUrl?: string;
  host: string;
  port: number;
  token?: string;
  pool: Record<string, number>;
  maxParallel?: number;
}

export function registerDev(program: Command): void {
  const command = program
    .command('dev')
    .description('Run your workflows in this process, with the HTTP API and the dashboard (for development)')
    .argument('[files...]', `files that export workflows (default: ${DEFAULT_WORKFLOW_FILE}, if it exists)`)
    .addOption(dbOption())
    .addOption(databaseUrlOption())
    .addOption(
      new Option('--host <host>', 'address to listen on; beyond loopback, --token is required').default('127.0.0.1'),
    )
    .addOption(
      new Option('--port <port>', 'port to listen on (0: any free port)')
        .env('BRAID_PORT')
        .default(DEFAULT_PORT)
        .argParser(parsePort),
    )
    .addOption(new Option('--token <token>', 'require `Authorization: Bearer <token>` on the API').env('BRAID_TOKEN'));
  addExecutorOptions(command)
    .addHelpText(
      'after',
      `
The files are imported and every exported workflow (or array of workflows) is registered.
TypeScript files load as they are in a Braid checkout, or when tsx is installed; otherwise
pass compiled .js files or run \`node --import tsx node_modules/braid/bin/braid.js dev ...\`.
Unfinished runs in the database resume at start. Nothing opens a browser: the URL is printed.
Ctrl-C (SIGINT) or SIGTERM stops cleanly: running steps resume on the next start.
With --database-url (BRAID_DATABASE_URL) the runs live in PostgreSQL, and this process is one
worker among any number of \`braid worker\` processes on the same database.

Examples:
  $ braid dev src/workflows.ts
  $ braid dev src/workflows.ts --port 0 --db /tmp/braid.db
  $ braid dev src/workflows.ts --database-url postgres://braid:secret@localhost:5432/braid`,
    )
    .action((files: string[], options: DevOptions) => runDev(files, options));
}

async function runDev(files: string[], options: DevOptions): Promise<void> {
  const c = colorsFor(process.stdout);
  // The engine, SQLite and the workflow files load here: `--help` and the HTTP commands never pay for them.
  const { describeOrphans, logRunEnds, onShutdownSignal, openHost } = await import('../hostExecutor.js');
  const host = await openHost({
    files,
    db: options.db,
    databaseUrl: options.databaseUrl,
    pools: options.pool,
    maxParallel: options.maxParallel,
  });
  // The server is loaded only here: the other commands never pay for hono and the OpenAPI schemas.
  const { startServer } = await import('../../server/index.js');
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer(host.executor, {
      host: options.host,
      port: options.port,
      ...(options.token ? { token: options.token } : {}),
    });
  } catch (error) {
    await host.close();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new PortInUseError(options.host, options.port, error);
    throw error;
  }

  const { url } = server;
  const print = (line: string) => console.log(line);
  print(`Braid dev server: ${c.bold(url)}`);
  print(`  dashboard  ${url}/`);
  print(`  API        ${url}/api  (described at ${url}/openapi.json)`);
  print(`  workflows  ${host.workflows.map((w) => w.name).join(', ')}  ${c.dim(`from ${host.files.join(', ')}`)}`);
  print(`  database   ${host.where}`);
  if (host.resumed.length) print(`  resumed    ${plural(host.resumed.length, 'unfinished run')}`);
  const orphans = describeOrphans(host.orphans);
  if (orphans) print(c.yellow(`  note: ${orphans}`));
  const urlFlag = url === DEFAULT_URL ? '' : ` --url ${url}`;
  const first = host.workflows[0]!.name;
  print(c.dim(`Start a run: braid run ${first}${urlFlag} --input '<json>' --wait. Stop with Ctrl-C.`));

  const runEnds = logRunEnds(host, c, print);
  onShutdownSignal(async () => {
    runEnds.stop();
    await server.close();
    await host.close();
  }, print);
}
