/** `braid worker` and `braid dev` on PostgreSQL: real processes, a real database, SIGTERM. */
import type { ChildProcess } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PostgresStore, WorkflowExecutor } from '../../src/index.js';
import { createTestDatabase } from '../support/embeddedPostgres.js';
import { braid, FIXTURE, finished, gate, type Result, spawnBraid, startDev, until } from './harness.js';

let db: { url: string; drop(): Promise<void> };
let store: PostgresStore;
let client: WorkflowExecutor;
const children: ChildProcess[] = [];

beforeEach(async () => {
  db = await createTestDatabase();
  store = new PostgresStore({ connectionString: db.url });
  // A process that starts runs and waits for them, but runs nothing itself.
  client = new WorkflowExecutor({ store, worker: false });
});

afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await client.cleanup();
  await store.close();
  await db.drop();
});

interface Worker {
  child: ChildProcess;
  exited: Promise<Result>;
  stdout(): string;
}

async function startWorker(extra: string[] = []): Promise<Worker> {
  const child = spawnBraid(['worker', FIXTURE, '--database-url', db.url, ...extra]);
  children.push(child);
  const exited = finished(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  await until(
    async () => out,
    (text) => text.includes('worker id'),
    20_000,
  ).catch(async (error) => {
    child.kill('SIGKILL');
    const r = await exited;
    throw new Error(`braid worker did not start: ${error}\n${r.stdout}\n${r.stderr}`);
  });
  return { child, exited, stdout: () => out };
}

async function stepStatus(runId: string, step: string): Promise<string | undefined> {
  return (await store.getSteps(runId)).find((s) => s.name === step)?.status;
}

describe('braid worker on PostgreSQL', () => {
  it('on SIGTERM lets the running step finish, hands the run over, and exits 0', async () => {
    const first = await startWorker(['--shutdown-grace', '20']);
    expect(first.stdout()).toContain('Braid worker on postgres://');
    expect(first.stdout()).not.toContain(`${new URL(db.url).password}@`);
    const g = gate();
    const { workflows } = await import(FIXTURE);
    const gated = (workflows as Array<{ name: string }>).find((w) => w.name === 'gated');
    const handle = await client.start(gated as never, { gate: g.path });
    await until(
      () => stepStatus(handle.runId, 'wait'),
      (s) => s === 'running',
    );
    first.child.kill('SIGTERM');
    // Still inside the grace period: the step is running, the worker has not exited.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await stepStatus(handle.runId, 'wait')).toBe('running');
    g.open();
    const stopped = await first.exited;
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toContain('SIGTERM: stopping');
    expect(await stepStatus(handle.runId, 'wait')).toBe('succeeded');

    // The run waits, unowned, for the next worker, which runs only what is left.
    const second = await startWorker();
    const result = await handle.result();
    expect(result.output).toBe('the gate was open');
    const attempts = Object.fromEntries((await store.getSteps(handle.runId)).map((s) => [s.name, s.attempts]));
    expect(attempts).toEqual({ begin: 1, wait: 1, end: 1 });
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
  });

  it('refuses --drain, which means nothing when other workers share the database', async () => {
    const result = await braid(['worker', FIXTURE, '--database-url', db.url, '--drain']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--drain applies to a SQLite file');
  });

  it('says what is wrong, without a hang or the password, when the database cannot be reached', async () => {
    const result = await braid(['worker', FIXTURE, '--database-url', 'postgres://braid:hunter2@127.0.0.1:1/braid']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/127\.0\.0\.1:1/);
    expect(result.stderr).not.toContain('hunter2');
  });

  it('serves the dashboard API from `braid dev` as one of the workers', async () => {
    const dev = await startDev(undefined, ['--database-url', db.url]);
    children.push(dev.child);
    expect(dev.stdout()).toContain('database   postgres://');
    const { workflows } = await import(FIXTURE);
    const fan = (workflows as Array<{ name: string }>).find((w) => w.name === 'fan');
    const result = await client.execute(fan as never, { n: 3 });
    expect(result.status).toBe('succeeded');
    const response = await fetch(`${dev.url}/api/runs/${result.runId}`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { run: { status: string } }).run.status).toBe('succeeded');
    dev.child.kill('SIGTERM');
    expect((await dev.exited).code).toBe(0);
  });
});
