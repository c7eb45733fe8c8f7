import { afterEach, describe, expect, it } from 'vitest';
import { rateLimitOverhead } from '../bench/rateLimitOverhead.js';
import { benchExecutor } from '../bench/workloads.js';
import { MemoryStore, type WorkflowExecutor } from '../src/index.js';

// The RL bench row with tiny N, so it cannot rot: it checks every run's result itself.
describe('bench row RL (rate limit overhead)', () => {
  let executor: WorkflowExecutor | undefined;
  afterEach(async () => {
    await executor?.cleanup();
  });

  it('runs the plain and the rate-limited halves and reports both rates', async () => {
    executor = benchExecutor(new MemoryStore());
    const figures = await rateLimitOverhead(executor, 40, 10);
    expect(figures.plainRunsPerSecond).toBeGreaterThan(0);
    expect(figures.limitedRunsPerSecond).toBeGreaterThan(0);
    expect(Number.isFinite(figures.overheadPct)).toBe(true);
  });
});
