/**
 * Raw database write rates measured in the same run as the workloads, so each Braid figure can be
 * read as a ratio of what the database itself does on this machine at that moment.
 */
import Database from 'better-sqlite3';

/** Raw better-sqlite3 inserts in WAL mode (synchronous=NORMAL, Braid's default): rows per second. */
export function sqliteInsertRate(path: string, rowsPerTransaction: number, totalRows: number): number {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('create table if not exists t (id text primary key, payload text not null, at integer not null)');
  const insert = db.prepare('insert into t (id, payload, at) values (?, ?, ?)');
  const batch = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) insert.run(`row-${rowsPerTransaction}-${i}`, '{"x":1}', Date.now());
  });
  const t0 = performance.now();
  for (let i = 0; i < totalRows; i += rowsPerTransaction) batch(i, Math.min(totalRows, i + rowsPerTransaction));
  const rate = (totalRows / (performance.now() - t0)) * 1000;
  db.close();
  return rate;
}
