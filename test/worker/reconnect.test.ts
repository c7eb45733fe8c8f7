/**
 * PostgreSQL restarts while runs are in flight. Two workers and a trigger-only process share a
 * server of this file's own (not the shared one: it is shut down mid-test); the server goes away
 * with a fast shutdown, stays away ~2 s, and comes back on the same port and data directory.
 * The workers must reconnect by themselves and finish every run, and nothing committed before the
 * restart may be lost or done twice.
 */
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type ExecutionResult, PostgresStore, WorkflowExecutor, workflow } from '../../src/index.js';
import { PostgresCoordination } from '../../src/store/postgres/coordination.js';
import { createTestDatabase, type EmbeddedPostgresServer, startEmbeddedPostgres } from '../support/embeddedPostgres.js';
import { holdClaimsAfterTheirLocks } from '../support/holdClaims.js';

const RUNS = 200;
const OUTAGE_MS = 2_000;
/** Past this after the restart, the test stops waiting and reports the runs still unfinished. */
const RESULTS_TIMEOUT_MS = 60_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let server: EmbeddedPostgresServer | undefined;
let url: string;
const executors: WorkflowExecutor[] = [];

beforeAll(async () => {
  server = await startEmbeddedPostgres({ restartable: true });
});

beforeEach(async () => {
  url = (await createTestDatabase(server!.url)).url;
});

afterEach(async () => {
  await Promise.all(executors.splice(0).map((e) => e.cleanup().catch(() => {})));
});

afterAll(async () => {
  await server?.stop();
});

/** One query on a connection of its own (the server comes and goes). */
async function sql<T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  // The server may end this connection while it restarts: the query reports it, not an 'error' event.
  client.on('error', () => {});
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** Two steps of 50-150 ms each: x -> x + 1 -> 2(x + 1). */
const slow = workflow('slow-two-steps')
  .step('first', async (ctx) => {
    await sleep(50 + Math.random() * 100);
    return (ctx.input as { x: number }).x + 1;
  })
  .step('second', { parents: ['first'] }, async (ctx) => {
    await sleep(50 + Math.random() * 100);
    return (ctx.parent('first') as number) * 2;
  });

function executor(worker: false | { log: (line: string) => void }): WorkflowExecutor {
  const ex = new WorkflowExecutor({
    store: new PostgresStore({ connectionString: url, poolSize: 4 }),
    workflows: [slow],
    maxParallelNodes: 10,
    // A lease longer than the outage: this test is about reconnecting, not about reaping.
    worker: worker === false ? false : { leaseMs: 10_000, heartbeatMs: 500, pollMs: 500, ...worker },
  });
  executors.push(ex);
  return ex;
}

describe('a PostgreSQL restart in the middle of runs', () => {
  it('every run still finishes with the right result, and nothing committed is lost or repeated', async () => {
    // The engine reports each failed commit on console.error; keep them for a failure message.
    const errors: string[] = [];
    const consoleError = vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
      errors.push(args.map(String).join(' '));
    });
    const logs: string[] = [];
    try {
      const workers = [executor({ log: (l) => logs.push(`A ${l}`) }), executor({ log: (l) => logs.push(`B ${l}`) })];
      await Promise.all(workers.map((w) => w.open()));
      const client = executor(false);
      const handles = await Promise.all(
        Array.from({ length: RUNS }, (_, x) => client.start(slow, { x }, { idempotencyKey: `restart-${x}` })),
      );
      // Settled, not raced: a result() that rejects is reported with its run, not as the first error.
      const results: Array<Promise<ExecutionResult<number> | Error>> = handles.map((h) =>
        h.result().catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))),
      );

      // Let some runs finish, then take the server away while the others are in flight.
      let before: Array<{ id: string; output: string }> = [];
      for (let i = 0; i < 200 && before.length < RUNS / 5; i++) {
        await sleep(25);
        before = await sql("SELECT id, output FROM braid.runs WHERE status = 'succeeded'");
      }
      expect(before.length, 'runs succeeded before the restart').toBeGreaterThan(0);
      const inFlight = await sql<{ n: number }>("SELECT count(*)::int AS n FROM braid.steps WHERE status = 'running'");
      await server!.shutDown();
      const downAt = Date.now();
      await sleep(OUTAGE_MS);
      await server!.startAgain();
      const upAfterMs = Date.now() - downAt;

      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), RESULTS_TIMEOUT_MS);
      });
      const outcome = await Promise.race([Promise.all(results), timedOut]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        const stuck = await sql(
          `SELECT id, status, owner_id, (SELECT count(*)::int FROM braid.steps s WHERE s.run_id = r.id AND s.status = 'succeeded') AS done
             FROM braid.runs r WHERE status <> 'succeeded' ORDER BY id LIMIT 20`,
        );
        const workersRows = await sql('SELECT id, lease_until, now() AS now FROM braid.workers');
        expect.fail(
          [
            `runs unfinished ${RESULTS_TIMEOUT_MS} ms after the restart (first 20):`,
            ...stuck.map((r) => JSON.stringify(r)),
            'registered workers:',
            ...workersRows.map((r) => JSON.stringify(r)),
            'worker logs:',
            ...logs.slice(-30),
            'console.error:',
            ...errors.slice(-10).map((e) => e.slice(0, 300)),
          ].join('\n'),
        );
      }
      console.log(
        `[reconnect] ${before.length} runs had succeeded and ${inFlight[0]?.n} steps were running at the shutdown; ` +
          `the server was back after ${upAfterMs} ms; ${errors.length} console errors, ${logs.length} worker log lines`,
      );

      // Every waiting result() of the trigger-only process resolved, with the right output.
      const rejected = outcome.flatMap((r, x) => (r instanceof Error ? [`restart-${x}: ${r.message}`] : []));
      expect(rejected, 'result() calls of the trigger-only process that rejected').toEqual([]);
      const wrong = outcome.flatMap((r, x) =>
        r instanceof Error || (r.status === 'succeeded' && r.output === 2 * (x + 1))
          ? []
          : [`restart-${x}: ${r.status} ${r.output}`],
      );
      expect(wrong, 'results that are not succeeded with the right output').toEqual([]);

      // What had succeeded before the restart is still there, unchanged.
      const after = new Map(
        (await sql<{ id: string; status: string; output: string }>('SELECT id, status, output FROM braid.runs')).map(
          (r) => [r.id, r],
        ),
      );
      expect(after.size).toBe(RUNS);
      const lost = before.filter(
        (b) => after.get(b.id)?.status !== 'succeeded' || after.get(b.id)?.output !== b.output,
      );
      expect(lost).toEqual([]);

      // Each step succeeded exactly once.
      const twice = await sql(
        `SELECT run_id, step, count(*)::int AS n FROM braid.events WHERE type = 'step_succeeded'
          GROUP BY run_id, step HAVING count(*) <> 1`,
      );
      expect(twice).toEqual([]);
      const [succeededSteps] = await sql<{ n: number }>(
        "SELECT count(*)::int AS n FROM braid.events WHERE type = 'step_succeeded'",
      );
      expect(succeededSteps?.n).toBe(RUNS * 2);
      expect(await sql('SELECT id FROM braid.runs WHERE owner_id IS NOT NULL')).toEqual([]);
    } finally {
      consoleError.mockRestore();
    }
  }, 120_000);
});

describe('claiming while the connection drops', () => {
  it('leaves a run claimable when the claim fails after taking it (no run owned by a worker that never got it)', async () => {
    const client = executor(false);
    const handle = await client.start(slow, { x: 1 }, { idempotencyKey: 'claim-then-lose' });
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    pool.on('error', () => {});
    pool.on('connect', (c) => c.on('error', () => {}));
    try {
      const coordination = new PostgresCoordination(pool, url);
      const workerId = await coordination.registerWorker([{ name: slow.name, version: slow.version }], 60_000);
      // The connection is lost after the claim took the run, before it read the run's steps: what
      // a server shutdown between the two does.
      const hold = await holdClaimsAfterTheirLocks(admin);
      let claim: Promise<unknown> | undefined;
      try {
        claim = coordination.claimRuns(workerId, [{ name: slow.name, version: slow.version }], 10);
        claim.catch(() => {});
        const pid = await hold.blocked();
        await admin.query('SELECT pg_terminate_backend($1)', [pid]);
        await expect(claim).rejects.toThrow(/terminat/);
      } finally {
        await hold.release();
      }
      // The worker never got the run, so it must not hold it: its lease would keep it from everyone.
      const [run] = await sql<{ owner_id: string | null }>('SELECT owner_id FROM braid.runs WHERE id = $1', [
        handle.runId,
      ]);
      expect(run?.owner_id).toBeNull();
      await coordination.deregisterWorker(workerId);
    } finally {
      await admin.end();
      await pool.end();
    }
  });

  it('hands back the runs a claim took when admitting its maxRuns runs then fails (the worker never gets them)', async () => {
    const client = executor(false);
    const handle = await client.start(slow, { x: 1 }, { idempotencyKey: 'plain-then-keyed-fails' });
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    try {
      // Runs under maxRuns are admitted in a transaction of their own, after the one-statement
      // claim of the others has committed; here that transaction cannot get a connection.
      const flaky = new Proxy(pool, {
        get(obj, prop, receiver) {
          if (prop === 'connect') return () => Promise.reject(new Error('Connection terminated unexpectedly'));
          const value = Reflect.get(obj, prop, receiver);
          return typeof value === 'function' ? value.bind(obj) : value;
        },
      });
      const coordination = new PostgresCoordination(flaky, url);
      const workflows = [
        { name: slow.name, version: slow.version },
        { name: 'keyed', version: '1', maxRuns: 1 },
      ];
      const workerId = await coordination.registerWorker(workflows, 60_000);
      await expect(coordination.claimRuns(workerId, workflows, 10)).rejects.toThrow(/terminated/);
      expect(await coordination.ownedRuns(workerId)).toEqual([]);
      const [run] = await sql<{ owner_id: string | null }>('SELECT owner_id FROM braid.runs WHERE id = $1', [
        handle.runId,
      ]);
      expect(run?.owner_id).toBeNull();
      await new PostgresCoordination(pool, url).deregisterWorker(workerId);
    } finally {
      await pool.end();
    }
  });
});

describe('a connection lost inside a coordination transaction', () => {
  it('fails the call instead of crashing the process with an unhandled client error', async () => {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    pool.on('error', () => {});
    try {
      // After BEGIN, the server ends the connection (as a fast shutdown does) while the client is
      // checked out of the pool and idle, before the transaction's next statement.
      const connect = async () => {
        const client = await pool.connect();
        return new Proxy(client, {
          get(obj, prop, receiver) {
            const value = Reflect.get(obj, prop, receiver);
            if (prop !== 'query') return typeof value === 'function' ? value.bind(obj) : value;
            return async (config: string | { text: string }, ...rest: unknown[]) => {
              const result = await (value as (...args: unknown[]) => Promise<unknown>).call(obj, config, ...rest);
              if (config === 'BEGIN') {
                // pg emits the loss before 'end', so without a listener 'end' never comes: wait 1 s.
                const ended = new Promise((resolve) => obj.once('end', resolve));
                const pid = (obj as unknown as { processID: number }).processID;
                await admin.query('SELECT pg_terminate_backend($1)', [pid]);
                await Promise.race([ended, sleep(1_000)]);
              }
              return result;
            };
          },
        });
      };
      const flaky = new Proxy(pool, {
        get: (obj, prop, receiver) => (prop === 'connect' ? connect : Reflect.get(obj, prop, receiver)),
      });
      const coordination = new PostgresCoordination(flaky, url);
      // Without an 'error' listener on the checked-out client, pg emits the loss as an uncaught
      // exception (vitest reports it; a worker process would die of it).
      await expect(coordination.reapExpiredWorkers()).rejects.toThrow();
    } finally {
      await admin.end();
      await pool.end();
    }
  });
});

describe('a trigger-only process reading a result while the database is away', () => {
  it('retries the read instead of rejecting result()', async () => {
    const worker = executor({ log: () => {} });
    await worker.open();
    const client = executor(false);
    const store = client.store as PostgresStore;
    const getSteps = store.getSteps.bind(store);
    let failures = 0;
    // The run settles, and the first read of its steps meets a server that is shutting down.
    store.getSteps = async (runId: string) => {
      if (failures++ === 0) {
        throw Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
      }
      return getSteps(runId);
    };
    const handle = await client.start(slow, { x: 4 });
    await expect(handle.result()).resolves.toMatchObject({ status: 'succeeded', output: 10 });
  });
});
