/** The options several commands share, and the parsers that turn their text into values. */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { isPriority, MAX_PRIORITY, MIN_PRIORITY } from '../model/priority.js';
import { RUN_STATUSES, type RunStatus } from '../store/types.js';

export const DEFAULT_URL = 'http://127.0.0.1:7777';
export const DEFAULT_DB_FILE = '.braid/braid.db';
export const DEFAULT_PORT = 7777;
/** What `braid dev` and `braid worker` load when given no file: the demo's workflows, in a Braid checkout. */
export const DEFAULT_WORKFLOW_FILE = 'examples/workflows.ts';

/** The options of a command that talks to a server. */
export interface ClientOptions {
  url: string;
  token?: string;
}

export const dbOption = () =>
  new Option('--db <file>', 'SQLite database file').env('BRAID_DB').default(DEFAULT_DB_FILE);

/** `--database-url`: a PostgreSQL database instead of the SQLite file. */
export const databaseUrlOption = () =>
  new Option('--database-url <url>', 'PostgreSQL database (postgres://user:password@host:5432/db)').env(
    'BRAID_DATABASE_URL',
  );

export const jsonOption = () => new Option('--json', 'print machine-readable JSON only (on stdout)');

/** `--url` and `--token`: where the server is and what proves we may use it. */
export function addClientOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--url <url>', 'the Braid server (`braid dev`)')
        .env('BRAID_URL')
        .default(DEFAULT_URL)
        .argParser(parseUrl),
    )
    .addOption(new Option('--token <token>', 'bearer token, when the server has one').env('BRAID_TOKEN'));
}

/** `--pool` and `--max-parallel`: the executor settings a workflow file cannot carry. */
export function addExecutorOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--pool <name=size>', 'a resource pool the workflows use (repeatable)')
        .argParser(parsePool)
        .default({}, 'none'),
    )
    .addOption(new Option('--max-parallel <n>', 'steps executing at once across all runs').argParser(parsePositiveInt));
}

export function parseJson(value: string): unknown {
  let tooLarge: string | undefined;
  let parsed: unknown;
  try {
    // JSON.parse reads 1e999 as Infinity, which JSON cannot carry: sent on, it would become null.
    parsed = JSON.parse(value, (key, v: unknown) => {
      if (typeof v === 'number' && !Number.isFinite(v)) tooLarge ??= key === '' ? 'the value' : `"${key}"`;
      return v;
    });
  } catch (error) {
    throw new InvalidArgumentError(`not JSON (${(error as Error).message}). Quote it for the shell: '{"id": 1}'.`);
  }
  if (tooLarge !== undefined) {
    throw new InvalidArgumentError(
      `${tooLarge} is a number too large for JSON (it reads as Infinity). Write it smaller.`,
    );
  }
  return parsed;
}

export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number >= 1.');
  return n;
}

/** `--priority`: a whole number from -100 to 100, as the engine accepts. */
export function parsePriority(value: string): number {
  // Decimal digits only: Number() would read '' as 0 and '0x10' as 16.
  const n = /^[+-]?\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!isPriority(n)) {
    throw new InvalidArgumentError(
      `must be a whole number from ${MIN_PRIORITY} to ${MAX_PRIORITY} (higher goes first; 0 is the default), not "${value}".`,
    );
  }
  return n;
}

export function parseSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a number of seconds >= 0.');
  return n;
}

export function parseLimit(value: string): number {
  const n = parsePositiveInt(value);
  if (n > 1000) throw new InvalidArgumentError('must be at most 1000 (page with --cursor).');
  return n;
}

export function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new InvalidArgumentError('must be a port number, 0-65535 (0 picks a free port).');
  }
  return n;
}

export function parseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('must be a URL such as http://127.0.0.1:7777.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError('must be http or https.');
  return url.href.replace(/\/+$/, '');
}

/** `failed`, `failed,timed_out`, or the option given twice. */
export function parseStatuses(value: string, previous: RunStatus[] | undefined): RunStatus[] {
  const statuses = [...(previous ?? [])];
  for (const name of value.split(',').map((s) => s.trim())) {
    if (!(RUN_STATUSES as readonly string[]).includes(name)) {
      throw new InvalidArgumentError(`unknown status "${name}"; use ${RUN_STATUSES.join(', ')}.`);
    }
    statuses.push(name as RunStatus);
  }
  return statuses;
}

/** ISO 8601 (`2026-01-31`, `2026-01-31T12:00Z`) or epoch milliseconds, as epoch milliseconds. */
export function parseTime(value: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw new InvalidArgumentError('must be an ISO 8601 time or epoch milliseconds.');
  return ms;
}

export function parsePool(value: string, previous: Record<string, number>): Record<string, number> {
  const match = /^([^=\s]+)=(\d+)$/.exec(value);
  const size = Number(match?.[2]);
  if (!match || !Number.isInteger(size) || size < 1) {
    throw new InvalidArgumentError('must be name=size with a size >= 1, e.g. --pool llm=4.');
  }
  return { ...previous, [match[1]!]: size };
}
