/**
 * What the durable-waits crash test shares with its worker process: the configuration, the shape
 * of a run and its expected output, the log lines the worker writes, and the messages the test
 * (the driver: it sends the events and inputs, as a webhook or a person would) exchanges with it.
 *
 * A run of `crash-waits` (input { i, napMs }):
 *   nap:  sleeps napMs (`sleep#0`), then 4,000 ms more (`sleep:second`), returns i
 *   hear: waits for event `crash.go` matching { i }, returns its payload
 *   ask:  waits for input `approve` ({ by: string }) twice, returns { nap, hear, ask: [both values] }
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeArgs } from '../support/compiled.js';

export interface WaitsWorkerConfig {
  dbPath: string;
  /** JSON lines: WaitsLogLine. */
  logPath: string;
  summaryPath: string;
  runs: number;
  /** The life this process is (0, 1, ...): written into each log line. */
  life: number;
}

export const WAITS_WORKFLOW = 'crash-waits';
export const SECOND_SLEEP_MS = 4000;

/** Run i's first sleep: 1.5 to 2.9 s, spread so wake-ups fall all through the test. */
export const napMsOf = (i: number) => 1500 + ((i * 373) % 1400);
export const eventPayloadOf = (i: number) => ({ i, v: i * 7 });
export const inputValueOf = (i: number) => ({ by: `person-${i}` });
export const outputOf = (i: number) => ({ nap: i, hear: eventPayloadOf(i), ask: [inputValueOf(i), inputValueOf(i)] });

/**
 * One line of the worker's log. `boot`: a life starts opening the store. `asked`: a step is about
 * to call a sleep whose deadline it computes as `due`. `woke`: a sleep call returned. `invoke`: a
 * step function began (an attempt, or a re-run after a wait). `effect`: it got past its last wait.
 */
export type WaitsLogLine =
  | { type: 'boot'; life: number; at: number }
  | { type: 'asked'; life: number; at: number; runId: string; key: string; due: number }
  | { type: 'woke'; life: number; at: number; runId: string; key: string }
  | { type: 'invoke' | 'effect'; life: number; at: number; runId: string; step: string };

/** Worker → driver. */
export type WorkerMessage =
  | { type: 'ready'; runIds: string[] }
  | { type: 'pending'; events: number[]; inputs: Array<{ i: number; key: string }> }
  | { type: 'sent'; id: number; outcome: SendOutcome };

/** Driver → worker: send run i its event, or give it its input. */
export interface SendRequest {
  type: 'send';
  id: number;
  kind: 'event' | 'input';
  i: number;
}

export type SendOutcome =
  | { ok: true; duplicate?: boolean; delivered?: number }
  | { ok: false; code: string; message: string };

export interface WaitsSummary {
  runs: Array<{ i: number; runId: string; status: string; output: unknown }>;
}

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'waits.worker.ts');

export interface WaitsWorker {
  child: ChildProcess;
  /** Resolves with the run ids once the worker has opened the store and (re)started its runs. */
  ready: Promise<string[] | undefined>;
  exited: Promise<number | NodeJS.Signals>;
  stderr: () => string;
}

/** Starts a worker life: node on its compiled script (test/support/compiled.ts) and an IPC channel to the driver. */
export function startWaitsWorker(config: WaitsWorkerConfig, onMessage: (message: WorkerMessage) => void): WaitsWorker {
  const child = spawn(process.execPath, [...nodeArgs(WORKER), JSON.stringify(config)], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const ready = new Promise<string[] | undefined>((resolve) => {
    child.on('message', (message: WorkerMessage) => {
      if (message.type === 'ready') resolve(message.runIds);
      onMessage(message);
    });
    child.on('exit', () => resolve(undefined));
  });
  const exited = new Promise<number | NodeJS.Signals>((resolve) =>
    child.on('exit', (code, signal) => resolve(signal ?? code ?? -1)),
  );
  return { child, ready, exited, stderr: () => err };
}

export function readWaitsLog(logPath: string): WaitsLogLine[] {
  if (!fs.existsSync(logPath)) return [];
  return fs
    .readFileSync(logPath, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as WaitsLogLine);
}
