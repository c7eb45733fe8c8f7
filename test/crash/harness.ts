/**
 * What the crash tests share with their worker process: the worker's configuration, the names and
 * expected outputs of its workflows, starting and SIGKILLing it, and reading back what happened
 * (the side-effect log, and the store's runs and events).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type EventRecord, type RunRecord, SqliteStore } from '../../src/index.js';
import { nodeArgs } from '../support/compiled.js';

export interface WorkerConfig {
  dbPath: string;
  logPath: string;
  summaryPath: string;
  /** DAG runs (a -> b, c -> d). */
  dagRuns: number;
  /** Fan-out runs, each spawning `children` children and summing their outputs. */
  fanoutRuns: number;
  children: number;
  /** Give children explicit keys (`c-<j>`), or leave them to the content hash of their input. */
  explicitKeys: boolean;
  /** Each step sleeps a random time in this range (ms) before its side effect. */
  stepMs: [number, number];
  maxParallelNodes: number;
}

/** One line of the side-effect log. */
export interface EffectLine {
  runId: string;
  step: string;
  attempt: number;
  /** `<p>/<j>` for child j of fan-out p, null for other steps. */
  key: string | null;
}

export interface WorkerSummary {
  runs: Array<{ key: string; runId: string; workflow: string; status: string; output: unknown }>;
}

export const DAG_WORKFLOW = 'crash-dag';
export const FANOUT_WORKFLOW = 'crash-fanout';
export const CHILD_WORKFLOW = 'crash-child';

/** d = b + c = 2(x + 1) + 3(x + 1). */
export const dagOutput = (x: number) => 5 * (x + 1);
/** Child j of fan-out p returns p * 1000 + j; the parent sums them. */
export const fanoutOutput = (p: number, children: number) => p * 1000 * children + (children * (children - 1)) / 2;

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'worker.ts');

export interface WorkerProcess {
  child: ChildProcess;
  /** Resolves when the worker has loaded its code (before it opens the store). */
  booted: Promise<void>;
  /** Resolves with the exit code, or the signal that ended it. */
  exited: Promise<number | NodeJS.Signals>;
  stderr: () => string;
}

/** Starts the worker: node on its compiled script (test/support/compiled.ts), no shell. */
export function startWorker(config: WorkerConfig): WorkerProcess {
  const child = spawn(process.execPath, [...nodeArgs(WORKER), JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const booted = new Promise<void>((resolve) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('booted')) resolve();
    });
    child.on('exit', () => resolve());
  });
  const exited = new Promise<number | NodeJS.Signals>((resolve) =>
    child.on('exit', (code, signal) => resolve(signal ?? code ?? -1)),
  );
  return { child, booted, exited, stderr: () => err };
}

/** A small seeded PRNG (mulberry32), so a failing sequence of kill delays can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface KillReport {
  /** Lives ended by SIGKILL. */
  killed: number;
  /** Lives that finished on their own before their kill was due. */
  finishedEarly: number;
  delaysMs: number[];
}

/**
 * Starts the worker `lives` times and SIGKILLs each life a random 30-300 ms after it booted
 * (module loading takes ~0.4 s, so counting from the spawn would only ever kill a process that had
 * not opened the store yet). A life that exits by itself first must have exited 0.
 */
export async function killRepeatedly(config: WorkerConfig, lives: number, random: () => number): Promise<KillReport> {
  const report: KillReport = { killed: 0, finishedEarly: 0, delaysMs: [] };
  for (let i = 0; i < lives; i++) {
    const worker = startWorker(config);
    await worker.booted;
    const delayMs = Math.round(30 + random() * 270);
    report.delaysMs.push(delayMs);
    const timer = new Promise<'kill'>((resolve) => setTimeout(() => resolve('kill'), delayMs));
    const first = await Promise.race([timer, worker.exited]);
    if (first === 'kill') {
      worker.child.kill('SIGKILL');
      const how = await worker.exited;
      if (how === 'SIGKILL') report.killed++;
      else if (how !== 0) throw new Error(`worker life ${i} exited ${how} before its kill:\n${worker.stderr()}`);
      else report.finishedEarly++;
    } else if (first !== 0) {
      throw new Error(`worker life ${i} exited ${first}:\n${worker.stderr()}`);
    } else {
      report.finishedEarly++;
    }
  }
  return report;
}

/** Runs the worker to completion (no kill) and returns its summary. */
export async function runToCompletion(config: WorkerConfig, timeoutMs: number): Promise<WorkerSummary> {
  fs.rmSync(config.summaryPath, { force: true });
  const worker = startWorker(config);
  const timer = setTimeout(() => worker.child.kill('SIGKILL'), timeoutMs);
  const how = await worker.exited;
  clearTimeout(timer);
  if (how !== 0) throw new Error(`final worker exited ${how}:\n${worker.stderr()}`);
  return JSON.parse(fs.readFileSync(config.summaryPath, 'utf8')) as WorkerSummary;
}

export function readEffects(logPath: string): EffectLine[] {
  if (!fs.existsSync(logPath)) return [];
  return fs
    .readFileSync(logPath, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as EffectLine);
}

export interface StoreView {
  runs: RunRecord[];
  events: EventRecord[];
}

/** Reads every run and event from the worker's database (after the workers have exited). */
export async function readStore(dbPath: string): Promise<StoreView> {
  const store = new SqliteStore({ path: dbPath });
  await store.open();
  try {
    const runs: RunRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.listRuns({ order: 'asc', limit: 1000, ...(cursor ? { cursor } : {}) });
      runs.push(...page.runs);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    const events = await store.listEvents({ limit: Number.MAX_SAFE_INTEGER });
    return { runs, events };
  } finally {
    await store.close();
  }
}

/** Per (run, step): attempts started, successes and the attempt that succeeded, from the events. */
export function stepHistory(events: readonly EventRecord[]): Map<string, { started: number; succeeded: number[] }> {
  const out = new Map<string, { started: number; succeeded: number[] }>();
  for (const e of events) {
    if (e.step === null) continue;
    const id = `${e.runId}/${e.step}`;
    let h = out.get(id);
    if (!h) {
      h = { started: 0, succeeded: [] };
      out.set(id, h);
    }
    if (e.type === 'step_started') h.started++;
    if (e.type === 'step_succeeded') h.succeeded.push(e.attempt ?? 0);
  }
  return out;
}
