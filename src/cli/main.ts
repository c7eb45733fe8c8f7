/** The entry point of `braid` (bin/braid.js runs it). */
import { CommanderError } from 'commander';
import { UsageError } from './errors.js';
import { createProgram } from './program.js';
import { exitCodeFor, reportError } from './reportError.js';

const program = createProgram();
const args = process.argv.slice(2);
// Whether to answer in JSON is known before parsing, so that a command line commander refuses
// (bad --input JSON, an unknown option) is reported as JSON too. Once a command's options are
// parsed, its own --json decides (a `--reason --json` is a reason, not the flag).
let isJson = asksForJson(args);
program.hook('preAction', (_program, actionCommand) => {
  isJson = actionCommand.opts().json === true;
});
try {
  await program.parseAsync(process.argv);
} catch (thrown) {
  // Help and --version end with exit code 0 and are no error.
  const error = thrown instanceof CommanderError && thrown.exitCode !== 0 ? new UsageError(thrown) : thrown;
  reportError(error, isJson);
  process.exitCode = exitCodeFor(error);
}

/** `--json` among the arguments, before a `--` that ends the options. */
function asksForJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}
