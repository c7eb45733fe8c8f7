import type Database from 'better-sqlite3';
import type { CacheEntry } from '../../types.js';

/** Writes cache entries, replacing an existing entry with the same key. Index: the cache primary key. */
export function prepareUpsertCache(db: Database.Database): (entries: readonly CacheEntry[]) => void {
  const upsert = db.prepare(
    `INSERT INTO cache (key, output, created_at, expires_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (key) DO UPDATE SET
       output = excluded.output, created_at = excluded.created_at, expires_at = excluded.expires_at`,
  );
  return (entries) => {
    for (const e of entries) upsert.run(e.key, e.output, e.createdAt, e.expiresAt);
  };
}
