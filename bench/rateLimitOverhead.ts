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

async function timed(executor: WorkflowExecutor, wf: typeof plain, total: number, inFlight: number) {
  let next = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
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
  const cpu = process.cpuUsage(cpu0);
  return { runsPerSecond: (total / (performance.now() - t0)) * 1000, cpuUsPerRun: (cpu.user + cpu.system) / total };
}

export async function rateLimitOverhead(executor: WorkflowExecutor, total = 2000, inFlight = 50): Promise<Figures> {
  executor.register(plain, limited);
  await timed(executor, plain, Math.min(1000, total), inFlight); // warm-up
  await timed(executor, limited, Math.min(1000, total), inFlight);
  const half = Math.max(1, Math.floor(total / 2));
  let plainRate = 0;
  let limitedRate = 0;
  let plainCpu = 0;
  let limitedCpu = 0;
  for (let round = 0; round < 2; round++) {
    const p = await timed(executor, plain, half, inFlight);
    const l = await timed(executor, limited, half, inFlight);
    plainRate += p.runsPerSecond / 2;
    limitedRate += l.runsPerSecond / 2;
    plainCpu += p.cpuUsPerRun / 2;
    limitedCpu += l.cpuUsPerRun / 2;
  }
  return {
    plainRunsPerSecond: plainRate,
    limitedRunsPerSecond: limitedRate,
    overheadPct: (1 - limitedRate / plainRate) * 100,
    // CPU time of this process per run: steadier than runs/s when other work shares the machine.
    plainCpuUsPerRun: plainCpu,
    limitedCpuUsPerRun: limitedCpu,
    cpuOverheadPct: (limitedCpu / plainCpu - 1) * 100,
  };
}
