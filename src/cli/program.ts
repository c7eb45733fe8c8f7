import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerDebounces } from './commands/debounces.js';
import { registerDev } from './commands/dev.js';
import { registerFork } from './commands/fork.js';
import { registerLimitCommands } from './commands/limits.js';
import { registerMigrate } from './commands/migrate.js';
import { registerPrune } from './commands/prune.js';
import { registerReadCommands } from './commands/read.js';
import { registerRun } from './commands/run.js';
import { registerScheduleCommands } from './commands/schedules.js';
import { registerSteerCommands } from './commands/steer.js';
import { registerWaitCommands } from './commands/waits.js';
import { registerWorker } from './commands/worker.js';

/** This file is two levels below the package root in src/cli and dist/cli alike. */
const PACKAGE_JSON = new URL('../../package.json', import.meta.url);

const EXIT_CODES_HELP = `
Exit codes:
  0  done (with --wait: the run succeeded)
  1  the run failed, was cancelled or timed out; the server refused (finished run, token);
     or the database cannot be opened
  2  bad usage: unknown option, missing argument, --input or --data that is not JSON
     (with --json, also as {"error": {"code", "message"}} on stdout)
  3  no Braid server answers at --url (start \`braid dev\`, or set BRAID_URL)
  4  unknown run or workflow
  5  a schema refused the value: the workflow's for --input, the input's for \`braid input --data\`,
     a triggered workflow's for \`send-event --data\` (the issues are printed)`;

/** The `braid` command. Errors surface as exceptions (exitOverride); main.ts maps them to exit codes. */
export function createProgram(): Command {
  const { version } = JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version: string };
  const program = new Command()
    .name('braid')
    .description('Braid: durable workflows for TypeScript. Run them, inspect and steer their runs.')
    .version(version)
    // Before the subcommands are added: they inherit both.
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', EXIT_CODES_HELP);
  registerDev(program);
  registerWorker(program);
  registerRun(program);
  registerReadCommands(program);
  registerSteerCommands(program);
  registerFork(program);
  registerWaitCommands(program);
  registerMigrate(program);
  registerPrune(program);
  registerScheduleCommands(program);
  registerDebounces(program);
  registerLimitCommands(program);
  return program;
}
