import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ExecutorLock } from '../../src/store/sqlite/executorLock.js';
import { nodeArgs } from '../support/compiled.js';
import type { ContenderAnswer, ContenderOrder } from './executorLock.contender.js';

const CONTENDER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'executorLock.contender.ts');

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDb(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'braid-lock-race-'));
  dirs.push(dir);
  return path.join(dir, 'braid.db');
}

/** A contender process on `db`, once it has loaded its code and is ready for orders. */
async function startContender(db: string): Promise<(order: ContenderOrder) => Promise<ContenderAnswer>> {
  const child = spawn(process.execPath, [...nodeArgs(CONTENDER), db], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`contender exited (${code}) before it was ready`)));
  });
  return (order) =>
    new Promise((resolve) => {
      child.once('message', (answer: ContenderAnswer) => resolve(answer));
      child.send(order);
    });
}

/** A pid that is certainly gone: a child that has already exited and been reaped. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid as number;
}

describe('executor lock: two processes, one file', () => {
  it('lets exactly one of two processes starting at the same instant take a lock a dead process left', async () => {
    const db = tempDb();
    const [a, b] = await Promise.all([startContender(db), startContender(db)]);
    const stale = `${await deadPid()} stale-token\n`;
    const trials = 40;
    let bothHeld = 0;
    let noneHeld = 0;
    for (let trial = 0; trial < trials; trial++) {
      // What a SIGKILLed executor leaves behind: a lock note naming a process that is gone.
      writeFileSync(`${db}.lock`, stale);
      const acquireAt = Date.now() + 25;
      const answers = await Promise.all([a({ acquireAt }), b({ acquireAt })]);
      const winners = [a, b].filter((_, i) => (answers[i] as { acquired: boolean }).acquired);
      if (winners.length === 2) bothHeld++;
      if (winners.length === 0) noneHeld++;
      for (const winner of winners) await winner('release');
    }
    expect({ bothHeld, noneHeld }).toEqual({ bothHeld: 0, noneHeld: 0 });
  }, 30_000);

  it.runIf(process.platform === 'linux')(
    'lets a new executor in while the killed one is still an unreaped zombie',
    async () => {
      const db = tempDb();
      // `exec sleep` makes the shell a parent that never reaps: the killed contender stays a zombie.
      const shell = spawn('sh', ['-c', `"$0" "$@" & exec sleep 60`, process.execPath, ...nodeArgs(CONTENDER), db], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(shell);
      const pid = await new Promise<number>((resolve) => {
        let out = '';
        shell.stdout?.on('data', (d: Buffer) => {
          out += d.toString();
          const match = /acquired (\d+)/.exec(out);
          if (match) resolve(Number(match[1]));
        });
      });
      expect(() => new ExecutorLock(db, db).acquire()).toThrow(/in use by another Braid executor/);
      process.kill(pid, 'SIGKILL');
      const state = () => /^\d+ \(.*\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1];
      for (let i = 0; i < 200 && state() !== 'Z'; i++) await new Promise((r) => setTimeout(r, 10));
      expect(state()).toBe('Z');

      // The kernel drops the lock once the last thread of the process is gone, which can be a
      // moment after the main thread shows as a zombie: try for a while, as a restart would.
      const lock = new ExecutorLock(db, db);
      let error: unknown;
      for (let i = 0; i < 100; i++) {
        try {
          lock.acquire();
          error = undefined;
          break;
        } catch (e) {
          error = e;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      expect(error).toBeUndefined();
      // Still unreaped: the old pid check would have refused for as long as the parent lives (60 s).
      expect(state()).toBe('Z');
      lock.release();
    },
    15_000,
  );
});
