import type Database from 'better-sqlite3';
import type { CacheEntry } from '../../types.js';

/** Reads a cache entry unless it has expired at `now`. Index: the cache primary key. */
export function prepareGetCache(db: Database.Database): (key: string, now: number) => CacheEntry | undefined {
  const select = db.prepare<[string, number], CacheEntry>(
    `SELECT key, output, created_at AS createdAt, expires_at AS expiresAt
       FROM cache WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)`,
  );
  return (key, now) => select.get(key, now);
}
