import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { type ExecutorOptions, MemoryStore, SqliteStore, WorkflowExecutor } from '../../src/index.js';

/**
 * Per-test resources for engine tests: every executor, SQLite store and temporary directory made
 * through the fixture is cleaned up after each test, executors first (they flush into the stores).
 */
export function useEngineFixture() {
  const executors: WorkflowExecutor[] = [];
  const stores: SqliteStore[] = [];
  const dirs: string[] = [];

  afterEach(async () => {
    for (const executor of executors.splice(0)) await executor.cleanup();
    for (const store of stores.splice(0)) await store.close();
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  return {
    /** An executor on a fresh MemoryStore unless `store` is given. */
    executor(options: ExecutorOptions = {}): WorkflowExecutor {
      const executor = new WorkflowExecutor({ store: new MemoryStore(), ...options });
      executors.push(executor);
      return executor;
    },
    /** A path for a SQLite file in a fresh temporary directory. */
    sqlitePath(): string {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'braid-engine-'));
      dirs.push(dir);
      return path.join(dir, 'braid.db');
    },
    /** A new connection to the SQLite file at `file` (a new one per simulated process). */
    sqliteStore(file: string): SqliteStore {
      const store = new SqliteStore({ path: file });
      stores.push(store);
      return store;
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Rejects with the signal's reason once it fires: a step that only ends when it is stopped. */
export function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/**
 * Polls `predicate` every few milliseconds until it holds; fails after `timeoutMs`. A limit for
 * hangs, not a speed assertion: 5 s ran out under a load of ~21 on this 2-core machine (a race
 * test waiting for a wait to be registered), so the default is 15 s.
 */
export async function waitUntil(predicate: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(2);
  }
}

/** Counts how many holders are inside at once, and the most there ever were. */
export class ConcurrencyGauge {
  current = 0;
  max = 0;

  async hold<T>(ms: number, value?: T): Promise<T | undefined> {
    this.current++;
    this.max = Math.max(this.max, this.current);
    try {
      await sleep(ms);
      return value;
    } finally {
      this.current--;
    }
  }
}
