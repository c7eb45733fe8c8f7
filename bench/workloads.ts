/**
 * The benchmark workloads. Each one builds its workflows, runs them on a fresh executor over the
 * given store, checks every result, and returns its figures. `npm run bench` prints them; the
 * smoke test runs each with a tiny N so they cannot rot.
 */
import { type Store, WorkflowExecutor, workflow } from '../src/index.js';

export interface Figures {
  [name: string]: number;
}

type Input<T> = { input: T };
const one = workflow('w1-one').step('double', (ctx) => (ctx.input as { x: number }).x * 2);
const child = workflow('w2-child').step('value', (ctx) => (ctx.input as { i: number }).i);
const parent = workflow('w2-parent').step('fanout', async (ctx) => {
  const { n } = ctx.input as { n: number };
  const handles = ctx.spawnWorkflows(Array.from({ length: n }, (_, i) => ({ workflow: child, input: { i } })));
  const values = await ctx.join(handles);
  let sum = 0;
  for (const v of values) sum += v as number;
  return sum;
});
const diamond = workflow('w3-diamond')
  .step('a', (ctx) => (ctx.input as { x: number }).x + 1)
  .step('b', { parents: ['a'] }, (ctx) => 2 * ctx.parent('a'))
  .step('c', { parents: ['a'] }, (ctx) => 3 * ctx.parent('a'))
  .step('d', { parents: ['b', 'c'] }, (ctx) => ctx.parent('b') + ctx.parent('c'));

export const benchWorkflows = [one, child, parent, diamond];

/** Parallelism for the benchmark executor: enough that slots never throttle 50 runs in flight. */
export const BENCH_PARALLELISM = 1000;

export function benchExecutor(store: Store): WorkflowExecutor {
  return new WorkflowExecutor({
    store,
    workflows: benchWorkflows,
    maxParallelNodes: BENCH_PARALLELISM,
    historySize: 1,
  });
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`benchmark result check failed: ${what}`);
}

/** Keeps `inFlight` runs going until `total` are done; returns runs per second. */
async function closedLoop(total: number, inFlight: number, runOne: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(inFlight, total) }, async () => {
      while (next < total) await runOne(next++);
    }),
  );
  return (total / (performance.now() - t0)) * 1000;
}

/** W1: single-step runs (the step returns 2x), `inFlight` at a time: runs/s, first trigger to last done. */
export async function w1(executor: WorkflowExecutor, total = 2000, inFlight = 50): Promise<Figures> {
  const runsPerSecond = await closedLoop(total, inFlight, async (i) => {
    const r = await executor.execute(one, { x: i });
    check(r.output === i * 2, `W1 run ${i} returned ${String(r.output)}`);
  });
  return { runsPerSecond };
}

/** W2: one parent spawns n children (child i returns i), joins and sums: ms trigger to parent done. */
export async function w2(executor: WorkflowExecutor, n: number): Promise<Figures> {
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let peakRss = rssBefore;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 5);
  const t0 = performance.now();
  const r = await executor.execute(parent, { n });
  const ms = performance.now() - t0;
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  check(r.success && r.output === (n * (n - 1)) / 2, `W2 n=${n} returned ${String(r.output)} (${r.error?.message})`);
  return { ms, peakRssMb: peakRss / 2 ** 20 };
}

/** W3: diamond DAG runs (A = x+1; B = 2A and C = 3A in parallel; D = B+C), 50 in flight: runs/s. */
export async function w3(executor: WorkflowExecutor, total = 300, inFlight = 50): Promise<Figures> {
  const runsPerSecond = await closedLoop(total, inFlight, async (i) => {
    const r = await executor.execute(diamond, { x: i });
    check(r.output === 5 * (i + 1), `W3 run ${i} returned ${String(r.output)}`);
  });
  return { runsPerSecond };
}

/** W4: sequential single-step runs, each triggered after the previous finished: latency percentiles. */
export async function w4(executor: WorkflowExecutor, total = 200): Promise<Figures> {
  const latencies: number[] = [];
  for (let i = 0; i < total; i++) {
    const t0 = performance.now();
    const r = await executor.execute(one, { x: i });
    latencies.push(performance.now() - t0);
    check(r.output === i * 2, `W4 run ${i}`);
  }
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] as number;
  return { p50Ms: at(0.5), p99Ms: at(0.99) };
}

export type { Input };

/** A chain of `n` steps, each adding one to its parent: what W5 runs with every callback on. */
function chain(n: number) {
  let wf = workflow(`w5-chain-${n}`).step('s0', () => 0) as ReturnType<typeof workflow> & { step: any };
  for (let i = 1; i < n; i++) {
    const parent = `s${i - 1}`;
    wf = wf.step(
      `s${i}`,
      { parents: [parent] },
      (ctx: { parent(name: string): unknown }) => (ctx.parent(parent) as number) + 1,
    );
  }
  return wf;
}

/**
 * W5: one run of `n` sequential steps with a handler on every callback: ms per step. With per-step
 * callbacks costing O(1), 2,000 steps cost per step what 500 do (they cost O(steps) each before).
 */
export async function w5(executor: WorkflowExecutor, n: number): Promise<Figures> {
  const wf = chain(n);
  let completed = 0;
  const remove = executor.callbackManager.addHandler({
    onWorkflowStart: () => {},
    onNodeStart: () => {},
    onNodeComplete: (info) => {
      completed++;
      check(info.result.status === 'succeeded', `W5 step ${info.nodeId}`);
    },
    onWorkflowComplete: () => {},
    onError: () => {},
  });
  try {
    const t0 = performance.now();
    const r = await executor.execute(wf, null);
    const ms = performance.now() - t0;
    check(r.output === n - 1 && completed === n, `W5 n=${n} returned ${String(r.output)}, ${completed} callbacks`);
    return { msPerStep: ms / n, ms };
  } finally {
    remove();
  }
}

/**
 * W7: `total` runs started with idempotency keys (all distinct), `inFlight` at a time; the heap
 * after a full GC at each quarter: flat when keys are not kept in memory once their run is stored.
 */
export async function w7(executor: WorkflowExecutor, total = 200_000, inFlight = 50): Promise<Figures> {
  const figures: Figures = {};
  const quarter = Math.floor(total / 4);
  let done = 0;
  const t0 = performance.now();
  for (let q = 1; q <= 4; q++) {
    await closedLoop(quarter, inFlight, async () => {
      const i = done++;
      const r = await executor.execute(one, { x: i }, undefined, { idempotencyKey: `w7-${i}` });
      check(r.output === i * 2, `W7 run ${i}`);
    });
    global.gc?.();
    figures[`heapMbAt${q * 25}pct`] = process.memoryUsage().heapUsed / 2 ** 20;
  }
  figures.runsPerSecond = (total / (performance.now() - t0)) * 1000;
  return figures;
}
