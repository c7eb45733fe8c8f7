import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CHILD_WORKFLOW,
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

const CHILDREN = 500;
const KILLS = 8;

// One parent spawns 500 children keyed by the hash of their input (no explicit keys), so a
// recovered parent must find its children again by content hash and ordinal.
const config: WorkerConfig = {
  dbPath: path.join(dir, 'fanout.db'),
  logPath: path.join(dir, 'fanout-effects.log'),
  summaryPath: path.join(dir, 'fanout-summary.json'),
  dagRuns: 0,
  fanoutRuns: 1,
  children: CHILDREN,
  explicitKeys: false,
  stepMs: [1, 5],
  maxParallelNodes: 1,
};

const seed = Number(process.env.BRAID_CRASH_SEED ?? Date.now() % 1_000_000);

describe(`SIGKILL mid-fan-out of ${CHILDREN} children, ${KILLS} times (seed ${seed})`, () => {
  it('ends with exactly the 500 children, each succeeded once, and the right sum', async () => {
    const report = await killRepeatedly(config, KILLS, seededRandom(seed));
    expect(report.killed, JSON.stringify(report)).toBeGreaterThanOrEqual(3);

    const summary = await runToCompletion(config, 30_000);
    expect(summary.runs).toEqual([
      expect.objectContaining({ key: 'run-0', status: 'succeeded', output: fanoutOutput(0, CHILDREN) }),
    ]);

    const { runs, events } = await readStore(config.dbPath);
    const parents = runs.filter((r) => r.workflow === FANOUT_WORKFLOW);
    expect(parents).toHaveLength(1);
    const parent = parents[0]!;
    const children = runs.filter((r) => r.workflow === CHILD_WORKFLOW);
    expect(children).toHaveLength(CHILDREN);
    expect(children.every((c) => c.parentRunId === parent.id && c.status === 'succeeded')).toBe(true);
    expect(new Set(children.map((c) => c.spawnKey)).size).toBe(CHILDREN);
    const outputs = children.map((c) => JSON.parse(c.output ?? 'null') as number).sort((a, b) => a - b);
    expect(outputs).toEqual(Array.from({ length: CHILDREN }, (_, j) => j));

    const history = stepHistory(events);
    // The parent's step was cut short at least once while it waited on its children, and re-ran.
    const parentSteps = history.get(`${parent.id}/spawn`);
    expect(parentSteps?.succeeded).toHaveLength(1);
    expect(parentSteps?.started, JSON.stringify(report)).toBeGreaterThan(1);

    const effects = readEffects(config.logPath);
    const linesByKey = new Map<string, Array<{ runId: string; attempt: number }>>();
    for (const line of effects) {
      if (line.key !== null) linesByKey.set(line.key, [...(linesByKey.get(line.key) ?? []), line]);
    }
    expect(linesByKey.size).toBe(CHILDREN);
    for (const child of children) {
      const id = `${child.id}/work`;
      const h = history.get(id);
      expect(h?.succeeded, id).toHaveLength(1);
      const key = `0/${JSON.parse(child.input).j}`;
      const lines = linesByKey.get(key) ?? [];
      // One child run per key, appended at most once per started attempt, and never after the
      // attempt that succeeded.
      expect(new Set(lines.map((l) => l.runId)), key).toEqual(new Set([child.id]));
      expect(lines.length, key).toBeGreaterThanOrEqual(1);
      expect(lines.length, key).toBeLessThanOrEqual(h?.started ?? 0);
      expect(Math.max(...lines.map((l) => l.attempt)), key).toBe(h?.succeeded[0]);
    }
  }, 240_000); // a guard against hangs: with two vitest workers, two crash tests can share the 2 cores
});
