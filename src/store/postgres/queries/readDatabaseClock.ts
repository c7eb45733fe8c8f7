import type pg from 'pg';
import { DATABASE_NOW_MS } from '../databaseClock.js';

/**
 * The database's clock now, in epoch ms: what executors measure their own clock's offset against,
 * so times they compute from "now" (a new schedule's first tick) agree with the due times the
 * database judges. No table, no lock.
 */
export async function readDatabaseClock(db: pg.Pool): Promise<number> {
  const { rows } = await db.query<{ now: string }>({
    name: 'braid_read_database_clock',
    text: `SELECT ${DATABASE_NOW_MS} AS now`,
  });
  return Number(rows[0]?.now);
}
