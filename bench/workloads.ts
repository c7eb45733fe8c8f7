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

/** The benchmark's executor; `maxParallelNodes` 50 is the second setting (as many slots as runs in flight). */
export function benchExecutor(store: Store, maxParallelNodes = BENCH_PARALLELISM): WorkflowExecutor {
  return new WorkflowExecutor({
    store,
    workflows: benchWorkflows,
    maxParallelNodes,
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

/**
 * W1 with its CPU cost: this process's CPU (the engine and the store's client side) per run, and,
 * given a reader of the PostgreSQL server's CPU, the server's per run and the runs/s a 16-core
 * database host would carry with the workers on other machines, if its CPU is what bounds it.
 */
export async function w1Cpu(
  executor: WorkflowExecutor,
  total: number,
  inFlight: number,
  serverCpuMs?: () => number,
): Promise<Figures> {
  global.gc?.();
  const cpuBefore = process.cpuUsage();
  const serverBefore = serverCpuMs?.();
  const { runsPerSecond } = await w1(executor, total, inFlight);
  const cpu = process.cpuUsage(cpuBefore);
  const figures: Figures = { runsPerSecond: runsPerSecond as number, workerUsPerRun: (cpu.user + cpu.system) / total };
  if (serverCpuMs && serverBefore !== undefined) {
    const serverUsPerRun = ((serverCpuMs() - serverBefore) * 1000) / total;
    figures.serverUsPerRun = serverUsPerRun;
    figures.projected16CoreRunsPerSecond = (16 * 1_000_000) / serverUsPerRun;
  }
  return figures;
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

// ---------------------------------------------------------------------------------------------
// Durable waits: W8 (many runs asleep at once) and W9 (an event to its waiter)

/** When each W8 sleeper woke (epoch ms, by run index; 0 = not yet), written by the step itself. */
let w8WokeAt = new Float64Array(0);
let w8Woken = 0;
let w8AllWoken: () => void = () => {};
const sleeper = workflow('w8-sleeper').step('nap', async (ctx) => {
  const { i, at } = ctx.input as { i: number; at: number };
  await ctx.sleepUntil(at);
  // The step runs again from its start when its run was out of memory: count the first wake only.
  if (w8WokeAt[i] === 0) {
    w8WokeAt[i] = Date.now();
    if (++w8Woken === w8WokeAt.length) w8AllWoken();
  }
  return i;
});

/** What W8 reads from outside the engine: the store's rows (a SQL count) while the runs sleep. */
export interface SleepProbe {
  /** W8 runs not finished: asleep in the store (`wake_at` set) and held in memory (`wake_at` null). */
  sleeping(): { asleep: number; resident: number };
  /** W8 runs that succeeded. */
  succeeded(): number;
}

/**
 * Starts `total` sleepers (closed loop, `inFlight` at a time) that all sleep until one deadline,
 * `at`, and resolves once every one has woken. Returns the start time of the first and the wake
 * time of each (by index).
 */
async function sleepAll(executor: WorkflowExecutor, total: number, inFlight: number, at: () => number) {
  w8WokeAt = new Float64Array(total);
  w8Woken = 0;
  const allWoken = new Promise<void>((resolve) => {
    w8AllWoken = resolve;
  });
  const t0 = performance.now();
  let next = 0;
  // Handles are dropped at once: holding 100,000 of them (or their promises) is not what a
  // process whose runs sleep would do, and it would be counted in the RSS.
  await Promise.all(
    Array.from({ length: Math.min(inFlight, total) }, async () => {
      while (next < total) {
        const i = next++;
        await executor.start(sleeper, { i, at: at() });
      }
    }),
  );
  return { startMs: performance.now() - t0, allWoken };
}

async function until(predicate: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`benchmark stalled: ${what} not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const pct = (sorted: ArrayLike<number>, q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;

/**
 * W8: `total` runs asleep at once (SQLite): each one step that sleeps until one shared deadline.
 * While they all sleep: RSS and heap, the Node timers held (the process's active Timeout
 * handles), and the store's rows (asleep with a wake_at, or held in memory); the deadline is
 * set from a warm-up's start rate so that all are asleep before it. Then: the lateness of each
 * wake-up after the deadline (max, p50, p99), the wake-ups per second from the deadline to
 * the last one, and this process's CPU per wake-up meanwhile. Peak RSS covers the whole row;
 * the waking peak, from the deadline on.
 */
export async function w8(
  executor: WorkflowExecutor,
  probe: SleepProbe,
  total = 100_000,
  inFlight = 1000,
): Promise<Figures> {
  let peakRss = process.memoryUsage().rss;
  /** The peak from the deadline on: what waking adds, apart from starting the runs. */
  let peakWakingRss = 0;
  let isWaking = false;
  const sampler = setInterval(() => {
    const rss = process.memoryUsage().rss;
    peakRss = Math.max(peakRss, rss);
    if (isWaking) peakWakingRss = Math.max(peakWakingRss, rss);
  }, 20);
  try {
    // Warm-up, and the start rate the deadline is set from.
    const warm = Math.min(5000, total);
    const warmAt = Date.now() + 1500;
    const warmUp = await sleepAll(executor, warm, inFlight, () => warmAt);
    await warmUp.allWoken;
    const startsPerMs = warm / warmUp.startMs;
    await until(() => probe.succeeded() === warm, 'the warm-up runs to finish', 60_000);

    // Every run must be asleep well before the deadline: 1.5 times the expected start time, plus 3 s.
    const at = Date.now() + Math.ceil((total / startsPerMs) * 1.5) + 3000;
    const run = await sleepAll(executor, total, inFlight, () => at);
    await until(() => probe.sleeping().asleep === total, 'every run asleep in the store', 120_000);
    if (Date.now() >= at) throw new Error('W8: the deadline came before every run slept; raise its margin');
    global.gc?.();
    const memory = process.memoryUsage();
    const { asleep, resident } = probe.sleeping();
    const timers = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

    // This process's CPU from the deadline to the last wake-up (all threads, GC included): a
    // figure that other work on the machine changes less than the wake-ups per second.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));
    const cpuAtDeadline = process.cpuUsage();
    isWaking = true;
    // Bounded: a run that never wakes (its run deadline came first, on a machine so loaded that
    // starting took minutes) fails the row instead of hanging it.
    await until(() => w8Woken === total, 'every run to wake', 300_000);
    const cpu = process.cpuUsage(cpuAtDeadline);
    const lateness = Float64Array.from(w8WokeAt, (woke) => woke - at).sort();
    const last = lateness[lateness.length - 1] as number;
    check((lateness[0] as number) >= 0, `W8: a run woke ${-(lateness[0] as number)} ms before its deadline`);
    await until(() => probe.succeeded() === warm + total, 'every run to finish', 120_000);
    return {
      maxLatenessMs: last,
      wakeUpsPerSecond: (total / Math.max(1, last)) * 1000,
      p50LatenessMs: pct(lateness, 0.5),
      p99LatenessMs: pct(lateness, 0.99),
      cpuUsPerWakeUp: (cpu.user + cpu.system) / total,
      startsPerSecond: (total / run.startMs) * 1000,
      peakRssMb: peakRss / 2 ** 20,
      peakWakingRssMb: peakWakingRss / 2 ** 20,
      asleepRssMb: memory.rss / 2 ** 20,
      asleepHeapMb: memory.heapUsed / 2 ** 20,
      asleepInStore: asleep,
      residentWhileAsleep: resident,
      nodeTimersWhileAsleep: timers,
    };
  } finally {
    clearInterval(sampler);
  }
}

/** W9's marks: when the step of waiter `id` got its event (performance.now()). */
const w9Marks = new Map<number, (at: number) => void>();
const w9Holds = new Map<number, () => void>();
const eventWaiter = workflow('w9-waiter').step('wait', async (ctx) => {
  const { id } = ctx.input as { id: number };
  const event = (await ctx.waitForEvent('w9.go', { match: String(id) })) as { id: number };
  w9Marks.get(id)?.(performance.now());
  return event.id;
});
/** The same wait, with a second step running meanwhile: the run stays in memory as it waits. */
const heldWaiter = workflow('w9-held-waiter')
  .step('wait', async (ctx) => {
    const { id } = ctx.input as { id: number };
    const event = (await ctx.waitForEvent('w9.go', { match: String(id) })) as { id: number };
    w9Marks.get(id)?.(performance.now());
    return event.id;
  })
  .step('hold', (ctx) => new Promise<void>((resolve) => w9Holds.set((ctx.input as { id: number }).id, resolve)));

/**
 * W9: event delivery, trigger to resume: a run waits for `w9.go` with its id as the event key (the
 * indexed route: a payload `match` filters the waiters of a name and key one by one); the time from
 * `sendEvent` to the waiting step going on with the payload, `total` times one after the other,
 * for a run that left memory to wait (the default: a wait with no deadline soon) and for one held
 * in memory (another of its steps runs). With `background`, that many other runs wait for the
 * same event name (other ids) all along, as in a system with many open waits.
 */
export async function w9(executor: WorkflowExecutor, total = 200, background = 0): Promise<Figures> {
  let nextId = 1_000_000;
  for (let i = 0; i < background; i += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, background - i) }, () => executor.start(eventWaiter, { id: nextId++ })),
    );
  }
  const measure = async (wf: Parameters<WorkflowExecutor['start']>[0], held: boolean) => {
    const latencies: number[] = [];
    for (let n = 0; n < total; n++) {
      const id = n + (held ? 500_000 : 0);
      const handle = await executor.start(wf, { id });
      // Until the wait is stored, and (for a run that leaves memory) until it has left.
      for (;;) {
        const waits = await executor.waits(handle.runId);
        const registered = waits.some((w) => w.status === 'pending');
        const gone = (await executor.store.getRun(handle.runId))?.wakeAt != null;
        if (registered && (held || gone)) break;
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      const woke = new Promise<number>((resolve) => w9Marks.set(id, resolve));
      const t0 = performance.now();
      const sent = await executor.sendEvent('w9.go', { id }, { key: String(id) });
      latencies.push((await woke) - t0);
      check(sent.delivered === 1, `W9 event ${id} delivered to ${sent.delivered}`);
      w9Marks.delete(id);
      w9Holds.get(id)?.();
      w9Holds.delete(id);
      const r = await handle.result();
      const output = r.output as unknown;
      check(r.success && (held ? (output as { wait: number }).wait : output) === id, `W9 run ${id}`);
    }
    return latencies.sort((a, b) => a - b);
  };
  const evicted = await measure(eventWaiter, false);
  const inMemory = await measure(heldWaiter, true);
  return {
    p50Ms: pct(evicted, 0.5),
    p99Ms: pct(evicted, 0.99),
    heldP50Ms: pct(inMemory, 0.5),
    heldP99Ms: pct(inMemory, 0.99),
  };
}
