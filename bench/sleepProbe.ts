import Database from 'better-sqlite3';
import type { SleepProbe } from './workloads.js';

/**
 * W8's view of a SQLite file through a second, read-only connection, as an operator would look.
 * Returns the probe and a function that closes its connection.
 */
export function sqliteSleepProbe(file: string): SleepProbe & { close(): void } {
  const db = new Database(file, { readonly: true });
  const sleeping = db.prepare<[], { asleep: number; resident: number }>(
    `SELECT count(wake_at) AS asleep, count(*) - count(wake_at) AS resident
       FROM runs WHERE workflow = 'w8-sleeper' AND finished_at IS NULL`,
  );
  const succeeded = db.prepare<[], { n: number }>(
    `SELECT count(*) AS n FROM runs WHERE workflow = 'w8-sleeper' AND status = 'succeeded'`,
  );
  return {
    sleeping: () => sleeping.get() as { asleep: number; resident: number },
    succeeded: () => (succeeded.get() as { n: number }).n,
    close: () => db.close(),
  };
}
