/** How an error that ended a command is shown, and the exit code it becomes. */
import { CommanderError } from 'commander';
import { BraidError } from '../model/errors.js';
import { ApiRequestError, CliError, UsageError } from './errors.js';
import { ExitCode } from './exitCodes.js';
import { printJson } from './output.js';

export function exitCodeFor(error: unknown): ExitCode {
  // Help and --version end with exit code 0; every other commander error is a usage error.
  if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof BraidError) {
    if (error.code === 'run_not_found' || error.code === 'workflow_not_registered') return ExitCode.notFound;
    if (error.code === 'invalid_input') return ExitCode.invalidInput;
    if (error.code === 'unsafe_bind') return ExitCode.usage;
  }
  return ExitCode.failed;
}

/**
 * Prints the error on stderr, with the schema issues when the API sent some. With --json, stdout
 * also gets `{"error": {code, message, issues?}}`, so a script reads one JSON document either way.
 */
export function reportError(error: unknown, isJson: boolean): void {
  // Commander has printed its own message (or the help) already.
  if (error instanceof CommanderError) return;
  if (!(error instanceof BraidError)) {
    // Not one of ours: a bug worth its stack.
    console.error(error);
    return;
  }
  const issues = error instanceof ApiRequestError ? error.issues : [];
  // A usage error's message is on stderr already: commander printed it, with the hint to add --help.
  if (!(error instanceof UsageError)) console.error(`braid: ${error.message}`);
  for (const issue of issues) {
    console.error(`  - ${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`);
  }
  if (isJson) printJson({ error: { code: error.code, message: error.message, ...(issues.length ? { issues } : {}) } });
}
