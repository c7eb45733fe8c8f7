/**
 * RL: the cost of a rate limit that never binds. The same single-step runs as W1, `inFlight` at a
 * time, once with a plain step and once with a step under `rateLimit` (a million starts per second,
 * per key: every start is granted at once). The difference is one store round trip per start (the
 * GCRA compare-and-set), taken before the step's slot. Target: <= 20 % fewer runs/s.
 * The two halves alternate (plain, limited, plain, limited) so drift on a shared machine hits both.
 */
import { type WorkflowExecutor, workflow } from '../src/index.js';
import type { Figures } from './workloads.js';

const plain = workflow('rl-plain').step('call', (ctx) => (ctx.input as { x: number }).x * 2);
const limited = workflow('rl-limited').step(
  'call',
  { rateLimit: { limit: 1_000_000, period: '1s', key: (input) => String((input as { x: number }).x % 16) } },
  (ctx) => (ctx.input as { x: number }).x * 2,
);

async function runsPerSecond(executor: WorkflowExecutor, wf: typeof plain, total: number, inFlight: number) {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(inFlight, total) }, async () => {
      while (next < total) {
        const x = next++;
        const r = await executor.execute(wf, { x });
        if (r.output !== x * 2)
          throw new Error(`benchmark result check failed: ${wf.name} run ${x} returned ${String(r.output)}`);
      }
    }),
  );
  return (total / (performance.now() - t0)) * 1000;
}

export async function rateLimitOverhead(executor: WorkflowExecutor, total = 2000, inFlight = 50): Promise<Figures> {
  executor.register(plain, limited);
  await runsPerSecond(executor, plain, Math.min(200, total), inFlight); // warm-up
  await runsPerSecond(executor, limited, Math.min(200, total), inFlight);
  const half = Math.max(1, Math.floor(total / 2));
  let plainRate = 0;
  let limitedRate = 0;
  for (let round = 0; round < 2; round++) {
    plainRate += (await runsPerSecond(executor, plain, half, inFlight)) / 2;
    limitedRate += (await runsPerSecond(executor, limited, half, inFlight)) / 2;
  }
  return {
    plainRunsPerSecond: plainRate,
    limitedRunsPerSecond: limitedRate,
    overheadPct: (1 - limitedRate / plainRate) * 100,
  };
}
