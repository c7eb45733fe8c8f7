import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Clock, ManualClock, MemoryStore, SqliteStore, WorkflowExecutor } from '../../src/index.js';
import type { Store } from '../../src/store/store.js';
import type { RunRecord, WriteBatch } from '../../src/store/types.js';
import { Executions, type TrackedExecution } from './executions.js';
import { type CommitFault, faultyStore } from './faultyStore.js';
import { checkStore } from './invariants.js';
import { LimitChecker } from './limits.js';
import { Random } from './random.js';
import { checkReplay } from './replay.js';
import { Trace } from './trace.js';
import { buildWorkflows } from './workflows.js';
import {
  drawWorkload,
  expectRun,
  POOL,
  POOL_SIZE,
  RATE_LIMIT,
  SIGNAL,
  type StartSpec,
  signalKey,
  signalPayload,
  type Workload,
  type WorkloadSize,
} from './workload.js';

export type SimStore = 'memory' | 'sqlite';

export interface SimOptions {
  store: SimStore;
  size: WorkloadSize;
  /** How often commits meet a fault; 0 turns faults off (the shrinker lowers it). */
  faultRate: number;
  /** At most this many simulated process deaths. */
  maxCrashes: number;
  /** Whether the driver pauses, resumes and cancels runs at random moments. */
  controls: boolean;
  /** Driver ticks before a run that has not ended counts as stuck. */
  maxTicks?: number;
  /** A bug planted on purpose, to show the checks catch it. */
  sabotage?: Sabotage;
  /**
   * Parts of the seed's plan left out (the shrinker's single removals): the nth fault drawn (0-based,
   * in the order they are drawn), the nth pause / resume / cancel, the second send of a run's event
   * (by start index). Everything is still drawn, so the rest of the plan stays as it was.
   */
  skip?: PlanSkips;
  /** Checks the rate limit's starts per window of one period (default on; see LimitChecker). */
  checkRateLimitWindows?: boolean;
}

/**
 * Bugs planted on purpose, to show the checks catch them: the store drops the `step_succeeded`
 * events, or the error of every step it is given; or the engine gets limits one looser (maxRuns,
 * pool size, rate limit) than the checks hold it to.
 */
export type Sabotage = 'drop-success-events' | 'drop-step-errors' | 'loose-limits';

export const DEFAULT_OPTIONS: SimOptions = {
  store: 'memory',
  size: { workflows: 3, maxSteps: 6, runs: 8 },
  faultRate: 0.25,
  maxCrashes: 3,
  controls: true,
};

export interface PlanSkips {
  faults?: readonly number[];
  controls?: readonly number[];
  duplicateEvents?: readonly number[];
}

export interface SimOutcome {
  seed: number;
  options: SimOptions;
  violations: string[];
  trace: string[];
  crashes: number;
  commits: number;
  /** How many faults, controls and second sends of an event the plan drew (the shrinker removes them one by one). */
  planned: { faults: number; controls: number; duplicateEvents: number[] };
  /** Virtual time the simulation covered. */
  virtualMs: number;
}

const PARALLEL_STEPS = 4;
/** The most virtual time one driver tick moves: runs' default deadline (300 s) is 150 ticks away. */
const MAX_JUMP_MS = 2_000;
/** Every simulation starts at the same virtual instant, so ids and times replay exactly. */
const START_TIME = Date.UTC(2026, 0, 1);

/** One step attempt executing, and whether it holds an execution slot (not while it joins). */
interface Execution extends TrackedExecution {
  proc: SimProcess;
  pool: boolean;
}

/** One simulated process: an executor whose store view and step functions die with it. */
interface SimProcess {
  id: number;
  dead: boolean;
  executor: WorkflowExecutor;
  running: number;
  inPool: number;
}

/**
 * Runs the real engine against a workload and a fault schedule drawn from `seed`, on one durable
 * store that outlives every simulated process, and checks the guarantees as it goes and at the
 * end. Everything the environment decides (when a commit fails, lands late or kills the process,
 * how long a step's work takes) comes from the seed.
 */
export async function simulate(seed: number, options: SimOptions = DEFAULT_OPTIONS): Promise<SimOutcome> {
  const root = new Random(seed);
  const load = drawWorkload(root.derive('workload'), options.size);
  const faults = root.derive('faults');
  const timing = root.derive('timing');
  const trace = new Trace();
  /** Virtual time, shared by every process; it moves only when the driver moves it. */
  const clock = new ManualClock(START_TIME);
  const violations: string[] = [];
  const violate = (message: string) => {
    if (violations.length < 20) violations.push(message);
    trace.add(`VIOLATION ${message}`);
  };
  const loose = options.sabotage === 'loose-limits' ? 1 : 0;
  const limits = new LimitChecker(
    load.workflows,
    violate,
    (id) => trace.name(id),
    RATE_LIMIT,
    options.checkRateLimitWindows ?? true,
  );
  const dir = options.store === 'sqlite' ? fs.mkdtempSync(path.join(os.tmpdir(), 'braid-sim-')) : undefined;
  const durable: Store = dir ? new SqliteStore({ path: path.join(dir, 'sim.db') }) : new MemoryStore();
  await durable.open();

  /** Each batch as it was when handed to the store: its words for the trace and its successes. */
  const snapshots = new WeakMap<
    WriteBatch,
    { description: string; successes: Array<{ runId: string; key: string }>; copy: WriteBatch }
  >();
  /** Every batch that landed in the durable store, as it was handed over, in order: the store's log. */
  const log: WriteBatch[] = [];
  /** Steps whose success has landed in the durable store: they must never run again. */
  const succeeded = new Set<string>();
  const executions = new Executions<Execution>({
    take(execution) {
      const p = execution.proc;
      p.running++;
      if (p.running > PARALLEL_STEPS)
        violate(`p${p.id} runs ${p.running} steps at once, more than maxParallelNodes ${PARALLEL_STEPS}`);
      if (execution.pool && ++p.inPool > POOL_SIZE)
        violate(`p${p.id} holds ${p.inPool} units of pool ${POOL}, more than its ${POOL_SIZE}`);
    },
    giveBack(execution) {
      execution.proc.running--;
      if (execution.pool) execution.proc.inPool--;
    },
    isLive: (execution) => !execution.proc.dead,
  });
  let crashes = 0;
  let commits = 0;
  let proc: SimProcess | undefined;
  const turns = async (n: number) => {
    for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  };
  /**
   * Time moves to the next timer due (a backoff, a retried commit), but at most MAX_JUMP_MS at a
   * time: a run waiting for an event the driver sends a few ticks later must not jump to its
   * deadline first.
   */
  /**
   * Step functions in the middle of their work: it takes no virtual time, so time waits for it (but
   * a function that begins while a jump is under way sees that jump, at most MAX_JUMP_MS).
   */
  let working = 0;
  const advanceTime = async () => {
    if (working > 0) return;
    await clock.advanceTo(Math.min(clock.nextDueAt() ?? Number.POSITIVE_INFINITY, clock.now() + MAX_JUMP_MS));
  };
  /**
   * Waits for a call into a process (open, start, send an event) the way a caller would, while
   * time goes on: the call may wait on a timer (a commit retried after a failure), and only the
   * driver moves the clock. 'dead' if the process dies first.
   */
  const drive = async <T>(call: Promise<T>, owner: SimProcess): Promise<T | 'dead'> => {
    let outcome: { value: T } | { error: unknown } | undefined;
    call.then(
      (value) => (outcome = { value }),
      (error: unknown) => (outcome = { error }),
    );
    for (let round = 0; round < 100_000; round++) {
      await turns(2);
      if (outcome && 'error' in outcome) throw outcome.error;
      if (outcome) return outcome.value;
      if (owner.dead) return 'dead';
      await advanceTime();
    }
    throw new Error('a call into a simulated process never returned');
  };

  const spawnProcess = async (id: number): Promise<SimProcess> => {
    const self: SimProcess = { id, dead: false, executor: undefined as never, running: 0, inPool: 0 };
    const store = faultyStore(
      options.sabotage === 'drop-success-events' || options.sabotage === 'drop-step-errors'
        ? sabotaged(durable, options.sabotage)
        : durable,
      {
        nextFault: (batch) => {
          snapshots.set(batch, {
            description: trace.describe(batch),
            successes: successesOf(batch),
            copy: structuredClone(batch),
          });
          return chooseFault(batch);
        },
        landed: (batch, result, fault) => {
          commits++;
          const snapshot = snapshots.get(batch);
          trace.commit(self.id, fault, snapshot?.description ?? '?', result);
          const stale = new Set([...(result.staleRunIds ?? []), ...(result.refusedRunIds ?? [])]);
          for (const { runId, key } of snapshot?.successes ?? []) if (!stale.has(runId)) succeeded.add(key);
          const copy = snapshot?.copy ?? structuredClone(batch);
          log.push(copy);
          limits.landed(copy, stale, new Set(result.duplicateRunIds));
        },
        rateLimitTaken: (request, grant) => {
          trace.add(
            `p${self.id} takes ${request.name}/${request.key} at +${request.now - START_TIME} ms: ${grant.granted ? `granted +${grant.startAt - START_TIME} ms` : 'refused'}`,
          );
          limits.granted(request, grant);
        },
        crash: (reason) => {
          crashes++;
          self.dead = true;
          trace.add(`p${self.id} dies: ${reason}`);
        },
        yieldTurns: turns,
      },
      () => self.dead,
    );
    const hooks = {
      started(runId: string, step: string, attempt: number, pool: boolean, signal: AbortSignal): number {
        trace.add(
          `p${self.id} runs ${trace.name(runId)}/${step} attempt ${attempt} at +${clock.now() - START_TIME} ms`,
        );
        if (succeeded.has(`${runId}/${step}`)) {
          violate(`step ${trace.name(runId)}/${step} ran again (attempt ${attempt}) after its success was committed`);
        }
        const execution: Execution = { proc: self, pool, holding: false, stopped: false };
        return executions.start(execution, signal, () =>
          trace.add(
            `p${self.id} stops ${trace.name(runId)}/${step} attempt ${attempt} at +${clock.now() - START_TIME} ms`,
          ),
        );
      },
      ended: (token: number) => executions.ended(token),
      suspended: (token: number) => executions.suspended(token),
      resumed: (token: number) => executions.resumed(token),
      async workTurns(): Promise<void> {
        working++;
        try {
          await turns(timing.int(4));
        } finally {
          working--;
        }
      },
      rateLimitedStart(runId: string, step: string, attempt: number, key: string): void {
        trace.add(
          `p${self.id} starts ${trace.name(runId)}/${step} attempt ${attempt} under ${RATE_LIMIT.name}/${key} at +${clock.now() - START_TIME} ms`,
        );
        limits.started(runId, step, attempt, RATE_LIMIT.name, key, clock.now());
      },
      joinBroken: (runId: string, step: string, message: string) =>
        violate(`the join of ${trace.name(runId)}/${step} ${message}`),
    };
    self.executor = new WorkflowExecutor({
      store,
      clock: processClock(clock, () => self.dead),
      workflows: buildWorkflows(load, hooks, loose),
      pools: { [POOL]: POOL_SIZE + loose },
      maxParallelNodes: PARALLEL_STEPS,
      retention: false,
      historySize: 0,
    });
    trace.add(`p${id} starts`);
    await drive(self.executor.open(), self);
    return self;
  };

  const planned = { faults: 0, controls: 0, duplicateEvents: [] as number[] };
  const chooseFault = (batch: WriteBatch): CommitFault => {
    if (options.faultRate <= 0 || !faults.chance(options.faultRate)) return 'none';
    const canCrash = crashes < options.maxCrashes;
    const kind = faults.pick(
      canCrash ? (['crash-before', 'crash-after', 'fail', 'slow'] as const) : (['fail', 'slow'] as const),
    );
    const ordinal = planned.faults++; // counted whether or not it is skipped (?. would not count it)
    if (options.skip?.faults?.includes(ordinal)) return 'none';
    // A batch that only starts runs is cheap to lose; keep crashes for batches that carry progress.
    return kind.startsWith('crash') && batch.steps.length === 0 && batch.runUpdates.length === 0 ? 'slow' : kind;
  };

  const maxTicks = options.maxTicks ?? 400;
  const started = new Set<number>();
  const runIds = new Map<number, string>();
  /** Runs the driver cancelled: 'cancelled' once the cancel returned so, 'maybe' if its process died first. */
  const cancels = new Map<number, 'cancelled' | 'maybe'>();
  const steer = root.derive('controls');
  const waitsForEvent = new Set(load.workflows.filter((w) => w.steps.some((s) => s.awaitsEvent)).map((w) => w.name));
  const eventsSent = new Map<number, number>();
  /** Carries out a pause, resume or cancel without waiting for it: the loop must go on moving time. */
  const control = (target: SimProcess, index: number) => {
    const runId = runIds.get(index) as string;
    const action = steer.pick(['pause', 'resume', 'cancel'] as const);
    const ordinal = planned.controls++;
    if (options.skip?.controls?.includes(ordinal)) return;
    trace.add(`p${target.id} ${action}s ${trace.name(runId)}`);
    if (action === 'cancel' && !cancels.has(index)) cancels.set(index, 'maybe');
    const call =
      action === 'pause'
        ? target.executor.pause(runId)
        : action === 'resume'
          ? target.executor.resume(runId)
          : target.executor.cancel(runId, 'cancelled by the simulation');
    call.then(
      (result) => {
        const status = 'status' in result && typeof result.status === 'string' ? result.status : 'done';
        trace.add(`${action} of ${trace.name(runId)} returned ${status}`);
        if (action === 'cancel' && status === 'cancelled') cancels.set(index, 'cancelled');
      },
      (error: Error) => trace.add(`${action} of ${trace.name(runId)} refused: ${error.name}`),
    );
  };
  let nextProcessId = 1;
  try {
    proc = await spawnProcess(nextProcessId++);
    for (let tick = 0; ; tick++) {
      if (proc.dead) proc = await spawnProcess(nextProcessId++);
      for (const [index, start] of load.starts.entries()) {
        if (started.has(index) || start.atTick > tick || proc.dead) continue;
        const workflow = proc.executor.workflows.find((w) => w.name === start.workflow);
        if (!workflow) throw new Error(`workload names an unknown workflow ${start.workflow}`);
        const outcome = await drive(
          proc.executor.start(workflow, start.input, { idempotencyKey: `start-${index}` }),
          proc,
        );
        if (outcome === 'dead') continue;
        started.add(index);
        runIds.set(index, outcome.runId);
      }
      for (const index of started) {
        const start = load.starts[index] as StartSpec;
        const sends = eventsSent.get(index) ?? 0;
        if (
          !waitsForEvent.has(start.workflow) ||
          tick < start.eventTick + sends * 3 ||
          sends >= (start.duplicateEvent && !options.skip?.duplicateEvents?.includes(index) ? 2 : 1)
        )
          continue;
        if (sends === 1) planned.duplicateEvents.push(index);
        const sent = await drive(
          proc.executor.sendEvent(SIGNAL, signalPayload(start.input), {
            key: signalKey(start.input),
            idempotencyKey: `event-${index}`,
          }),
          proc,
        );
        if (sent === 'dead') break;
        eventsSent.set(index, sends + 1);
        trace.add(
          `p${proc.id} sends the event of ${trace.name(runIds.get(index) as string)}: ${sent.duplicate ? 'duplicate' : `delivered to ${sent.delivered}`}`,
        );
      }
      if (options.controls && started.size > 0 && steer.chance(0.1)) control(proc, steer.pick([...started]));
      await turns(10);
      await advanceTime();
      const eventsDue = [...started].some(
        (i) => waitsForEvent.has((load.starts[i] as StartSpec).workflow) && !eventsSent.has(i),
      );
      if (started.size === load.starts.length && !eventsDue) {
        const unfinished = await unfinishedRuns(durable);
        if (unfinished.length === 0) break;
        // Only paused runs left: resume them, as an operator would.
        if (unfinished.every((r) => r.status === 'paused') && !proc.dead) {
          for (const run of unfinished) {
            trace.add(`p${proc.id} resumes paused ${trace.name(run.id)}`);
            proc.executor.resume(run.id).catch((error: Error) => trace.add(`resume refused: ${error.name}`));
          }
        }
      }
      if (tick >= maxTicks) {
        violate(`runs had not ended after ${maxTicks} ticks`);
        break;
      }
    }
    if (violations.length === 0) {
      for (const message of await checkStore(durable, load, expectRun, trace, cancels)) violate(message);
      for (const message of await checkReplay(durable, log, trace)) violate(message);
    }
  } finally {
    // The last process shuts down; the dead ones are simply dropped, as a killed process is.
    if (proc && !proc.dead) await proc.executor.cleanup();
    await durable.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
  return {
    seed,
    options,
    violations,
    trace: trace.lines(),
    crashes,
    commits,
    planned,
    virtualMs: clock.now() - START_TIME,
  };
}

function sabotaged(store: Store, sabotage: 'drop-success-events' | 'drop-step-errors'): Store {
  const damage = (batch: WriteBatch): WriteBatch =>
    sabotage === 'drop-success-events'
      ? { ...batch, events: batch.events.filter((e) => e.type !== 'step_succeeded') }
      : { ...batch, steps: batch.steps.map((s) => ({ ...s, error: null })) };
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop !== 'commit') return Reflect.get(target, prop, receiver);
      return (batch: WriteBatch) => target.commit(damage(batch));
    },
  });
}

/** A process's view of the shared clock: the timers of a process that has died never fire. */
function processClock(clock: ManualClock, isDead: () => boolean): Clock {
  return {
    now: () => clock.now(),
    setTimer: (fn, delayMs) => clock.setTimer(() => isDead() || fn(), delayMs),
  };
}

function successesOf(batch: WriteBatch): Array<{ runId: string; key: string }> {
  return batch.steps
    .filter((s) => s.status === 'succeeded')
    .map((s) => ({ runId: s.runId, key: `${s.runId}/${s.name}` }));
}

async function unfinishedRuns(store: Store): Promise<RunRecord[]> {
  return (await store.listRuns({ status: ['queued', 'running', 'waiting', 'paused'], limit: 1000 })).runs;
}

export type { Workload };
