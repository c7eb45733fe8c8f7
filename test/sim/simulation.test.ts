import { describe, expect, it } from 'vitest';
import { shrink } from './shrink.js';
import { DEFAULT_OPTIONS, simulate } from './simulation.js';

/**
 * The simulation in CI: a fixed set of seeds on each embedded store, the seeds that found bugs
 * (pinned, each failed before its fix), and the checks themselves checked (planted bugs are caught,
 * a seed replays exactly, a failure shrinks). `npm run sim` explores many more seeds.
 */
describe('deterministic simulation', () => {
  it('keeps every guarantee over 150 seeds on the memory store', async () => {
    const failures: string[] = [];
    let crashes = 0;
    for (let seed = 1; seed <= 150; seed++) {
      const outcome = await simulate(seed, DEFAULT_OPTIONS);
      crashes += outcome.crashes;
      if (outcome.violations.length > 0) failures.push(`seed ${seed}: ${outcome.violations.join('; ')}`);
    }
    expect(failures).toEqual([]);
    expect(crashes).toBeGreaterThan(150); // the seeds did kill processes, mid-commit and after
  });

  it('keeps every guarantee over 30 seeds on SQLite', async () => {
    const failures: string[] = [];
    for (let seed = 1; seed <= 30; seed++) {
      const outcome = await simulate(seed, { ...DEFAULT_OPTIONS, store: 'sqlite' });
      if (outcome.violations.length > 0) failures.push(`seed ${seed}: ${outcome.violations.join('; ')}`);
    }
    expect(failures).toEqual([]);
  });

  /**
   * Seeds that found engine bugs, each named with what it found; each failed before its fix:
   * 1: a rate-limited step function ran before its grant (attempts.ts read Date.now(), not the clock).
   * 3: a quorum join resumed after a crash counted every success and listed its own cancelled child as failed.
   * 14, 158: recovery left the maxRuns slots of runs asleep in the store, or paused, free for queued runs.
   * 263: a refused resume loaded a sleeping run and left it with no wake-up.
   * 287: resuming, after a restart, a run paused while it waited for its slot started it with no slot.
   */
  it.each([1, 3, 14, 158, 263, 287])('pinned seed %i keeps every guarantee', async (seed) => {
    const outcome = await simulate(seed, DEFAULT_OPTIONS);
    expect(outcome.violations).toEqual([]);
  });

  /**
   * A step that got its rate-limit grant and then waited (its run paused, or no free slot) started
   * on the stale grant, bunched with fresh ones; it now asks again once its grant is an interval old.
   */
  it.each([8, 22])('seed %i keeps a rate limit per window of one period', async (seed) => {
    const outcome = await simulate(seed, { ...DEFAULT_OPTIONS, checkRateLimitWindows: true });
    expect(outcome.violations).toEqual([]);
  });

  it('replays a seed exactly: the same trace, byte for byte', async () => {
    const first = await simulate(42, DEFAULT_OPTIONS);
    const second = await simulate(42, DEFAULT_OPTIONS);
    expect(first.crashes).toBeGreaterThan(0);
    expect(second.trace.join('\n')).toBe(first.trace.join('\n'));
  });

  it('catches a planted bug and shrinks it to a shorter trace', async () => {
    const outcome = await simulate(3, { ...DEFAULT_OPTIONS, sabotage: 'drop-success-events' });
    expect(outcome.violations.join('\n')).toMatch(/is succeeded but its event log says/);
    const small = await shrink(outcome);
    expect(small.violations.join('\n')).toMatch(/is succeeded but its event log says/);
    expect(small.trace.length).toBeLessThan(outcome.trace.length);
  });

  it('catches a store whose state is not what its log replays (it drops step errors)', async () => {
    const outcome = await simulate(1, { ...DEFAULT_OPTIONS, sabotage: 'drop-step-errors' });
    const found = outcome.violations.join('\n');
    expect(found).toMatch(/its steps in the store differ from its log's: \[\d+\]\.error is null vs/);
    expect(found).toMatch(/failed with null, its event log says \{"name":"NonRetryableError"/);
  });

  it('catches limits exceeded while the run goes: maxRuns, a pool, a rate limit', async () => {
    const found: string[] = [];
    for (const seed of [1, 2, 9]) {
      found.push(...(await simulate(seed, { ...DEFAULT_OPTIONS, sabotage: 'loose-limits' })).violations);
    }
    const all = found.join('\n');
    expect(all).toMatch(/runs of sim-wf-\d \(key "\d?"\) hold a slot at once, more than its maxRuns/);
    expect(all).toMatch(/holds 3 units of pool sim-pool, more than its 2/);
    expect(all).toMatch(/rate limit sim-rate\/\d granted starts \d+(\.\d+)? ms apart, closer than its interval 500 ms/);
  });

  it('shrinks by leaving single parts of the plan out', async () => {
    const outcome = await simulate(1, { ...DEFAULT_OPTIONS, sabotage: 'loose-limits' });
    expect(outcome.planned.faults).toBeGreaterThan(0);
    const small = await shrink(outcome);
    expect(small.violations.length).toBeGreaterThan(0);
    expect(small.trace.length).toBeLessThan(outcome.trace.length);
    expect(Object.values(small.options.skip ?? {}).flat().length).toBeGreaterThan(0);
    // The removal is replayable: the same seed with the same variant fails the same way again.
    const again = await simulate(1, small.options);
    expect(again.trace).toEqual(small.trace);
  });
});
