/**
 * A process SIGKILLed in the middle of a schedule's tick (SQLite): its run had started and its step
 * was working. After a restart, that tick has exactly one run, which finishes; the ticks missed while
 * it was down (inside the catch-up window) each get one run; no tick has two.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/index.js';
import { startWorkerProcess, type WorkerProcess } from '../support/workerProcess.js';

const WORKER = path.join(import.meta.dirname, 'schedules.worker.ts');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'braid-schedule-crash-'));
const workers: WorkerProcess[] = [];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

afterAll(async () => {
  for (const w of workers) w.child.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.exited));
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Line {
  what: 'started' | 'finished';
  runId: string;
  scheduledAt: number;
  pid: number;
}

describe('a schedule survives a SIGKILL during a tick (SQLite)', () => {
  it('the interrupted tick has exactly one run, which finishes after the restart; no tick doubled', {
    timeout: 60_000,
  }, async () => {
    const config = { dbPath: path.join(dir, 'braid.db'), logPath: path.join(dir, 'effects.log') };
    const read = (): Line[] =>
      fs.existsSync(config.logPath)
        ? fs
            .readFileSync(config.logPath, 'utf8')
            .trim()
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l))
        : [];
    const a = startWorkerProcess(WORKER, config);
    workers.push(a);
    await a.ready;
    // Kill it while a tick's step is working (started, not finished).
    const deadline = Date.now() + 20_000;
    let interrupted: Line | undefined;
    while (!interrupted && Date.now() < deadline) {
      const lines = read();
      interrupted = lines.find(
        (l) => l.what === 'started' && !lines.some((f) => f.what === 'finished' && f.runId === l.runId),
      );
      if (!interrupted) await sleep(20);
    }
    expect(interrupted, a.stderr()).toBeDefined();
    a.child.kill('SIGKILL');
    await a.exited;
    await sleep(1_500);

    const b = startWorkerProcess(WORKER, config);
    workers.push(b);
    await b.ready;
    await sleep(2_500);
    b.child.kill('SIGTERM');
    await b.exited;

    const store = new SqliteStore({ path: config.dbPath });
    await store.open();
    try {
      const ticks = (await store.listScheduleTicks('crash', 1000)).reverse();
      const times = ticks.map((t) => t.scheduledAt);
      // No tick lost across the kill and the downtime: one per second, each with a run.
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBe(1_000);
      expect(ticks.every((t) => t.status === 'started' && t.runId)).toBe(true);
      const runIds = ticks.map((t) => t.runId as string);
      expect(new Set(runIds).size).toBe(runIds.length);
      // The interrupted tick: one run, the same one, started again by the new process and finished.
      const tick = ticks.find((t) => t.scheduledAt === interrupted!.scheduledAt);
      expect(tick?.runId).toBe(interrupted!.runId);
      expect((await store.getRun(interrupted!.runId))?.status).toBe('succeeded');
      const lines = read();
      expect(lines.filter((l) => l.what === 'finished' && l.runId === interrupted!.runId)).toHaveLength(1);
      // Every step that finished ran for its own tick, and no tick's step finished twice.
      const finished = lines.filter((l) => l.what === 'finished');
      expect(new Set(finished.map((l) => l.scheduledAt)).size).toBe(finished.length);
      for (const l of finished) expect(ticks.find((t) => t.scheduledAt === l.scheduledAt)?.runId).toBe(l.runId);
      // Ticks of the downtime ran after the restart (inside the catch-up window).
      expect(times.at(-1)!).toBeGreaterThan(interrupted!.scheduledAt + 1_500);
    } finally {
      await store.close();
    }
  });
});
