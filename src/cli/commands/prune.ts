import { existsSync } from 'node:fs';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { PruneResult } from '../../executor/pruning.js';
import { durationMs } from '../../model/durations.js';
import { PRUNE_STATUSES, type PruneStatus } from '../../model/retention.js';
import { ConflictingOptionsError, DatabaseNotFoundError } from '../errors.js';
import { databaseUrlOption, dbOption, jsonOption } from '../options.js';
import { printJson } from '../output.js';

interface PruneCliOptions {
  db: string;
  databaseUrl?: string;
  olderThan?: number;
  workflow?: string;
  status?: PruneStatus[];
  dryRun?: boolean;
  batchSize?: number;
  vacuum?: boolean;
  json?: boolean;
}

/** `braid prune`: deletes finished runs from the database itself, beside a running `braid dev` or workers too. */
export function registerPrune(program: Command): void {
  program
    .command('prune')
    .description('Delete finished runs (each with every run it spawned) from the database, in small batches')
    .addOption(
      new Option('--older-than <duration>', 'only runs that finished at least this long ago, e.g. 30d, 12h').argParser(
        parseDuration,
      ),
    )
    .option('--workflow <name>', 'only runs of this workflow (their children go with them)')
    .addOption(
      new Option('--status <status>', `only runs that ended so: ${PRUNE_STATUSES.join(', ')} (repeatable)`).argParser(
        parsePruneStatus,
      ),
    )
    .option('--dry-run', 'count what would be deleted; delete nothing')
    .addOption(new Option('--batch-size <n>', 'run trees per transaction (default 500)').argParser(parseBatchSize))
    .option('--vacuum', 'SQLite: afterwards, rewrite the file once so that space is given back (see below)')
    .addOption(dbOption())
    .addOption(databaseUrlOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      `
Prunes the PostgreSQL database given by --database-url (BRAID_DATABASE_URL), else the SQLite file.
A run is pruned with its whole tree (children, steps, events, waits), judged by its root: never a
run that is not finished, never a child whose root still runs. Without --older-than, every
finished run is pruned. \`failed\` includes runs that timed out. Expired cache entries go too.

SQLite files created by this version give freed space back as they prune (incremental vacuum);
an older file reuses it for new runs but keeps its size until one \`braid prune --vacuum\`, which
rewrites the file (holding its write lock meanwhile: seconds per GB). PostgreSQL's autovacuum
reclaims space there.

With --json: {"dryRun", "roots", "runs", "steps", "events", "waits", "cache", "batches"}.

Examples:
  $ braid prune --older-than 30d --dry-run
  $ braid prune --older-than 7d --workflow nightly-report --status succeeded`,
    )
    .action(async (options: PruneCliOptions) => {
      const store = await openStore(options);
      try {
        const { pruneStore } = await import('../../executor/pruning.js');
        const result = await pruneStore(store, {
          ...(options.olderThan === undefined ? {} : { olderThan: options.olderThan }),
          ...(options.workflow === undefined ? {} : { workflow: options.workflow }),
          ...(options.status === undefined ? {} : { status: options.status }),
          ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
          dryRun: options.dryRun === true,
        });
        if (options.vacuum && !options.dryRun) await (store as { vacuum(): Promise<void> }).vacuum();
        if (options.json) printJson(result);
        else console.log(describe(result, store.description));
      } finally {
        await store.close();
      }
    });
}

async function openStore(options: PruneCliOptions) {
  if (options.databaseUrl) {
    if (options.vacuum) {
      throw new ConflictingOptionsError(
        '--vacuum is for a SQLite file; PostgreSQL reclaims space itself (autovacuum). Leave it out.',
      );
    }
    const { PostgresStore } = await import('../../store/postgres/postgresStore.js');
    // Never migrates: a maintenance command must not change the schema under running workers.
    const store = new PostgresStore({
      connectionString: options.databaseUrl,
      migrate: false,
      poolSize: 2,
      applicationName: 'braid (prune)',
    });
    await store.open();
    return store;
  }
  // Opening a missing file would create an empty database only to prune nothing: say so instead.
  if (!existsSync(options.db)) throw new DatabaseNotFoundError(options.db);
  const { SqliteStore } = await import('../../store/sqlite/sqliteStore.js');
  // No executor lock: pruning works beside `braid dev`, in short transactions it waits its turn for.
  const store = new SqliteStore({ path: options.db });
  await store.open();
  return store;
}

const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function describe(r: PruneResult, where: string): string {
  const what =
    `${count(r.runs, 'run')} (${count(r.roots, 'run tree')}), ${count(r.steps, 'step')}, ` +
    `${count(r.events, 'event')}, ${count(r.waits, 'wait')} and ${count(r.cache, 'expired cache entry', 'expired cache entries')}`;
  return r.dryRun
    ? `Would delete ${what} from ${where}. Nothing was deleted (--dry-run).`
    : `Deleted ${what} from ${where}, in ${count(r.batches, 'batch', 'batches')}.`;
}

function parseDuration(value: string): number {
  try {
    return durationMs(value, '--older-than');
  } catch {
    throw new InvalidArgumentError('must be a duration such as 30d, 12h, 90m or a number of milliseconds (>= 0).');
  }
}

function parsePruneStatus(value: string, previous: PruneStatus[] | undefined): PruneStatus[] {
  if (!(PRUNE_STATUSES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`must be one of ${PRUNE_STATUSES.join(', ')} (failed includes timed-out runs).`);
  }
  return [...(previous ?? []), value as PruneStatus];
}

function parseBatchSize(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10_000)
    throw new InvalidArgumentError('must be a whole number from 1 to 10000.');
  return n;
}
