/**
 * The CLI's own failures. Each is a BraidError (a stable `code`, a message that says what to do)
 * that also carries the exit code scripts see.
 */
import type { CommanderError } from 'commander';
import { BraidError } from '../model/errors.js';
import { ExitCode } from './exitCodes.js';

export abstract class CliError extends BraidError {
  abstract readonly exitCode: ExitCode;
}

/** One problem with a request, as the API reports it (`error.issues`). */
export interface ApiIssue {
  path: Array<string | number>;
  message: string;
  code?: string;
}

export class ServerUnreachableError extends CliError {
  readonly code = 'server_unreachable';
  readonly exitCode = ExitCode.unreachable;
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    super(
      `No Braid server answers at ${url} (${describeNetworkError(cause)}). ` +
        'Start one with `braid dev <your workflow file>`, or set --url (BRAID_URL) to where yours runs.',
      { cause },
    );
  }
}

/**
 * The command line itself is wrong (commander's errors, in Braid's form): an unknown option or
 * command, a missing argument, a value its parser refused (`--input` that is not JSON, say).
 */
export class UsageError extends CliError {
  readonly code: string;
  readonly exitCode = ExitCode.usage;
  constructor(error: CommanderError) {
    super(error.message.replace(/^error: /, ''), { cause: error });
    this.code = USAGE_CODES[error.code] ?? 'usage';
  }
}

/** commander's codes as stable Braid ones: scripts match on these, whatever commander renames. */
const USAGE_CODES: Record<string, string> = {
  'commander.unknownOption': 'unknown_option',
  'commander.unknownCommand': 'unknown_command',
  'commander.missingArgument': 'missing_argument',
  'commander.optionMissingArgument': 'missing_option_value',
  'commander.missingMandatoryOptionValue': 'missing_option',
  'commander.invalidArgument': 'invalid_argument',
  'commander.excessArguments': 'too_many_arguments',
  'commander.conflictingOption': 'conflicting_options',
};

/** Two options that cannot go together. */
export class ConflictingOptionsError extends CliError {
  readonly code = 'conflicting_options';
  readonly exitCode = ExitCode.usage;
  constructor(message: string) {
    super(message);
  }
}

/** Neither a server nor a database file to read runs from. */
export class NothingToReadError extends CliError {
  readonly code = 'nothing_to_read';
  readonly exitCode = ExitCode.unreachable;
  constructor(
    readonly url: string,
    readonly dbPath: string,
  ) {
    super(
      `No Braid server answers at ${url} and there is no database at ${dbPath}. ` +
        'Start `braid dev <your workflow file>`, or point --url (BRAID_URL), --db (BRAID_DB) or ' +
        '--database-url (BRAID_DATABASE_URL) at yours.',
    );
  }
}

/** `--db` names a file that does not exist (reading it would create an empty database). */
export class DatabaseNotFoundError extends CliError {
  readonly code = 'database_not_found';
  readonly exitCode = ExitCode.usage;
  constructor(readonly dbPath: string) {
    super(`There is no database at ${dbPath}. Check --db (BRAID_DB); \`braid dev\` creates it on first start.`);
  }
}

/** An error answer of the API: its status, its stable code, its message and issues. */
export class ApiRequestError extends CliError {
  readonly code: string;
  readonly exitCode: ExitCode;
  constructor(
    readonly status: number,
    code: string,
    message: string,
    readonly issues: readonly ApiIssue[] = [],
  ) {
    super(`${message}${HINT_BY_CODE[code] ?? ''}`);
    this.code = code;
    this.exitCode = exitCodeForStatus(status);
  }
}

/** What a CLI user does about an API error, where the server's message speaks to library users. */
const HINT_BY_CODE: Record<string, string> = {
  workflow_not_registered: ' With the CLI: pass the file that exports it to `braid dev`.',
  unauthorized: ' With the CLI: pass --token or set BRAID_TOKEN.',
};

function exitCodeForStatus(status: number): ExitCode {
  if (status === 404) return ExitCode.notFound;
  if (status === 422) return ExitCode.invalidInput;
  if (status === 400) return ExitCode.usage;
  return ExitCode.failed;
}

/** The server answered, but not as the Braid API does (another program on that port?). */
export class UnexpectedResponseError extends CliError {
  readonly code = 'unexpected_response';
  readonly exitCode = ExitCode.failed;
  constructor(url: string, status: number, contentType: string | null) {
    super(
      `${url} answered ${status} with ${contentType ?? 'no content type'}, not the Braid API's JSON. ` +
        'Check that --url (BRAID_URL) points at a Braid server.',
    );
  }
}

export class NoWorkflowFileError extends CliError {
  readonly code = 'no_workflow_file';
  readonly exitCode = ExitCode.usage;
  constructor(readonly defaultFile: string) {
    super(
      `No workflow file given, and there is no ${defaultFile} here. ` +
        'Pass the file(s) that export your workflows: `braid dev src/workflows.ts`.',
    );
  }
}

export class WorkflowFileNotFoundError extends CliError {
  readonly code = 'workflow_file_not_found';
  readonly exitCode = ExitCode.usage;
  constructor(readonly file: string) {
    super(`Workflow file ${file} does not exist. Check the path (it is relative to ${process.cwd()}).`);
  }
}

export class NoWorkflowsExportedError extends CliError {
  readonly code = 'no_workflows_exported';
  readonly exitCode = ExitCode.usage;
  constructor(readonly file: string) {
    super(
      `${file} exports no workflow. Export each one (\`export const order = workflow('order')...\`) ` +
        'or an array of them (`export const workflows = [order, digest]`).',
    );
  }
}

export class WorkflowFileImportError extends CliError {
  readonly code = 'workflow_file_import_failed';
  readonly exitCode = ExitCode.failed;
  constructor(
    readonly file: string,
    cause: unknown,
  ) {
    super(`Could not load ${file}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** A TypeScript workflow file in an install that has no TypeScript loader. */
export class TypeScriptLoaderMissingError extends CliError {
  readonly code = 'typescript_loader_missing';
  readonly exitCode = ExitCode.usage;
  constructor(
    readonly file: string,
    cause: unknown,
  ) {
    super(
      `${file} is TypeScript, and no TypeScript loader is installed. Install tsx (\`npm install -D tsx\`; braid ` +
        'then loads .ts files itself), run `node --import tsx node_modules/braid/bin/braid.js ...`, or pass the ' +
        'compiled .js files.',
      { cause },
    );
  }
}

export class PortInUseError extends CliError {
  readonly code = 'port_in_use';
  readonly exitCode = ExitCode.failed;
  constructor(
    readonly host: string,
    readonly port: number,
    cause: unknown,
  ) {
    super(
      `Port ${port} on ${host} is already in use (another \`braid dev\`?). ` +
        'Stop that process, or pass --port <n> (BRAID_PORT; 0 picks a free port).',
      { cause },
    );
  }
}

/** Node's fetch says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND...) is in its cause. */
function describeNetworkError(error: unknown): string {
  let current: unknown = error;
  let message = error instanceof Error ? error.message : String(error);
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return code === 'ECONNREFUSED' ? 'connection refused' : code;
    if (current.name === 'TimeoutError') return 'no answer in time';
    message = current.message;
    current = current.cause;
  }
  return message;
}

export class MissingPoolError extends CliError {
  readonly code = 'missing_pool';
  readonly exitCode = ExitCode.usage;
  constructor(
    readonly workflow: string,
    readonly step: string,
    readonly pool: string,
  ) {
    super(
      `Workflow "${workflow}", step "${step}" uses pool "${pool}", which is not configured. ` +
        `Give its size: --pool ${pool}=4.`,
    );
  }
}
