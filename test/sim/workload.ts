import type { Random } from './random.js';

/**
 * A workload drawn from a seed: a few workflows (random DAGs with retries, fallbacks, routing, step
 * timeouts, durable sleeps, caches, pools, rate limits, `maxRuns`, and fan-outs of a child workflow
 * joined by every join policy), and the runs to start. Every step's output is a
 * pure function of the run's input and its parents' outputs, so `expectRun` can say, without the
 * engine, what a fault-free run ends with: the oracle every simulated run is checked against.
 */
export interface StepSpec {
  name: string;
  parents: string[];
  salt: number;
  /** Attempts that fail before one succeeds. */
  failFirst: number;
  /**
   * How those attempts fail: 'throw' at once, or 'hang' until the step's `timeoutSeconds` stops
   * them (a StepTimeoutError, on the virtual clock).
   */
  failBy: 'throw' | 'hang';
  /** The step's per-attempt timeout (only a step that hangs has one: its work takes no virtual time). */
  timeoutSeconds: number | undefined;
  retries: number;
  /** A durable `ctx.sleep` of this long (ms) before the step's value, or 0. */
  sleepMs: number;
  /** `cache: true`: a later run with the same input reuses the stored success. */
  cache: boolean;
  /** Whether the step's attempts start under the shared rate limit RATE_LIMIT (keyed by input parity). */
  rateLimited: boolean;
  /** Whether a fallback gives the output once the attempts run out. */
  fallback: boolean;
  pool: boolean;
  /** Routes its value to one of these children, by the value's parity. */
  routes: [string, string] | undefined;
  /** Spawns this many children of the child workflow and joins them by `join`. */
  spawn: number;
  join: JoinSpec;
  /** Indexes of children that fail (never under 'all', which would fail the step). */
  doomed: number[];
  /** Waits for the run's `sim-signal` event (sent by the driver) and mixes its payload in. */
  awaitsEvent: boolean;
}

/** How a step joins its children: `join` (all), `joinSettled`, `join` with 'any' or `{ atLeast }`. */
export type JoinSpec = 'all' | 'settled' | 'any' | { atLeast: number };

export interface WorkflowSpec {
  name: string;
  steps: StepSpec[];
  /** `maxRuns`, per input parity when `keyed` (`concurrencyKey`); undefined: no limit. */
  maxRuns: number | undefined;
  keyed: boolean;
}

export interface StartSpec {
  workflow: string;
  input: number;
  /** Which tick of the driver starts it. */
  atTick: number;
  /** From which tick the driver sends the run's event (if a step waits for one). */
  eventTick: number;
  /** Whether the driver sends that event a second time, with the same idempotency key. */
  duplicateEvent: boolean;
}

export interface Workload {
  workflows: WorkflowSpec[];
  starts: StartSpec[];
}

/** How big a workload to draw; the shrinker lowers these to find a smaller failing case. */
export interface WorkloadSize {
  workflows: number;
  maxSteps: number;
  runs: number;
}

export const CHILD_WORKFLOW = 'sim-child';
export const POOL = 'sim-pool';
export const POOL_SIZE = 2;
/** One rate limit shared by every rate-limited step (of every workflow), counted per input parity. */
export const RATE_LIMIT = { name: 'sim-rate', limit: 2, periodMs: 1_000 };

/** The key runs of a keyed `maxRuns` workflow and rate-limited steps are counted by. */
export function parityKey(input: number): string {
  return String(input % 2);
}

export function drawWorkload(rng: Random, size: WorkloadSize): Workload {
  const workflows: WorkflowSpec[] = [];
  for (let w = 0; w < size.workflows; w++) workflows.push(drawWorkflow(rng, `sim-wf-${w}`, size.maxSteps));
  const starts: StartSpec[] = [];
  for (let r = 0; r < size.runs; r++) {
    const atTick = rng.int(4);
    const workflow = rng.pick(workflows).name;
    // A third of the runs repeat an earlier run's input, so cached steps get hits.
    const earlier = starts.filter((s) => s.workflow === workflow);
    const input = earlier.length > 0 && rng.chance(0.35) ? rng.pick(earlier).input : rng.int(1000);
    starts.push({
      workflow,
      input,
      atTick,
      eventTick: atTick + rng.int(6),
      duplicateEvent: rng.chance(0.3),
    });
  }
  return { workflows, starts };
}

function drawWorkflow(rng: Random, name: string, maxSteps: number): WorkflowSpec {
  const maxRuns = rng.chance(0.35) ? rng.between(1, 2) : undefined;
  const keyed = maxRuns !== undefined && rng.chance(0.5);
  const count = rng.between(1, Math.max(1, maxSteps));
  const steps: StepSpec[] = [];
  /** Children a router claimed: they take no other parent, so the route alone decides them. */
  const routed = new Set<string>();
  for (let i = 0; i < count; i++) {
    const candidates = steps.filter((s) => !s.routes && !routed.has(s.name));
    const parents: string[] = [];
    for (const c of candidates) if (rng.chance(0.35) && parents.length < 3) parents.push(c.name);
    const retries = rng.int(3);
    const failFirst = rng.chance(0.3) ? rng.between(1, retries + 1) : 0;
    const failBy = failFirst > 0 && rng.chance(0.4) ? 'hang' : 'throw';
    const succeeds = failFirst <= retries;
    // A fallback gives the output without the step's children, so a step has one or the other. A
    // step with a timeout does nothing that takes virtual time, so only its hanging attempts time out.
    const spawn = succeeds && failBy === 'throw' && rng.chance(0.25) ? rng.between(1, 4) : 0;
    const join = spawn > 0 ? drawJoin(rng, spawn) : 'all';
    steps.push({
      name: `s${i}`,
      parents,
      salt: rng.int(1 << 20),
      failFirst,
      failBy,
      // Longer than one jump of the driver's clock (MAX_JUMP_MS), which is all the time that can pass
      // while an attempt works (time waits for work in progress, but one jump may begin as it starts).
      timeoutSeconds: failBy === 'hang' ? rng.between(3, 6) : undefined,
      retries,
      sleepMs: succeeds && failBy === 'throw' && rng.chance(0.15) ? rng.between(1, 8) * 500 : 0,
      cache: rng.chance(0.2),
      rateLimited: rng.chance(0.2),
      // A step whose attempts all fail needs a fallback, so the run still has a known output.
      fallback: !succeeds,
      pool: rng.chance(0.25),
      routes: undefined,
      spawn,
      join,
      doomed: join === 'all' ? [] : drawDoomed(rng, spawn, join),
      // A fallback gives the output without waiting, so only a step that succeeds waits.
      awaitsEvent: succeeds && failBy === 'throw' && rng.chance(0.15),
    });
  }
  // Some step with at least two later steps becomes a router between two of them.
  for (const router of steps) {
    if (!rng.chance(0.3)) continue;
    const later = steps.filter(
      (s) => Number(s.name.slice(1)) > Number(router.name.slice(1)) && !routed.has(s.name) && s.parents.length <= 1,
    );
    if (later.length < 2 || router.routes) continue;
    const a = later[0] as StepSpec;
    const b = later[1] as StepSpec;
    if (steps.some((s) => s.parents.includes(router.name))) continue;
    a.parents = [router.name];
    b.parents = [router.name];
    routed.add(a.name);
    routed.add(b.name);
    router.routes = [a.name, b.name];
  }
  return { name, steps, maxRuns, keyed };
}

function drawJoin(rng: Random, spawn: number): JoinSpec {
  const kind = rng.pick(['all', 'settled', 'any', 'atLeast'] as const);
  return kind === 'atLeast' ? { atLeast: rng.between(1, spawn) } : kind;
}

/** Children that fail: any number under 'settled'; under a quorum, few enough that it is still met. */
function drawDoomed(rng: Random, spawn: number, join: JoinSpec): number[] {
  const needed = join === 'settled' ? 0 : join === 'any' ? 1 : join === 'all' ? spawn : join.atLeast;
  const doomed: number[] = [];
  for (let i = 0; i < spawn; i++) if (doomed.length < spawn - needed && rng.chance(0.3)) doomed.push(i);
  return doomed;
}

/** A 31-bit mix of whole numbers: the steps' pure "work". */
export function mix(...values: number[]): number {
  let h = 0x811c9dc5;
  for (const v of values) {
    h = Math.imul(h ^ (v & 0xffff), 0x01000193);
    h = Math.imul(h ^ (v >>> 16), 0x01000193);
  }
  return (h >>> 1) % 1_000_000;
}

export function childOutput(input: number): number {
  return mix(input, 7);
}

/** A child's input: a doomed child's is negative, and the child workflow fails on it. */
export function childInput(step: StepSpec, runInput: number, index: number): number {
  const value = mix(step.salt, runInput, index);
  return step.doomed.includes(index) ? -1 - value : value;
}

/** What a fan-out gives its step: a pure function of the children's planned outcomes, never of their timing. */
export function joinedValues(step: StepSpec, runInput: number): number[] {
  const outputs = Array.from({ length: step.spawn }, (_, i) => {
    const input = childInput(step, runInput, i);
    return input < 0 ? -1 : childOutput(input);
  });
  if (step.join === 'all' || step.join === 'settled') return outputs;
  // Which children count first depends on timing: the value says only how many counted.
  return [step.join === 'any' ? 1 : step.join.atLeast];
}

export const SIGNAL = 'sim-signal';

/** The key a run's `sim-signal` event is sent with and waited for by. */
export function signalKey(input: number): string {
  return `in-${input}`;
}

/** The payload of a run's `sim-signal` event. */
export function signalPayload(input: number): number {
  return mix(input, 5);
}

/** What a step computes from its run's input, its parents that ran, its children and its event. */
export function stepValue(
  step: StepSpec,
  input: number,
  parentValues: number[],
  childValues: number[],
  signal?: number,
): number {
  const base = mix(step.salt, input, ...parentValues, ...childValues, ...(signal === undefined ? [] : [signal]));
  return step.fallback ? mix(base, 99) : base;
}

export interface ExpectedRun {
  status: 'succeeded';
  steps: Record<string, { status: 'succeeded' | 'skipped'; output?: number }>;
  output: unknown;
}

/** What a run of `wf` with `input` ends with when nothing goes wrong. */
export function expectRun(wf: WorkflowSpec, input: number): ExpectedRun {
  const steps: ExpectedRun['steps'] = {};
  const chosen = new Map<string, string>();
  for (const step of wf.steps) {
    const ran = step.parents.filter((p) => steps[p]?.status === 'succeeded');
    const routedAway = step.parents.some((p) => chosen.has(p) && chosen.get(p) !== step.name);
    if ((step.parents.length > 0 && ran.length === 0) || routedAway) {
      steps[step.name] = { status: 'skipped' };
      continue;
    }
    const children = joinedValues(step, input);
    const output = stepValue(
      step,
      input,
      ran.map((p) => steps[p]?.output as number),
      children,
      step.awaitsEvent ? signalPayload(input) : undefined,
    );
    steps[step.name] = { status: 'succeeded', output };
    if (step.routes) chosen.set(step.name, step.routes[output % 2] as string);
  }
  const sinks = wf.steps.filter((s) => !wf.steps.some((o) => o.parents.includes(s.name)));
  const succeeded = sinks.filter((s) => steps[s.name]?.status === 'succeeded');
  const output =
    succeeded.length === 1
      ? steps[(succeeded[0] as StepSpec).name]?.output
      : Object.fromEntries(succeeded.map((s) => [s.name, steps[s.name]?.output]));
  return { status: 'succeeded', steps, output };
}
