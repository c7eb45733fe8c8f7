/** The entry point of `braid` (bin/braid.js runs it). */
import { createProgram } from './program.js';
import { exitCodeFor, reportError } from './reportError.js';

const program = createProgram();
let isJson = false;
program.hook('preAction', (_program, actionCommand) => {
  isJson = actionCommand.opts().json === true;
});
try {
  await program.parseAsync(process.argv);
} catch (error) {
  reportError(error, isJson);
  process.exitCode = exitCodeFor(error);
}
