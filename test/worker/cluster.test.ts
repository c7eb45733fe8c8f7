import { describe, expect, it } from 'vitest';
import { startWorker, workflow } from '../../src/index.js';
import { postgresWorkers } from '../support/postgresWorkers.js';

const FAST = { leaseMs: 1_500, heartbeatMs: 300, pollMs: 300, shutdownGraceMs: 5_000 };

const { executor, sql, url, track } = postgresWorkers(FAST);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The same workflow (name and version) as each worker has it, tagging outputs with the worker. */
const tagged = (label: string, ms = 5) =>
  workflow('tagged').step('work', async (ctx) => {
    await sleep(ms);
    return { x: (ctx.input as { x: number }).x * 2, by: label };
  });

describe('workers on PostgreSQL', () => {
  it('runs started by a process with no worker are claimed by the workers, and results reach it by notification', async () => {
    const a = executor({ workflows: [tagged('a')] });
    const b = executor({ workflows: [tagged('b')] });
    await Promise.all([a.open(), b.open()]);
    const client = executor({ worker: false });
    const results = await Promise.all(Array.from({ length: 200 }, (_, x) => client.execute(tagged('client'), { x })));
    expect(results.map((r) => r.output)).toEqual(
      Array.from({ length: 200 }, (_, x) => ({ x: x * 2, by: expect.stringMatching(/^[ab]$/) })),
    );
    const by = new Set(results.map((r) => (r.output as { by: string }).by));
    expect(by).toEqual(new Set(['a', 'b']));
    expect(client.workerId).toBeNull();
    const owned = await sql('SELECT id FROM braid.runs WHERE owner_id IS NOT NULL');
    expect(owned).toEqual([]);
  });

  it('runs a parent on one worker and its children on others, and the join gets every result', async () => {
    // A child waits (up to 5 s) until B and C have each started one, so the test sees both take
    // part however slow a machine: on a loaded CI machine B once ran all 30 at 10 ms each before C
    // claimed any. B holds at most 10 at a time, so the rest must go elsewhere meanwhile.
    const startedOn = new Set<string>();
    let bothStarted!: () => void;
    const both = Promise.race([
      new Promise<void>((resolve) => {
        bothStarted = resolve;
      }),
      sleep(5_000),
    ]);
    const child = (label: string) =>
      workflow('child').step('square', async (ctx) => {
        startedOn.add(label);
        if (startedOn.has('b') && startedOn.has('c')) bothStarted();
        await both;
        await sleep(10);
        return { sq: (ctx.input as number) ** 2, by: label };
      });
    const parent = workflow('parent').step('fan', async (ctx) => {
      const handles = ctx.spawnWorkflows(Array.from({ length: 30 }, (_, i) => ({ workflow: 'child', input: i })));
      const outs = (await ctx.join(handles)) as Array<{ sq: number; by: string }>;
      return { sum: outs.reduce((s, o) => s + o.sq, 0), by: [...new Set(outs.map((o) => o.by))].sort() };
    });
    // Only A has the parent; B and C have only the child. A runs one step at a time, so most
    // children go to B and C.
    const a = executor({ workflows: [parent, child('a')], maxParallelNodes: 1 });
    const b = executor({ workflows: [child('b')] });
    const c = executor({ workflows: [child('c')] });
    await Promise.all([a.open(), b.open(), c.open()]);
    const client = executor({ worker: false });
    const result = await client.execute(parent, {});
    expect(result.status).toBe('succeeded');
    const expected = Array.from({ length: 30 }, (_, i) => i * i).reduce((s, v) => s + v, 0);
    const output = result.output as { sum: number; by: string[] };
    expect(output.sum).toBe(expected);
    expect(output.by).toEqual(expect.arrayContaining(['b', 'c']));
    const owners = await sql<{ n: string }>('SELECT count(*) AS n FROM braid.runs WHERE parent_run_id = $1', [
      result.runId,
    ]);
    expect(Number(owners[0]?.n)).toBe(30);
  });

  it('never lets a third worker into a pool of 2', async () => {
    let holders = 0;
    let most = 0;
    // The first holder waits (up to 5 s) for a second one, so the test sees the pool reach 2 on
    // however slow a machine: a pool that wrongly admits only 1 leaves `most` at 1 and fails.
    let paired!: () => void;
    const twoHeld = Promise.race([
      new Promise<void>((resolve) => {
        paired = resolve;
      }),
      sleep(5_000),
    ]);
    const pooled = workflow('pooled').step('use', { pool: 'gpu' }, async () => {
      holders++;
      most = Math.max(most, holders);
      if (holders >= 2) paired();
      await twoHeld;
      await sleep(25);
      holders--;
      return 'ok';
    });
    const workers = [0, 1, 2].map(() => executor({ workflows: [pooled], pools: { gpu: 2 } }));
    await Promise.all(workers.map((w) => w.open()));
    const client = executor({ worker: false });
    const results = await Promise.all(Array.from({ length: 24 }, () => client.execute(pooled, {})));
    expect(results.every((r) => r.status === 'succeeded')).toBe(true);
    expect(most).toBe(2);
    expect(await sql('SELECT * FROM braid.semaphore_holders')).toEqual([]);
  });

  it('holds a cluster-wide step limit across workers, and a parent waiting in a join gives its slot back', async () => {
    let running = 0;
    let most = 0;
    const busy = async () => {
      running++;
      most = Math.max(most, running);
      await sleep(20);
      running--;
    };
    const leaf = workflow('limited-leaf').step('work', async () => {
      await busy();
      return 1;
    });
    const root = workflow('limited-root').step('fan', async (ctx) => {
      await busy();
      const values = await ctx.join(ctx.spawnWorkflows([0, 1, 2, 3].map((i) => ({ workflow: leaf, input: i }))));
      return (values as number[]).length;
    });
    const workers = [0, 1, 2].map(() =>
      executor({ workflows: [root, leaf], worker: { globalMaxParallelNodes: 1 } as object }),
    );
    await Promise.all(workers.map((w) => w.open()));
    const client = executor({ worker: false });
    const results = await Promise.all(Array.from({ length: 4 }, () => client.execute(root, {})));
    expect(results.map((r) => r.output)).toEqual([4, 4, 4, 4]);
    expect(most).toBe(1);
    expect(await sql('SELECT * FROM braid.semaphore_holders')).toEqual([]);
  });

  it("holds a workflow's maxRuns per concurrency key across workers", async () => {
    const active = new Map<string, number>();
    const most = new Map<string, number>();
    const limited = workflow('limited', {
      maxRuns: 1,
      concurrencyKey: (input: unknown) => (input as { k: string }).k,
    }).step('work', async (ctx) => {
      const k = (ctx.input as { k: string }).k;
      active.set(k, (active.get(k) ?? 0) + 1);
      most.set(k, Math.max(most.get(k) ?? 0, active.get(k) ?? 0));
      await sleep(15);
      active.set(k, (active.get(k) ?? 0) - 1);
      return k;
    });
    const workers = [0, 1, 2].map(() => executor({ workflows: [limited] }));
    await Promise.all(workers.map((w) => w.open()));
    const client = executor({ worker: false });
    const results = await Promise.all(
      Array.from({ length: 18 }, (_, i) => client.execute(limited, { k: i % 2 ? 'odd' : 'even' })),
    );
    expect(results.every((r) => r.status === 'succeeded')).toBe(true);
    expect(Object.fromEntries(most)).toEqual({ odd: 1, even: 1 });
  });

  it("gives an expired worker's run to another worker and refuses the first worker's late result", async () => {
    let release: () => void = () => {};
    const stuck = new Promise<void>((resolve) => {
      release = resolve;
    });
    let startedOnA: () => void = () => {};
    const aStarted = new Promise<void>((resolve) => {
      startedOnA = resolve;
    });
    const slowOnA = workflow('handover').step('work', async () => {
      startedOnA();
      await stuck;
      return 'from A';
    });
    const fastOnB = workflow('handover').step('work', () => 'from B');
    // A never notices on its own that it lost the lease: its heartbeat is far away.
    const a = executor({ workflows: [slowOnA], worker: { heartbeatMs: 60_000, leaseMs: 60_000 } });
    await a.open();
    const client = executor({ worker: false });
    const handle = await client.start(slowOnA, {});
    await aStarted;
    // A is partitioned away: its lease runs out in the database.
    await sql("UPDATE braid.workers SET lease_until = now() - interval '1 second' WHERE id = $1", [a.workerId]);
    const b = executor({ workflows: [fastOnB] });
    await b.open();
    const result = await handle.result();
    expect(result.output).toBe('from B');
    release();
    await sleep(300);
    const [run] = await sql<{ output: string; status: string }>('SELECT status, output FROM braid.runs WHERE id = $1', [
      handle.runId,
    ]);
    expect(run).toEqual({ status: 'succeeded', output: '"from B"' });
    const succeeded = await sql("SELECT seq FROM braid.events WHERE run_id = $1 AND type = 'step_succeeded'", [
      handle.runId,
    ]);
    expect(succeeded).toHaveLength(1);
  });

  it('on cleanup, lets the running step finish and hands the run over to another worker', async () => {
    const ran: string[] = [];
    const twoSteps = (label: string) =>
      workflow('two-steps')
        .step('first', async () => {
          ran.push(`first@${label}`);
          await sleep(300);
          return 1;
        })
        .step('second', { parents: ['first'] }, (ctx) => {
          ran.push(`second@${label}`);
          return ctx.parent('first') + 1;
        });
    const a = executor({ workflows: [twoSteps('a')] });
    await a.open();
    const client = executor({ worker: false });
    const handle = await client.start(twoSteps('client'), {});
    while (!ran.length) await sleep(10);
    const stopping = a.cleanup();
    const b = executor({ workflows: [twoSteps('b')] });
    await b.open();
    await stopping;
    const result = await handle.result();
    expect(result.output).toBe(2);
    expect(ran).toEqual(['first@a', 'second@b']);
  });

  it('leaves a run of a version no worker has queued, and says so in the log and the run events', async () => {
    const lines: string[] = [];
    const v1 = workflow('versioned', { version: '1' }).step('s', () => 1);
    const v2 = workflow('versioned', { version: '2' }).step('s', () => 2);
    const worker = executor({ workflows: [v1], worker: { log: (line: string) => lines.push(line) } });
    await worker.open();
    const client = executor({ worker: false });
    const handle = await client.start(v2, {});
    for (let i = 0; i < 50 && !lines.some((l) => l.includes(handle.runId)); i++) await sleep(100);
    expect(lines.find((l) => l.includes(handle.runId))).toMatch(/needs workflow "versioned" version "2".*"1"/);
    expect(await handle.status()).toBe('queued');
    const events = await client.store.listEvents({ runId: handle.runId });
    expect(events.map((e) => e.type)).toContain('run_queued');
    expect(events.find((e) => e.type === 'run_queued')?.data).toMatch(/"reason":"version"/);
    // A worker with version 2 picks it up.
    const later = executor({ workflows: [v2] });
    await later.open();
    expect((await handle.result()).output).toBe(2);
  });

  it('cancels, from any process, a run that waits for a worker no one runs', async () => {
    const v1 = workflow('stranded', { version: '1' }).step('s', () => 1);
    const v9 = workflow('stranded', { version: '9' }).step('s', () => 9);
    const worker = executor({ workflows: [v1] });
    await worker.open();
    const client = executor({ worker: false });
    const handle = await client.start(v9, {});
    const result = await client.cancel(handle.runId, 'version 9 was never deployed');
    expect(result.status).toBe('cancelled');
    expect(result.error?.message).toContain('version 9 was never deployed');
    const events = await client.store.listEvents({ runId: handle.runId });
    expect(events.map((e) => e.type)).toContain('run_cancelled');
    expect(await sql('SELECT id FROM braid.runs WHERE owner_id IS NOT NULL')).toEqual([]);
  });

  it('cancels a run owned by a worker from a process with no worker, children included', async () => {
    const child = workflow('sleepy-child').step('wait', async (ctx) => {
      await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
      return 'never';
    });
    const parent = workflow('sleepy-parent').step('fan', async (ctx) => {
      const handles = ctx.spawnWorkflows([0, 1, 2].map((i) => ({ workflow: child, input: i })));
      return ctx.join(handles);
    });
    const worker = executor({ workflows: [parent, child] });
    await worker.open();
    const client = executor({ worker: false });
    const handle = await client.start(parent, {});
    for (let i = 0; i < 100; i++) {
      const rows = await sql("SELECT id FROM braid.runs WHERE parent_run_id = $1 AND status = 'running'", [
        handle.runId,
      ]);
      if (rows.length === 3) break;
      await sleep(50);
    }
    const result = await client.cancel(handle.runId, 'changed my mind');
    expect(result.status).toBe('cancelled');
    for (let i = 0; i < 100; i++) {
      const open = await sql(
        "SELECT id FROM braid.runs WHERE parent_run_id = $1 AND status NOT IN ('cancelled', 'succeeded', 'failed')",
        [handle.runId],
      );
      if (!open.length) break;
      await sleep(50);
    }
    const children = await sql<{ status: string }>('SELECT status FROM braid.runs WHERE parent_run_id = $1', [
      handle.runId,
    ]);
    expect(children.map((c) => c.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
  });

  it('pauses and resumes a run from a process with no worker', async () => {
    let open = false;
    const ran: string[] = [];
    const gated = workflow('pausable')
      .step('first', async () => {
        ran.push('first');
        while (!open) await sleep(10);
        return 1;
      })
      .step('second', { parents: ['first'] }, (ctx) => {
        ran.push('second');
        return ctx.parent('first') + 1;
      });
    const worker = executor({ workflows: [gated] });
    await worker.open();
    const client = executor({ worker: false });
    const handle = await client.start(gated, {});
    while (!ran.length) await sleep(10);
    // A caller waiting on the worker that holds the run hears its end too, wherever it resumes.
    const onWorker = (await worker.getHandle(handle.runId)).result();
    const pausing = client.pause(handle.runId);
    // The worker writes `paused` once it has applied the request, while the first step still
    // runs: only then may the step end (a fixed sleep lost that race under load).
    while ((await handle.status()) !== 'paused') await sleep(10);
    open = true;
    const paused = await pausing;
    expect(paused.status).toBe('paused');
    await sleep(200);
    expect(ran).toEqual(['first']);
    expect(await handle.status()).toBe('paused');
    await client.resume(handle.runId);
    expect((await handle.result()).output).toBe(2);
    expect((await onWorker).output).toBe(2);
    expect(ran).toEqual(['first', 'second']);
  });

  it('starts a worker from code with startWorker, and says what is missing without a database', async () => {
    const worker = await startWorker({
      databaseUrl: url(),
      workflows: [tagged('started')],
      handleSignals: false,
      ...FAST,
      log: () => {},
    });
    track(worker);
    expect(worker.workerId).toMatch(/:/);
    const client = executor({ worker: false });
    expect((await client.execute(tagged('client'), { x: 4 })).output).toEqual({ x: 8, by: 'started' });
    const saved = process.env.BRAID_DATABASE_URL;
    delete process.env.BRAID_DATABASE_URL;
    try {
      await expect(startWorker({ workflows: [tagged('x')] })).rejects.toThrow(/BRAID_DATABASE_URL/);
    } finally {
      if (saved !== undefined) process.env.BRAID_DATABASE_URL = saved;
    }
  });

  it('lets any process hear the events every worker commits (the dashboard on one process sees all runs)', async () => {
    // A long safety poll: the events must come by notification.
    const worker = executor({ workflows: [tagged('w')] });
    await worker.open();
    const watcher = executor({ worker: { pollMs: 60_000, log: () => {} } });
    await watcher.open();
    const heard: string[] = [];
    const stop = watcher.onEvents((events) => {
      for (const e of events) heard.push(`${e.runId}:${e.type}:${e.seq}`);
    });
    await sleep(200); // the feed starts at the latest seq
    const client = executor({ worker: false });
    const result = await client.execute(tagged('client'), { x: 1 });
    for (let i = 0; i < 100 && !heard.some((h) => h.startsWith(`${result.runId}:run_succeeded`)); i++) await sleep(20);
    stop();
    const mine = heard.filter((h) => h.startsWith(result.runId)).map((h) => h.split(':')[1]);
    expect(mine).toEqual(expect.arrayContaining(['run_started', 'step_started', 'step_succeeded', 'run_succeeded']));
    expect(new Set(heard).size).toBe(heard.length);
  });
});
