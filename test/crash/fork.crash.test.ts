/**
 * SIGKILL during a fork, on SQLite, with real processes: a process calls `executor.fork()` and is
 * killed at once, a few milliseconds later, or right after the fork committed. After each kill a
 * new process opens the file. A fork must then either exist whole (its run, its reused step and its
 * link, so it finishes with the right output and its reused step never runs) or not exist at all.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/index.js';
import { nodeArgs } from '../support/compiled.js';
import { type ForkOrder, forkOutput } from './fork.harness.js';

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fork.worker.ts');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'braid-fork-crash-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function runWorker(order: ForkOrder): Promise<{ stdout: string; stderr: string; ended: number | string }> {
  const child = spawn(process.execPath, [...nodeArgs(WORKER), JSON.stringify(order)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve) =>
    child.on('exit', (code, signal) => resolve({ stdout, stderr, ended: signal ?? code ?? -1 })),
  );
}

describe('SIGKILL during a fork (SQLite)', () => {
  it('leaves the fork whole (it finishes right, its reused step never runs) or absent, never half written', async () => {
    const dbPath = path.join(dir, 'fork.db');
    const logPath = path.join(dir, 'effects.log');
    const first = await runWorker({ mode: 'original', dbPath, logPath });
    expect(first.ended, first.stderr).toBe(0);
    const originalId = (JSON.parse(first.stdout) as { runId: string }).runId;

    // -1: killed in the tick fork() was called (before anything is committed); 'committed': right
    // after its commit, with its steps still to run; the rest fall before, during or after it.
    const kills: Array<number | 'committed'> = [-1, 0, 3, 10, 25, 'committed'];
    for (const killAfterMs of kills) {
      const killed = await runWorker({ mode: 'fork', dbPath, logPath, originalId, killAfterMs });
      expect(killed.ended, `${killAfterMs}: ${killed.stderr}`).toBe('SIGKILL');
      const recovered = await runWorker({ mode: 'recover', dbPath, logPath, originalId });
      expect(recovered.ended, recovered.stderr).toBe(0);
      for (const fork of JSON.parse(recovered.stdout) as Array<{ status: string; output: unknown }>) {
        expect(fork).toMatchObject({ status: 'succeeded', output: forkOutput(5, 1) });
      }
    }

    const store = new SqliteStore({ path: dbPath });
    await store.open();
    try {
      const runs = (await store.listRuns({ limit: 1000 })).runs;
      const forks = await store.listForks(originalId);
      // The kill in the calling tick always precedes the commit; the one after it always follows.
      expect(forks.length).toBeGreaterThanOrEqual(1);
      expect(forks.length).toBeLessThan(kills.length);
      // No run without its link: every run but the original is a whole fork.
      expect(runs.map((r) => r.id).sort()).toEqual([originalId, ...forks.map((f) => f.runId)].sort());
      const effects = fs
        .readFileSync(logPath, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { runId: string; step: string });
      for (const fork of forks) {
        expect(fork).toMatchObject({ fromStep: 'b', reusedSteps: ['a'] });
        const steps = await store.getSteps(fork.runId);
        expect(steps.map((s) => [s.name, s.status, s.attempts])).toEqual([
          ['a', 'succeeded', 0],
          ['b', 'succeeded', expect.any(Number)],
          ['c', 'succeeded', expect.any(Number)],
        ]);
        expect(steps[0]?.output).toBe('2');
        const ran = effects.filter((e) => e.runId === fork.runId).map((e) => e.step);
        expect(ran).not.toContain('a');
        expect(ran).toContain('b');
      }
    } finally {
      await store.close();
    }
  }, 180_000);
});
