import { existsSync } from 'node:fs';
import { ApiClient } from '../apiClient.js';
import { ConflictingOptionsError, DatabaseNotFoundError, NothingToReadError } from '../errors.js';
import { ApiRunSource } from './apiRunSource.js';
import type { RunSource } from './runReport.js';

export interface RunSourceOptions {
  url: string;
  token?: string;
  db: string;
  /** `--database-url` or BRAID_DATABASE_URL. */
  databaseUrl?: string;
  /** `--url` on the command line or BRAID_URL: read from that server, or fail. */
  isUrlChosen: boolean;
  /** `--db` on the command line: read that file. */
  isDbChosen: boolean;
  /** `--database-url` on the command line: read that database. */
  isDatabaseUrlChosen: boolean;
}

/**
 * Picks where `runs` and `show` read: the file when `--db` is given, PostgreSQL when
 * `--database-url` is, the server when `--url` (or BRAID_URL) is; otherwise the server at the
 * default URL when one answers, else PostgreSQL when BRAID_DATABASE_URL is set, else the file.
 * The server is preferred because it knows the workflow definitions (steps not reached yet).
 */
export async function openRunSource(options: RunSourceOptions): Promise<RunSource> {
  if (options.isDbChosen && options.isDatabaseUrlChosen) {
    throw new ConflictingOptionsError(
      '--db and --database-url name two databases: give one, --db for a SQLite file or --database-url for PostgreSQL.',
    );
  }
  // Opening a missing file would create an empty database: say what is wrong instead.
  if (options.isDbChosen) {
    if (!existsSync(options.db)) throw new DatabaseNotFoundError(options.db);
    return (await storeSources()).openSqliteSource(options.db);
  }
  if (options.isDatabaseUrlChosen && options.databaseUrl) {
    return (await storeSources()).openPostgresSource(options.databaseUrl);
  }
  const client = new ApiClient(options.url, options.token);
  if (options.isUrlChosen || (await client.isReachable())) return new ApiRunSource(client);
  if (options.databaseUrl) return (await storeSources()).openPostgresSource(options.databaseUrl);
  if (!existsSync(options.db)) throw new NothingToReadError(options.url, options.db);
  return (await storeSources()).openSqliteSource(options.db);
}

/** Loaded on use: the commands that only talk HTTP never load the stores and the engine. */
function storeSources() {
  return import('./storeRunSource.js');
}
