import type pg from 'pg';
import type { CacheEntry } from '../../types.js';

/** Reads a cache entry unless it has expired at `now`. Index: the cache primary key. */
export async function getCache(db: pg.Pool, key: string, now: number): Promise<CacheEntry | undefined> {
  const { rows } = await db.query<CacheEntry>({
    name: 'braid_get_cache',
    text: `SELECT key, output, created_at AS "createdAt", expires_at AS "expiresAt"
             FROM braid.cache WHERE key = $1 AND (expires_at IS NULL OR expires_at > $2)`,
    values: [key, now],
  });
  return rows[0];
}
