import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CHILD_WORKFLOW,
  DAG_WORKFLOW,
  dagOutput,
  FANOUT_WORKFLOW,
  fanoutOutput,
  killRepeatedly,
  readEffects,
  readStore,
  runToCompletion,
  seededRandom,
  stepHistory,
  type WorkerConfig,
} from './harness.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'braid-crash-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const DAG_RUNS = 30;
const FANOUT_RUNS = 6;
const CHILDREN = 25;
const KILLS = 20;

const config: WorkerConfig = {
  dbPath: path.join(dir, 'core.db'),
  logPath: path.join(dir, 'core-effects.log'),
  summaryPath: path.join(dir, 'core-summary.json'),
  dagRuns: DAG_RUNS,
  fanoutRuns: FANOUT_RUNS,
  children: CHILDREN,
  explicitKeys: true,
  stepMs: [40, 120],
  maxParallelNodes: 8,
};

const seed = Number(process.env.BRAID_CRASH_SEED ?? Date.now() % 1_000_000);

describe(`SIGKILL at random points, ${KILLS} times, then a run to completion (seed ${seed})`, () => {
  it('ends every run succeeded with the right output, never re-runs a succeeded step and never spawns twice', async () => {
    const report = await killRepeatedly(config, KILLS, seededRandom(seed));
    // Most lives must really have been killed, or this test proves nothing.
    expect(report.killed, JSON.stringify(report)).toBeGreaterThanOrEqual(KILLS / 2);

    const summary = await runToCompletion(config, 30_000);
    const { runs, events } = await readStore(config.dbPath);
    const effects = readEffects(config.logPath);

    // Every run ended succeeded with the output its input determines.
    expect(summary.runs).toHaveLength(DAG_RUNS + FANOUT_RUNS);
    summary.runs.forEach((run, i) => {
      expect(run.status, run.key).toBe('succeeded');
      if (i < DAG_RUNS) expect(run.output, run.key).toBe(dagOutput(i));
      else expect(run.output, run.key).toBe(fanoutOutput(i - DAG_RUNS, CHILDREN));
    });

    // Idempotent trigger across restarts: one run per key, nothing else at the top level.
    const topLevel = runs.filter((r) => r.parentRunId === null);
    expect(topLevel.map((r) => r.idempotencyKey).sort()).toEqual(summary.runs.map((r) => r.key).sort());
    expect(runs.every((r) => r.status === 'succeeded')).toBe(true);

    // Idempotent spawn across restarts: exactly CHILDREN children per parent, keys c-0..c-(K-1).
    const expectedKeys = Array.from({ length: CHILDREN }, (_, j) => `c-${j}`).sort();
    const fanouts = topLevel.filter((r) => r.workflow === FANOUT_WORKFLOW);
    expect(fanouts).toHaveLength(FANOUT_RUNS);
    for (const parent of fanouts) {
      const children = runs.filter((r) => r.parentRunId === parent.id);
      expect(children.map((c) => c.spawnKey).sort(), parent.id).toEqual(expectedKeys);
      expect(children.every((c) => c.workflow === CHILD_WORKFLOW && c.parentStep === 'spawn')).toBe(true);
    }
    expect(runs.filter((r) => r.workflow === CHILD_WORKFLOW)).toHaveLength(FANOUT_RUNS * CHILDREN);
    expect(runs.filter((r) => r.workflow === DAG_WORKFLOW)).toHaveLength(DAG_RUNS);

    // Every step of every run succeeded exactly once.
    const history = stepHistory(events);
    const stepsOf = (workflow: string) =>
      workflow === DAG_WORKFLOW ? ['a', 'b', 'c', 'd'] : workflow === FANOUT_WORKFLOW ? ['spawn'] : ['work'];
    const allSteps = runs.flatMap((r) => stepsOf(r.workflow).map((s) => `${r.id}/${s}`));
    expect(allSteps).toHaveLength(DAG_RUNS * 4 + FANOUT_RUNS + FANOUT_RUNS * CHILDREN);
    for (const id of allSteps) expect(history.get(id)?.succeeded, id).toHaveLength(1);

    // The side effects: each attempt a step ran logged once. An attempt runs only after its
    // step_started is committed, so lines <= step_started; a kill between that commit and the line
    // leaves fewer lines than starts. No line may come from an attempt after the one that
    // succeeded: a step whose success was committed never ran again.
    const linesByStep = new Map<string, number[]>();
    for (const line of effects) {
      const id = `${line.runId}/${line.step}`;
      linesByStep.set(id, [...(linesByStep.get(id) ?? []), line.attempt]);
    }
    let reRunAttempts = 0;
    for (const id of allSteps) {
      const attempts = linesByStep.get(id) ?? [];
      const h = history.get(id) ?? { started: 0, succeeded: [] };
      const succeededAttempt = h.succeeded[0] ?? 0;
      expect(attempts.length, id).toBeGreaterThanOrEqual(1);
      expect(attempts.length, id).toBeLessThanOrEqual(h.started);
      expect(new Set(attempts).size, `${id} logged an attempt twice: ${attempts}`).toBe(attempts.length);
      expect(Math.max(...attempts), `${id} ran after attempt ${succeededAttempt} succeeded`).toBe(succeededAttempt);
      reRunAttempts += attempts.length - 1;
    }
    expect(effects).toHaveLength(allSteps.length + reRunAttempts);
    // The kills landed mid-work: some attempts were started and cut short.
    const interrupted = [...history.values()].reduce((sum, h) => sum + h.started - 1, 0);
    expect(interrupted).toBeGreaterThan(0);

    // Each child key's side effects came from one child run: no key was ever spawned twice.
    const runsByKey = new Map<string, Set<string>>();
    for (const line of effects) {
      if (line.key !== null) runsByKey.set(line.key, (runsByKey.get(line.key) ?? new Set()).add(line.runId));
    }
    expect(runsByKey.size).toBe(FANOUT_RUNS * CHILDREN);
    for (const [key, ids] of runsByKey) expect(ids.size, key).toBe(1);
  }, 240_000); // a guard against hangs: with two vitest workers, two crash tests can share the 2 cores
});
