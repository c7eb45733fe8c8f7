/**
 * A SQLite path that cannot be opened: every command that opens a store says so, naming the path,
 * and exits 1. It neither hangs nor prints a raw SqliteError stack.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { braid, closedPort, FIXTURE, parseJson, type Result, tempDir } from './harness.js';

/** Long enough for a process start-up on a busy machine; the hang this pins never ended. */
const TIMEOUT_MS = 20_000;
const README = path.resolve(import.meta.dirname, '../../README.md');

/** Each command that opens the SQLite file at `db` itself (none of them asks a server). */
async function openWithEveryCommand(db: string): Promise<Array<{ command: string; result: Result }>> {
  const url = `http://127.0.0.1:${await closedPort()}`;
  const commands: Record<string, string[]> = {
    dev: ['dev', FIXTURE, '--port', '0', '--db', db],
    worker: ['worker', FIXTURE, '--drain', '--db', db],
    migrate: ['migrate', '--db', db],
    runs: ['runs', '--db', db, '--url', url],
    show: ['show', 'some-run', '--db', db, '--url', url],
  };
  return Promise.all(
    Object.entries(commands).map(async ([command, args]) => ({
      command,
      result: await braid(args, { timeoutMs: TIMEOUT_MS }),
    })),
  );
}

function expectClearFailure(command: string, result: Result, ...mentions: string[]): void {
  expect(result.signal, `${command} was killed after ${TIMEOUT_MS} ms: it hung`).toBeNull();
  expect(result.code, `${command}: ${result.stderr}`).toBe(1);
  expect(result.stderr, command).toMatch(/^braid: /);
  for (const text of mentions) expect(result.stderr, command).toContain(text);
  expect(result.stderr, command).not.toMatch(/SqliteError|\n\s+at /);
}

describe('a SQLite database path whose directory cannot be created', () => {
  // On Linux, procfs answers ENOENT to a mkdir under /proc, and node's recursive mkdir then spins.
  it.runIf(fs.existsSync('/proc/self'))('under /proc: every command fails at once, naming the path', async () => {
    const db = '/proc/braid-nope/x.db';
    for (const { command, result } of await openWithEveryCommand(db)) {
      if (command === 'runs' || command === 'show') {
        // Readers never create a database: the file is not there, which they say (exit 2).
        expect(result.code, `${command}: ${result.stderr}`).toBe(2);
        expect(result.stderr).toContain(`There is no database at ${db}`);
        continue;
      }
      expectClearFailure(command, result, 'Cannot create the directory /proc/braid-nope', db);
    }
  });

  it('under a regular file: the same clear error', async () => {
    const db = path.join(README, 'sub', 'x.db');
    const result = await braid(['dev', FIXTURE, '--port', '0', '--db', db], { timeoutMs: TIMEOUT_MS });
    expectClearFailure('dev', result, `Cannot create the directory ${path.dirname(db)}`, db);
  });

  it('--json gets the error as JSON on stdout, with its code', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const result = await braid(['runs', '--json', '--db', tempDir(), '--url', url], { timeoutMs: TIMEOUT_MS });
    expect(result.code, result.stderr).toBe(1);
    expect(parseJson(result).error).toMatchObject({ code: 'store_open' });
  });
});

describe('a file that is not a SQLite database', () => {
  it('every command says so, naming the file, and leaves the file alone', async () => {
    const dir = tempDir();
    const notes = path.join(dir, 'notes.md');
    fs.copyFileSync(README, notes);
    const before = fs.readFileSync(notes);
    for (const { command, result } of await openWithEveryCommand(notes)) {
      expectClearFailure(command, result, `${notes} is not a SQLite database`);
    }
    expect(fs.readFileSync(notes).equals(before)).toBe(true);
    expect(fs.readdirSync(dir).sort()).toEqual(['notes.md']);
  });

  it('a directory given as the database file is refused too', async () => {
    const dir = tempDir();
    const result = await braid(['migrate', '--db', dir], { timeoutMs: TIMEOUT_MS });
    expectClearFailure('migrate', result, `Cannot open the SQLite database ${dir}`);
  });
});
