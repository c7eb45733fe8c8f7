import { existsSync } from 'node:fs';
import { ApiClient } from '../apiClient.js';
import { DatabaseNotFoundError, NothingToReadError } from '../errors.js';
import { ApiRunSource } from './apiRunSource.js';
import type { RunSource } from './runReport.js';

export interface RunSourceOptions {
  url: string;
  token?: string;
  db: string;
  /** `--url` on the command line or BRAID_URL: read from that server, or fail. */
  isUrlChosen: boolean;
  /** `--db` on the command line: read that file. */
  isDbChosen: boolean;
}

/**
 * Picks where `runs` and `show` read: the file when `--db` is given, the server when `--url` (or
 * BRAID_URL) is; otherwise the server at the default URL when one answers, else the database file.
 * The server is preferred because it knows the workflow definitions (steps not reached yet).
 */
export async function openRunSource(options: RunSourceOptions): Promise<RunSource> {
  const client = new ApiClient(options.url, options.token);
  // Opening a missing file would create an empty database: say what is wrong instead.
  if (options.isDbChosen) {
    if (!existsSync(options.db)) throw new DatabaseNotFoundError(options.db);
    return openStoreSource(options.db);
  }
  if (options.isUrlChosen || (await client.isReachable())) return new ApiRunSource(client);
  if (!existsSync(options.db)) throw new NothingToReadError(options.url, options.db);
  return openStoreSource(options.db);
}

/** Loaded on use: the commands that only talk HTTP never load SQLite and the engine. */
async function openStoreSource(path: string): Promise<RunSource> {
  const { StoreRunSource } = await import('./storeRunSource.js');
  return StoreRunSource.open(path);
}
