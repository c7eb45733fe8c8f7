/**
 * What the chaos test shares with its worker processes: the worker's configuration, the workflows'
 * names and expected outputs, the side-effect table, and starting a worker process.
 *
 * The shape of a run: step `a` -> step `b` spawns 3 children (keys `c-0`..`c-2`) and joins them ->
 * step `c`. A child has one step, `work`. Every step execution INSERTs one row into the side-effect
 * table of the same database when it begins, so the test can compare executions with the events.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type StepContext, workflow } from '../../src/index.js';
import { nodeArgs } from '../support/compiled.js';

export interface ChaosWorkerConfig {
  url: string;
  leaseMs: number;
  heartbeatMs: number;
  pollMs: number;
  maxParallelNodes: number;
  /** Each step sleeps a random time in this range (ms) after recording its side effect. */
  stepMs: [number, number];
}

export const PARENT_WORKFLOW = 'chaos-parent';
export const CHILD_WORKFLOW = 'chaos-child';
export const CHILDREN = 3;
export const PARENT_STEPS = ['a', 'b', 'c'] as const;
export const CHILD_STEP = 'work';

/** Child j of run i returns i * 10 + j. */
export const childOutput = (i: number, j: number) => i * 10 + j;
/** a = i + 1; b = the sum of the children's outputs; c = a + b. */
export const parentOutput = (i: number) => i + 1 + CHILDREN * i * 10 + (CHILDREN * (CHILDREN - 1)) / 2;

/**
 * The two workflows, with `effect` called as each step execution begins (the workers record it;
 * the test process only starts runs, so it never calls it).
 */
export function chaosWorkflows(effect: (ctx: StepContext<any, any>, key: string) => Promise<void>) {
  // No input schemas: zod would add ~200 ms to each worker's start, and they start once a second.
  const child = workflow(CHILD_WORKFLOW).step(CHILD_STEP, async (ctx) => {
    const { i, j } = ctx.input as { i: number; j: number };
    await effect(ctx, `${i}/${j}`);
    return childOutput(i, j);
  });
  const parent = workflow(PARENT_WORKFLOW)
    .step('a', async (ctx) => {
      const { i } = ctx.input as { i: number };
      await effect(ctx, `${i}`);
      return i + 1;
    })
    .step('b', { parents: ['a'] }, async (ctx) => {
      const { i } = ctx.input as { i: number };
      await effect(ctx, `${i}`);
      const handles = ctx.spawnWorkflows(
        Array.from({ length: CHILDREN }, (_, j) => ({ workflow: child, input: { i, j }, options: { key: `c-${j}` } })),
      );
      const outputs: number[] = await ctx.join(handles);
      return outputs.reduce((sum, x) => sum + x, 0);
    })
    .step('c', { parents: ['a', 'b'] }, async (ctx) => {
      const { i } = ctx.input as { i: number };
      await effect(ctx, `${i}`);
      return (ctx.parent('a') as number) + (ctx.parent('b') as number);
    });
  return { parent, child };
}

export const EFFECTS_TABLE = 'chaos_effects';

/** One row per step execution, written by the step itself as it begins. */
export const CREATE_EFFECTS_TABLE = `CREATE TABLE ${EFFECTS_TABLE} (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id text NOT NULL,
  step text NOT NULL,
  attempt integer NOT NULL,
  -- 'i' for a parent step, 'i/j' for child j of run i: what the step was asked to compute.
  key text NOT NULL,
  pid integer NOT NULL,
  -- Date.now() of the worker, the clock the engine stamps events with (same host).
  at bigint NOT NULL
)`;

export interface EffectRow {
  id: number;
  run_id: string;
  step: string;
  attempt: number;
  key: string;
  pid: number;
  at: number;
}

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'chaos.worker.ts');

export interface ChaosWorker {
  child: ChildProcess;
  /** Resolves when the executor is open (registered as a worker), or when the process exits first. */
  ready: Promise<void>;
  isReady: () => boolean;
  /** Tells a standby (loaded, not yet a worker) to open its executor and join the cluster. */
  activate(): void;
  isActive: () => boolean;
  /** Resolves with the exit code, or the signal that ended it. */
  exited: Promise<number | NodeJS.Signals>;
  /** The last 16 KB of its stderr. */
  stderr: () => string;
}

/** Starts a worker process: node on its compiled script (test/support/compiled.ts), no shell. */
export function startChaosWorker(config: ChaosWorkerConfig): ChaosWorker {
  const child = spawn(process.execPath, [...nodeArgs(WORKER), JSON.stringify(config)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-16_384);
  });
  let isReady = false;
  const ready = new Promise<void>((resolve) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) {
        isReady = true;
        resolve();
      }
    });
    child.on('exit', () => resolve());
  });
  const exited = new Promise<number | NodeJS.Signals>((resolve) =>
    child.on('exit', (code, signal) => resolve(signal ?? code ?? -1)),
  );
  let isActive = false;
  const activate = () => {
    isActive = true;
    child.stdin?.write('go\n');
  };
  return { child, ready, isReady: () => isReady, isActive: () => isActive, activate, exited, stderr: () => err };
}
