/**
 * CPU time spent by a PostgreSQL server on this machine, read from /proc: the postmaster and every
 * process it forked (backends, WAL writer, checkpointer...). A backend that exits is counted too:
 * the postmaster reaps it, and the kernel adds its time to the postmaster's children's time.
 *
 * Found through a connection's own backend: its parent is the postmaster. A server elsewhere (or
 * no /proc) gives undefined, and the bench reports the worker's CPU only.
 */
import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';

/** Clock ticks per second of /proc's times (USER_HZ): 100 on every Linux build that matters here. */
const TICKS_PER_SECOND = 100;

/** Returns a reader of the server's CPU milliseconds so far, or undefined when it cannot be seen. */
export async function postgresServerCpu(url: string): Promise<(() => number) | undefined> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let postmaster: number | undefined;
  try {
    const backend = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    postmaster = parentOf(backend); // while the backend lives: it exits with the connection
  } finally {
    await client.end();
  }
  if (postmaster === undefined || cpuTicks(postmaster, true) === undefined) return undefined;
  return () => {
    let ticks = cpuTicks(postmaster, true) ?? 0;
    for (const pid of childrenOf(postmaster)) ticks += cpuTicks(pid, false) ?? 0;
    return (ticks / TICKS_PER_SECOND) * 1000;
  };
}

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces). */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined; // gone, or not visible
  }
}

function parentOf(pid: number): number | undefined {
  const fields = statFields(pid);
  return fields ? Number(fields[1]) : undefined;
}

/** utime + stime (and, for the postmaster, its reaped children's cutime + cstime), in ticks. */
function cpuTicks(pid: number, withReaped: boolean): number | undefined {
  const fields = statFields(pid);
  if (!fields) return undefined;
  // After the name: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
  const own = Number(fields[11]) + Number(fields[12]);
  return withReaped ? own + Number(fields[13]) + Number(fields[14]) : own;
}

function childrenOf(parent: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (Number.isInteger(pid) && parentOf(pid) === parent) out.push(pid);
  }
  return out;
}
