/** The live view of `braid run --wait`, rendered without a terminal. */
import pc from 'picocolors';
import { describe, expect, it } from 'vitest';
import { renderProgress } from '../../src/cli/render/progress.js';
import { renderReport } from '../../src/cli/render/report.js';
import { schemaSummary } from '../../src/cli/render/waits.js';
import { planChildCounts, type RunReport } from '../../src/cli/runSource/runReport.js';
import type { RunJson, StepJson, WaitJson } from '../../src/server/schemas.js';

const c = pc.createColors(false);
const T0 = 1_800_000_000_000;

/** `braid`'s local time format, for T0 + ms. */
function formatTimeLocal(ms: number): string {
  const d = new Date(T0 + ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

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
    priority: 0,
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

function wait(overrides: Partial<WaitJson> & Pick<WaitJson, 'step' | 'key' | 'kind'>): WaitJson {
  return {
    group: overrides.key,
    status: 'pending',
    name: null,
    dueAt: null,
    eventKey: null,
    match: null,
    request: null,
    value: null,
    createdAt: T0,
    resolvedAt: null,
    ...overrides,
  };
}

function report(
  steps: StepJson[],
  byStep: RunReport['children']['byStep'] = {},
  waits: WaitJson[] = [],
  runOverrides: Partial<RunJson> = {},
): RunReport {
  return {
    run: run(runOverrides),
    steps,
    waits,
    children: { total: 0, counts: {}, byStep },
    parent: null,
    replayOf: null,
  };
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

  it("shows a running step's ctx.progress after its duration, and not once the step has ended", () => {
    const r = report([
      step('index', { status: 'running', attempts: 1, startedAt: T0 }),
      step('label', { status: 'running', attempts: 1, startedAt: T0 }),
      step('done', { status: 'succeeded', attempts: 1, startedAt: T0, finishedAt: T0 + 10 }),
    ]);
    r.progress = {
      index: { value: { done: 3, total: 10 }, at: T0 },
      label: { value: 'reading page 4', at: T0 },
      done: { value: { done: 10, total: 10 }, at: T0 },
    };
    expect(frame(r).split('\n').slice(1)).toEqual([
      '  ⠋ index  1 attempt   2.5 s  3/10 30%',
      '  ⠋ label  1 attempt   2.5 s  reading page 4',
      '  ✔ done   1 attempt   10 ms',
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

  it('shows a waiting step as waiting: for what, until when, and how to answer an input', () => {
    const text = frame(
      report(
        [
          step('ask', { status: 'waiting', attempts: 1, startedAt: T0 }),
          step('nap', { status: 'waiting', attempts: 1, startedAt: T0 }),
          step('hear', { status: 'waiting', attempts: 1, startedAt: T0 }),
          step('race', { status: 'waiting', attempts: 1, startedAt: T0 }),
        ],
        {},
        [
          wait({ step: 'ask', key: 'input:approve#0', kind: 'input', name: 'approve', dueAt: T0 + 3_602_500 }),
          wait({ step: 'nap', key: 'sleep#0', kind: 'sleep', dueAt: T0 + 62_500 }),
          wait({ step: 'hear', key: 'event:order.paid#0', kind: 'event', name: 'order.paid', eventKey: 'A-1' }),
          wait({ step: 'race', key: 'first#0/ok', group: 'first#0', kind: 'event', name: 'ok' }),
          wait({ step: 'race', key: 'first#0/late', group: 'first#0', kind: 'sleep', dueAt: T0 + 12_500 }),
          wait({ step: 'nap', key: 'sleep#1', kind: 'sleep', status: 'resolved', dueAt: T0, resolvedAt: T0 }),
        ],
        { status: 'waiting' },
      ),
    );
    const time = formatTimeLocal;
    expect(text.split('\n')).toEqual([
      'digest run_1  ◷ waiting  2.5 s',
      `  ◷ ask   1 attempt   input "approve", until ${time(3_602_500)} (in 1h 00m)`,
      "      answer: braid input run_1 approve --data '<json>'",
      `  ◷ nap   1 attempt   sleeping until ${time(62_500)} (in 1m 00s)`,
      '  ◷ hear  1 attempt   event "order.paid" with key "A-1", no time limit',
      `  ◷ race  1 attempt   first of event "ok", sleep, until ${time(12_500)} (in 10.0 s)`,
    ]);
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

describe('braid show: waits', () => {
  it('lists pending waits with their request, value shape and answer, then the settled ones in a line', () => {
    const schema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: { approved: { type: 'boolean' }, level: { type: 'string', enum: ['low', 'high'] } },
      required: ['approved'],
    };
    const text = renderReport(
      report(
        [step('ask', { status: 'waiting', attempts: 1, startedAt: T0 })],
        {},
        [
          wait({
            step: 'ask',
            key: 'input:approve#0',
            kind: 'input',
            name: 'approve',
            request: { payload: { amount: 5 }, schema },
          }),
          wait({ step: 'ask', key: 'sleep#0', kind: 'sleep', status: 'resolved', resolvedAt: T0 + 10 }),
          wait({ step: 'ask', key: 'event:x#0', kind: 'event', name: 'x', status: 'timed_out', resolvedAt: T0 + 20 }),
        ],
        { status: 'waiting' },
      ),
      c,
      T0 + 2500,
    );
    expect(text).toContain(
      [
        'waiting for:',
        '  ask: input "approve", no time limit',
        '    request: {"amount":5}',
        '    value:   { approved: boolean, level?: "low" | "high" }',
        "    answer:  braid input run_1 approve --data '<json>'",
        '',
        'settled waits:',
        `  ✔ ask: sleep resolved ${formatTimeLocal(10)}`,
        `  ⌛ ask: event "x" timed out ${formatTimeLocal(20)}`,
      ].join('\n'),
    );
  });

  it('summarises JSON Schemas as TypeScript writes types', () => {
    expect(schemaSummary({ type: 'array', items: { type: 'string' } })).toBe('string[]');
    expect(schemaSummary({ anyOf: [{ type: 'string' }, { type: 'null' }] })).toBe('string | null');
    expect(schemaSummary({ type: 'object', properties: { 'a-b': { const: 1 } }, required: ['a-b'] })).toBe(
      '{ "a-b": 1 }',
    );
    expect(schemaSummary({ type: 'array', items: { enum: ['x', 'y'] } })).toBe('Array<"x" | "y">');
    expect(schemaSummary({ not: { type: 'string' } })).toBe('{"not":{"type":"string"}}');
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
