/**
 * Raw database write rates measured in the same run as the workloads, so each Braid figure can be
 * read as a ratio of what the database itself does on this machine at that moment.
 */
import Database from 'better-sqlite3';
import pg from 'pg';

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

/**
 * Raw `pg` commits of one row each (autocommit INSERTs, fsync and synchronous_commit on) from
 * `connections` connections at once, so PostgreSQL can group their WAL flushes: rows per second.
 */
export async function postgresCommitRate(url: string, connections: number, totalRows: number): Promise<number> {
  const table = await scratchTable(url, 'raw_commits');
  const clients = await Promise.all(Array.from({ length: connections }, () => connect(url)));
  try {
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      clients.map(async (client) => {
        while (next < totalRows) {
          const i = next++;
          await client.query({
            name: 'raw_commit',
            text: `insert into ${table} (id, payload, at) values ($1, $2, $3)`,
            values: [`row-${i}`, '{"x":1}', Date.now()],
          });
        }
      }),
    );
    return (totalRows / (performance.now() - t0)) * 1000;
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
}

/** Raw `pg` multi-row INSERTs of `rowsPerStatement` rows, one commit each, on one connection: rows per second. */
export async function postgresBatchInsertRate(
  url: string,
  rowsPerStatement: number,
  totalRows: number,
): Promise<number> {
  const table = await scratchTable(url, 'raw_batches');
  const client = await connect(url);
  const tuples = Array.from({ length: rowsPerStatement }, (_, i) => `($${3 * i + 1}, $${3 * i + 2}, $${3 * i + 3})`);
  const text = `insert into ${table} (id, payload, at) values ${tuples.join(', ')}`;
  try {
    const t0 = performance.now();
    for (let from = 0; from < totalRows; from += rowsPerStatement) {
      const values: unknown[] = [];
      for (let i = from; i < from + rowsPerStatement; i++) values.push(`row-${i}`, '{"x":1}', Date.now());
      await client.query({ name: `raw_batch_${rowsPerStatement}`, text, values });
    }
    return (Math.ceil(totalRows / rowsPerStatement) * rowsPerStatement * 1000) / (performance.now() - t0);
  } finally {
    await client.end();
  }
}

/** A fresh 3-column table like the SQLite baseline's; returns its name. */
async function scratchTable(url: string, name: string): Promise<string> {
  const client = await connect(url);
  try {
    await client.query(`drop table if exists ${name}`);
    await client.query(`create table ${name} (id text primary key, payload text not null, at bigint not null)`);
  } finally {
    await client.end();
  }
  return name;
}

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}
