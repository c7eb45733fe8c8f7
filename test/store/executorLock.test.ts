import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore, StoreLockedError, WorkflowExecutor, workflow } from '../../src/index.js';

const dirs: string[] = [];
const tempDb = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'braid-lock-'));
  dirs.push(dir);
  return path.join(dir, 'braid.db');
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const hello = workflow('hello').step('greet', () => 'hi');

describe('one executor per SQLite file', () => {
  it('refuses a second executor on a file a live executor holds, naming the holder', async () => {
    const file = tempDb();
    const first = new WorkflowExecutor({ store: new SqliteStore({ path: file }) });
    await first.execute(hello, {});
    const secondStore = new SqliteStore({ path: file });
    const second = new WorkflowExecutor({ store: secondStore });
    const error = await second.open().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreLockedError);
    expect((error as StoreLockedError).pid).toBe(process.pid);
    expect((error as Error).message).toContain(file);
    await first.cleanup();
    await secondStore.close();
  });

  it('lets the next executor in once the first is cleaned up', async () => {
    const file = tempDb();
    const first = new WorkflowExecutor({ store: new SqliteStore({ path: file }) });
    await first.execute(hello, {});
    await first.cleanup();
    const second = new WorkflowExecutor({ store: new SqliteStore({ path: file }) });
    expect((await second.execute(hello, {})).output).toBe('hi');
    await second.cleanup();
  });

  it('takes over a lock left by a process that died', async () => {
    const file = tempDb();
    // A pid that is certainly gone: a child that has already exited.
    const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid as number;
    writeFileSync(`${file}.lock`, `${dead} stale-token\n`);
    const executor = new WorkflowExecutor({ store: new SqliteStore({ path: file }) });
    expect((await executor.execute(hello, {})).success).toBe(true);
    await executor.cleanup();
  });

  it('lets readers open the file while an executor holds it', async () => {
    const file = tempDb();
    const executor = new WorkflowExecutor({ store: new SqliteStore({ path: file }) });
    const { runId } = await executor.execute(hello, {});
    const reader = new SqliteStore({ path: file });
    await reader.open();
    expect((await reader.getRun(runId))?.status).toBe('succeeded');
    await reader.close();
    await executor.cleanup();
  });
});
