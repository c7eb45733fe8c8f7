import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MemoryStore, type RunFilter, type RunRecord, SqliteStore, type Store } from '../../src/index.js';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Resolves once `predicate` holds, polling every few ms; fails the test after `timeoutMs`. */
export async function until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(2);
  }
}

/** A store factory per kind, for tests that must hold on both. SQLite files live in a temp dir. */
export const storeKinds: Array<{ kind: string; make: () => Store }> = [
  { kind: 'memory', make: () => new MemoryStore() },
  { kind: 'sqlite', make: () => new SqliteStore({ path: path.join(tempDir(), 'braid.db') }) },
];

const dirs: string[] = [];

export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'braid-children-'));
  dirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** Every run matching the filter, oldest first, across pages (a page holds at most 1000). */
export async function listAllRuns(store: Store, filter: Omit<RunFilter, 'cursor' | 'order'>): Promise<RunRecord[]> {
  const out: RunRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listRuns({ ...filter, order: 'asc', limit: 1000, ...(cursor ? { cursor } : {}) });
    out.push(...page.runs);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return out;
}
