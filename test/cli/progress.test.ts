/** The live view of `braid run --wait`, rendered without a terminal. */
import pc from 'picocolors';
import { describe, expect, it } from 'vitest';
import { renderProgress } from '../../src/cli/render/progress.js';
import { planChildCounts, type RunReport } from '../../src/cli/runSource/runReport.js';
import type { RunJson, StepJson } from '../../src/server/schemas.js';

const c = pc.createColors(false);
const T0 = 1_800_000_000_000;

function run(overrides: Partial<RunJson> = {}): RunJson {
  return {
    id: 'run_1',
    workflow: 'digest',
    version: '1',
    status: 'running',
    input: {},
    output: null,
    error: null,
    globals: {},
    idempotencyKey: null,
    parentRunId: null,
    parentStep: null,
    spawnKey: null,
    rootRunId: 'run_1',
    concurrencyKey: null,
    replayOf: null,
    createdAt: T0,
    startedAt: T0,
    finishedAt: null,
    deadlineAt: null,
    pausedAt: null,
    durationMs: null,
    ...overrides,
  };
}

function step(name: string, overrides: Partial<StepJson> = {}): StepJson {
  return {
    name,
    status: 'pending',
    parents: [],
    attempts: 0,
    output: null,
    error: null,
    startedAt: null,
    finishedAt: null,
    durationMs: null,
    nextAttemptAt: null,
    route: null,
    cacheHit: false,
    fallbackUsed: false,
    ...overrides,
  };
}

function report(steps: StepJson[], byStep: RunReport['children']['byStep'] = {}): RunReport {
  return { run: run(), steps, children: { total: 0, counts: {}, byStep }, parent: null, replayOf: null };
}

const frame = (r: RunReport, maxLines?: number) =>
  renderProgress(r, { colors: c, now: T0 + 2500, tick: 0, ...(maxLines ? { maxLines } : {}) });

describe('renderProgress', () => {
  it('shows one line per step: status, name, attempts, duration; and the children of a step', () => {
    const text = frame(
      report(
        [
          step('fetch', { status: 'succeeded', attempts: 1, startedAt: T0, finishedAt: T0 + 20 }),
          step('fanout', { status: 'running', attempts: 1, startedAt: T0 + 20 }),
          step('publish'),
        ],
        { fanout: { total: 25, counts: { succeeded: 18, running: 7 } } },
      ),
    );
    expect(text.split('\n')).toEqual([
      'digest run_1  ⠋ running  2.5 s',
      '  ✔ fetch    1 attempt   20 ms',
      '  ⠋ fanout   1 attempt   2.5 s',
      '      children 18/25 succeeded, 7 running',
      '  ○ publish',
    ]);
  });

  it('shows a retry that is waiting, with its error, and marks cache hits and fallbacks', () => {
    const text = frame(
      report([
        step('stock', {
          status: 'queued',
          attempts: 1,
          startedAt: T0,
          nextAttemptAt: T0 + 3000,
          error: { name: 'Error', message: 'warehouse API timed out' },
        }),
        step('price', { status: 'succeeded', startedAt: T0, finishedAt: T0, cacheHit: true }),
        step('charge', { status: 'succeeded', attempts: 3, startedAt: T0, finishedAt: T0 + 90, fallbackUsed: true }),
      ]),
    );
    expect(text).toContain('↻ stock   1 attempt   retry in 500 ms  warehouse API timed out');
    expect(text).toMatch(/✔ price .* 0 ms {2}cached/);
    expect(text).toMatch(/✔ charge +3 attempts +90 ms {2}fallback/);
  });

  it('folds finished steps when the terminal is too short for every line', () => {
    const steps = Array.from({ length: 30 }, (_, i) =>
      step(`s${i}`, { status: 'succeeded', attempts: 1, startedAt: T0, finishedAt: T0 + 1 }),
    );
    steps.push(step('last', { status: 'running', attempts: 1, startedAt: T0 }));
    const lines = frame(report(steps), 10).split('\n');
    expect(lines.length).toBeLessThanOrEqual(10);
    expect(lines).toContain('  … 30 finished steps not shown');
    expect(lines.at(-1)).toContain('last');
  });
});

describe('planChildCounts', () => {
  const done = (name: string) => step(name, { status: 'succeeded', attempts: 1 });
  const running = (name: string) => step(name, { status: 'running', attempts: 1 });

  it('counts every started step the first time, none that never started', () => {
    expect(planChildCounts([done('a'), running('b'), step('c')], undefined)).toEqual({
      toCount: ['a', 'b'],
      settled: {},
    });
  });

  it('reuses the counts of steps that had ended with every child ended', () => {
    const previous = report([done('a'), done('b'), running('c')], {
      a: { total: 2, counts: { succeeded: 2 } },
      b: { total: 2, counts: { succeeded: 1, running: 1 } },
    });
    expect(planChildCounts([done('a'), done('b'), done('c')], previous)).toEqual({
      toCount: ['b', 'c'],
      settled: { a: { total: 2, counts: { succeeded: 2 } } },
    });
  });
});
