import { describe, expect, it } from 'vitest';
import { shrink } from './shrink.js';
import { DEFAULT_OPTIONS, simulate } from './simulation.js';

/**
 * The simulation in CI: a fixed set of seeds on each embedded store, and the checks themselves
 * checked (a planted bug is caught, a seed replays exactly, a failure shrinks). `npm run sim`
 * explores many more seeds.
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
    expect(small.violations.length).toBeGreaterThan(0);
    expect(small.trace.length).toBeLessThan(outcome.trace.length);
  });
});
