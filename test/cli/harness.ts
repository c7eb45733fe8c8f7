/**
 * Runs the real `braid` command as a subprocess (`node bin/braid.js`: the run's compiled copy, see
 * test/support/compiled.ts, else the checkout's, which runs the sources through tsx) and starts
 * `braid dev` servers on free ports.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import { connect, createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { braidBin, compiledPath } from '../support/compiled.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURE = path.join(ROOT, 'test/cli/fixtures/workflows.ts');

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment of every `braid`: none of the caller's BRAID_* settings leak in. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...extra };
  for (const name of ['BRAID_URL', 'BRAID_TOKEN', 'BRAID_DB', 'BRAID_DATABASE_URL', 'BRAID_PORT']) {
    if (!(name in extra)) delete env[name];
  }
  return env;
}

export interface SpawnOptions {
  env?: Record<string, string>;
  /** Default: the repository root. */
  cwd?: string;
  /** Kill the process (SIGKILL) if it has not exited by then: a hang fails the test, not the run. */
  timeoutMs?: number;
}

/** A workflow file of this checkout among `args` (FIXTURE, say) is passed as its compiled twin. */
export function spawnBraid(args: string[], options: SpawnOptions = {}): ChildProcess {
  return spawn(process.execPath, [braidBin(), ...args.map(compiledPath)], {
    cwd: options.cwd ?? ROOT,
    env: cleanEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Collects a process's output until it exits. */
export function finished(child: ChildProcess): Promise<Result> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

export async function braid(args: string[], options: SpawnOptions = {}): Promise<Result> {
  const child = spawnBraid(args, options);
  const timer =
    options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
  try {
    return await finished(child);
  } finally {
    clearTimeout(timer);
  }
}

/** `braid ... --json`, parsed; fails the test with the output when it is not JSON. */
export function parseJson<T = any>(result: Result): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
}

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** An empty directory, removed after the test file. */
export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'braid-cli-'));
  tempDirs.push(dir);
  return dir;
}

export function tempDb(): string {
  return path.join(tempDir(), 'braid.db');
}

export interface DevServer {
  url: string;
  db: string;
  child: ChildProcess;
  /** Output so far. */
  stdout(): string;
  exited: Promise<Result>;
}

/** Starts `braid dev <fixture> --port 0`; resolves once it has printed its banner, with the URL in it. */
export async function startDev(db = tempDb(), extraArgs: string[] = []): Promise<DevServer> {
  const child = spawnBraid(['dev', FIXTURE, '--port', '0', '--db', db, ...extraArgs]);
  const exited = finished(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`braid dev printed no URL in 20 s:\n${out}`)), 20_000);
    const check = () => {
      const match = /Braid dev server: (http:\/\/\S+)/.exec(out);
      if (match && out.includes('Stop with Ctrl-C')) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout?.on('data', check);
    void exited.then((r) => reject(new Error(`braid dev exited ${r.code}:\n${r.stdout}\n${r.stderr}`)));
  });
  return { url, db, child, stdout: () => out, exited };
}

/** A port nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function until<T>(read: () => Promise<T>, isDone: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (isDone(value)) return value;
    if (Date.now() > deadline) throw new Error(`still not done after ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A run as the server has it (`GET /api/runs/:id`), read without a subprocess: for polling. */
export async function fetchRun(url: string, runId: string, token?: string): Promise<any> {
  const res = await fetch(`${url}/api/runs/${runId}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return res.json();
}

/** A path for the `gated` fixture workflow: its run waits until `open()` creates the file. */
export function gate(): { path: string; open(): void } {
  const file = path.join(tempDir(), 'gate');
  return { path: file, open: () => fs.writeFileSync(file, '') };
}
