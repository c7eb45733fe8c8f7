import { WorkflowExecutor } from '../../src/index.js';
import { PostgresStore } from '../../src/store/postgres/index.js';
import type { Store } from '../../src/store/store.js';
import type { RateLimitGrant, RateLimitRequest, RunRecord, WriteBatch } from '../../src/store/types.js';
import { clusterFaultyStore, type NotificationFault } from './clusterFaults.js';
import { Executions, type TrackedExecution } from './executions.js';
import { type CommitFault, faultyStore } from './faultyStore.js';
import { checkStore } from './invariants.js';
import { Random } from './random.js';
import { checkReplay } from './replay.js';
import { Trace } from './trace.js';
import { buildWorkflows } from './workflows.js';
import {
  drawWorkload,
  expectRun,
  POOL,
  POOL_SIZE,
  parityKey,
  RATE_LIMIT,
  SIGNAL,
  type StartSpec,
  signalKey,
  signalPayload,
  type Workload,
  type WorkloadSize,
} from './workload.js';

/**
 * The simulation on PostgreSQL: several workers (WorkflowExecutors, each with its own PostgresStore,
 * connection pool and worker id, as separate processes would have) in one Node process on one
 * database, running a workload drawn from the seed, while the seed also plans faults at the
 * coordination layer: LISTEN/NOTIFY wake-ups dropped or delivered twice, heartbeats held back so a
 * worker's lease expires while its steps still run (another worker reaps it and adopts its runs;
 * the old one's late commits must be refused), and commits that fail, land late, or kill their
 * worker (a new one starts in its place).
 *
 * Time is real here (leases, NOTIFY, the database's clock; a scale-out store refuses a virtual
 * clock), so a seed fixes the workload and the fault plan but not the interleaving: it does not
 * replay byte for byte.
 */
export interface PostgresSimOptions {
  size: WorkloadSize;
  /** Workers running at once (a dead one is replaced). */
  workers: number;
  /** How often commits meet a fault (fail, slow, or the worker dies before / after it lands). */
  commitFaultRate: number;
  /** At most this many workers die. */
  maxCrashes: number;
  /** How often a wake-up notification is dropped, and (as often) delivered twice. */
  notificationFaultRate: number;
  /** At most this many heartbeat holds (each long enough for the lease to expire). */
  heartbeatHolds: number;
  /** Whether the driver pauses, resumes and cancels runs at random moments. */
  controls: boolean;
  /** The workers' lease; a hold lasts 2.5 leases. */
  leaseMs: number;
  /** Wall time after which runs that have not ended count as stuck. */
  deadlineMs: number;
  /** A bug planted on purpose: commits are not fenced (the stores run without a worker id). */
  sabotage?: 'unfenced';
}

export const POSTGRES_DEFAULTS: PostgresSimOptions = {
  size: { workflows: 3, maxSteps: 5, runs: 6 },
  workers: 3,
  commitFaultRate: 0.08,
  maxCrashes: 2,
  notificationFaultRate: 0.15,
  heartbeatHolds: 1,
  controls: true,
  leaseMs: 800,
  deadlineMs: 45_000,
};

export interface PostgresSimOutcome {
  seed: number;
  violations: string[];
  trace: string[];
  /** Evidence that each fault happened. */
  counts: {
    commits: number;
    notificationsDropped: number;
    notificationsDuplicated: number;
    heartbeatsHeld: number;
    /** Workers reaped by another worker after their lease expired. */
    leasesExpired: number;
    /** Workers that learnt they had lost their lease (and dropped their runs). */
    leasesLost: number;
    /** Runs claimed by a worker after another had held them. */
    runsAdopted: number;
    /** Late commits refused (fenced): runs whose writes a worker that lost them sent. */
    fencedRuns: number;
    workersKilled: number;
    workersStarted: number;
  };
  wallMs: number;
}

const PARALLEL_STEPS = 4;
const TICK_MS = 40;

/** One execution of a step function, and whether it holds an execution slot (not while it waits). */
interface Execution extends TrackedExecution {
  worker: SimWorker;
  runId: string;
  step: string;
  attempt: number;
  /**
   * Began, or was under way, while its worker's heartbeat was held back: the database may have
   * freed its holds (the lease expired), so it no longer counts against cluster-wide limits.
   */
  orphaned: boolean;
  pool: boolean;
}

interface SimWorker {
  id: number;
  dead: boolean;
  /** Its heartbeat is held back: from then until it hears its lease is gone, its steps are a zombie's. */
  zombie: boolean;
  heldUntil: number;
  executor: WorkflowExecutor;
  postgres: PostgresStore;
  kill(): Promise<void>;
  running: number;
}

/**
 * The subset of the workload the multi-worker case runs, in real time: a sleep lasts a tenth of
 * its drawn length and a hanging attempt times out after 1 s (the memory store's virtual seconds
 * would be real ones here). Everything else (retries, fallbacks, routes, caches, the pool, the rate
 * limit, maxRuns with and without a key, fan-outs joined by every policy, events, controls) runs.
 */
export function forCluster(load: Workload): Workload {
  return {
    starts: load.starts,
    workflows: load.workflows.map((wf) => ({
      ...wf,
      steps: wf.steps.map((s) => ({
        ...s,
        sleepMs: Math.round(s.sleepMs / 10),
        timeoutSeconds: s.timeoutSeconds === undefined ? undefined : 1,
      })),
    })),
  };
}

/** Runs the seed's workload and fault plan on a fresh database at `url` (which it leaves as it ends). */
export async function simulatePostgres(
  seed: number,
  url: string,
  options: PostgresSimOptions = POSTGRES_DEFAULTS,
): Promise<PostgresSimOutcome> {
  const began = Date.now();
  const root = new Random(seed);
  const load = forCluster(drawWorkload(root.derive('workload'), options.size));
  const commitFaults = root.derive('faults');
  const notifyFaults = root.derive('notifications');
  const leaseFaults = root.derive('leases');
  const timing = root.derive('timing');
  const steer = root.derive('controls');
  const trace = new Trace();
  const at = () => `+${Date.now() - began} ms`;
  const violations: string[] = [];
  const violate = (message: string) => {
    if (violations.length < 20 && !violations.includes(message)) violations.push(message);
    trace.add(`VIOLATION ${message}`);
  };
  const counts = emptyCounts();

  /** The checks' own view of the database: no worker id, no faults. */
  const observer = new PostgresStore({ connectionString: url, poolSize: 2 });
  await observer.open();

  const snapshots = new WeakMap<WriteBatch, { description: string; copy: WriteBatch }>();
  /** Every batch that landed, as handed over, without the runs the store refused: the store's log. */
  const log: WriteBatch[] = [];
  /** Steps whose success has landed: no step function of theirs may start again. */
  const succeeded = new Set<string>();
  const executions = new Executions<Execution>({
    take(execution) {
      const worker = execution.worker;
      if (++worker.running > PARALLEL_STEPS)
        violate(`w${worker.id} runs ${worker.running} steps at once, more than maxParallelNodes ${PARALLEL_STEPS}`);
      checkClusterLimits();
    },
    giveBack: (execution) => {
      execution.worker.running--;
    },
    isLive: (execution) => !execution.worker.dead,
  });
  /** Which worker last held each run (claimed it, or started it itself). */
  const holder = new Map<string, number>();
  /** Top-level runs by id: their workflow and input (for the cluster-wide maxRuns check). */
  const runsById = new Map<string, StartSpec>();
  /** Per rate-limit key, every start time the database granted. */
  const grants = new Map<string, number[]>();
  const workers: SimWorker[] = [];
  /** Worker ids in the database, by the simulation's names for the workers (w1, w2...). */
  const workerNames = new Map<string, string>();
  /** Queued runs a worker cancelled in the database outside any commit (cancelUnstarted). */
  const endedOutsideLog = new Set<string>();
  let crashes = 0;
  let holdsPlanned = 0;

  const maxRunsOf = new Map(load.workflows.map((w) => [w.name, w]));
  const describe = (e: Execution) => `w${e.worker.id}:${trace.name(e.runId)}/${e.step}#${e.attempt}`;
  /** maxRuns and the pool, across the workers that may still act (neither dead nor out of their lease). */
  const checkClusterLimits = () => {
    const counted = [...executions.values()].filter((e) => !e.worker.dead && !e.orphaned);
    const inPool = counted.filter((e) => e.holding && e.pool);
    if (inPool.length > POOL_SIZE) {
      violate(
        `${inPool.length} steps hold pool ${POOL} across the workers, more than its ${POOL_SIZE}: ${inPool.map(describe).join(' ')}`,
      );
      // Whom the database says holds it, for the trace.
      void observer.pool
        .query<{ holder: string; worker_id: string }>(
          'SELECT holder, worker_id FROM braid.semaphore_holders WHERE name = $1',
          [POOL],
        )
        .then(({ rows }) => {
          const holders = rows.map((r) => {
            const [runId = '', step = ''] = r.holder.split('/');
            return `${workerNames.get(r.worker_id) ?? '?'}:${trace.name(runId)}/${step}`;
          });
          trace.add(`the database's holders of ${POOL}: ${holders.join(' ')}`);
        })
        .catch(() => {});
    }
    const groups = new Map<string, Execution[]>();
    // Only steps at work: one suspended in a wait is abandoned when its run sleeps in the store (a
    // worker that claims it later runs the function again), and it holds no slot meanwhile.
    for (const e of counted.filter((x) => x.holding)) {
      const start = runsById.get(e.runId);
      const wf = start && maxRunsOf.get(start.workflow);
      if (!start || wf?.maxRuns === undefined) continue;
      const group = `${wf.name} (key "${wf.keyed ? parityKey(start.input) : ''}")`;
      const list = [...(groups.get(group) ?? []), e];
      groups.set(group, list);
      const runs = new Set(list.map((x) => x.runId));
      if (runs.size > wf.maxRuns)
        violate(
          `${runs.size} runs of ${group} execute steps at once, more than its maxRuns ${wf.maxRuns}: ${list.map(describe).join(' ')}`,
        );
    }
  };

  const chooseCommitFault = (batch: WriteBatch): CommitFault => {
    if (options.commitFaultRate <= 0 || !commitFaults.chance(options.commitFaultRate)) return 'none';
    const canCrash = crashes < options.maxCrashes;
    const kind = commitFaults.pick(
      canCrash ? (['crash-before', 'crash-after', 'fail', 'slow'] as const) : (['fail', 'slow'] as const),
    );
    return kind.startsWith('crash') && batch.steps.length === 0 && batch.runUpdates.length === 0 ? 'slow' : kind;
  };

  const spawnWorker = async (id: number): Promise<SimWorker> => {
    const postgres = new PostgresStore({ connectionString: url, poolSize: 4 });
    if (options.sabotage === 'unfenced') {
      // The planted bug: the store never learns its worker id, so no commit of it is fenced.
      postgres.setWorker = () => {};
    }
    const self: SimWorker = {
      id,
      dead: false,
      zombie: false,
      heldUntil: 0,
      executor: undefined as never,
      postgres,
      kill: async () => {},
      running: 0,
    };
    const isDead = () => self.dead;
    const commitView = faultyStore(
      postgres,
      {
        nextFault: (batch) => {
          snapshots.set(batch, { description: trace.describe(batch), copy: structuredClone(batch) });
          return chooseCommitFault(batch);
        },
        landed: (batch, result, fault) => {
          counts.commits++;
          const snapshot = snapshots.get(batch);
          trace.commit(self.id, fault, snapshot?.description ?? '?', result);
          const refused = new Set(result.refusedRunIds ?? []);
          if (refused.size) {
            counts.fencedRuns += refused.size;
            trace.add(`w${self.id}'s late writes to ${[...refused].map((r) => trace.name(r)).join(' ')} refused`);
          }
          const stale = new Set([...(result.staleRunIds ?? []), ...refused]);
          // The batch as handed over: the engine goes on changing its records while the commit is under way.
          const copy = snapshot?.copy ?? structuredClone(batch);
          for (const step of copy.steps) {
            if (step.status === 'succeeded' && !stale.has(step.runId)) succeeded.add(`${step.runId}/${step.name}`);
          }
          for (const runId of copy.localRuns ?? []) if (!refused.has(runId)) holder.set(runId, self.id);
          log.push(withoutRuns(copy, refused));
        },
        rateLimitTaken: (request: RateLimitRequest, grant: RateLimitGrant) => {
          if (!grant.granted) return;
          const key = `${request.name}/${request.key}`;
          grants.set(key, [...(grants.get(key) ?? []), grant.startAt]);
        },
        crash: (reason) => {
          crashes++;
          counts.workersKilled++;
          self.dead = true;
          trace.add(`w${self.id} dies (${reason}) at ${at()}`);
          void self.kill();
        },
        yieldTurns: async (n) => {
          for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
        },
      },
      isDead,
    );
    const cluster = clusterFaultyStore(
      commitView,
      {
        nextNotification: (channel) => {
          const fault: NotificationFault = notifyFaults.chance(options.notificationFaultRate)
            ? 'drop'
            : notifyFaults.chance(options.notificationFaultRate)
              ? 'duplicate'
              : 'none';
          if (fault === 'drop') counts.notificationsDropped++;
          if (fault === 'duplicate') counts.notificationsDuplicated++;
          if (fault !== 'none') trace.add(`w${self.id} ${fault}s a ${channel} notification at ${at()}`);
          return fault;
        },
        heartbeatHeldUntil: () => self.heldUntil,
        heartbeatAnswered: (alive, held) => {
          // The calls held back together reach the database together: the first one says it.
          if (!held || !self.zombie) return;
          trace.add(`w${self.id}'s held heartbeat reaches the database at ${at()}: lease ${alive ? 'kept' : 'gone'}`);
          self.zombie = false;
        },
        claimed: (claimed) => {
          for (const { run } of claimed) {
            const before = holder.get(run.id);
            if (before !== undefined && before !== self.id) {
              counts.runsAdopted++;
              trace.add(`w${self.id} adopts ${trace.name(run.id)} from w${before} at ${at()}`);
            }
            holder.set(run.id, self.id);
          }
        },
        gate: (action, name, holder, granted) => {
          const [runId = holder, step = ''] = holder.split('/');
          const outcome = action === 'acquire' ? (granted ? ' granted' : ' refused') : 'd';
          trace.add(`w${self.id} ${action}${outcome} ${name} for ${trace.name(runId)}/${step} at ${at()}`);
        },
        cancelledUnstarted: (runId) => {
          endedOutsideLog.add(runId);
          trace.add(`w${self.id} cancels unstarted ${trace.name(runId)} in the database at ${at()}`);
        },
        registered: (workerId) => {
          workerNames.set(workerId, `w${self.id}`);
        },
        reaped: (ids) => {
          counts.leasesExpired += ids.length;
          if (ids.length)
            trace.add(
              `w${self.id} reaps expired worker(s) ${ids.map((i) => workerNames.get(i) ?? '?').join(' ')} at ${at()}`,
            );
        },
      },
      isDead,
    );
    self.kill = cluster.kill;
    const hooks = {
      started(runId: string, step: string, attempt: number, pool: boolean, signal: AbortSignal): number {
        // A dead worker's step functions do not exist (its process is gone).
        if (self.dead) return executions.token();
        trace.add(
          `w${self.id}${self.zombie ? ' (lease held back)' : ''} runs ${trace.name(runId)}/${step} attempt ${attempt} at ${at()}`,
        );
        if (succeeded.has(`${runId}/${step}`))
          violate(
            `step ${trace.name(runId)}/${step} ran again (attempt ${attempt}, on w${self.id}) after its success was committed`,
          );
        const execution: Execution = {
          worker: self,
          runId,
          step,
          attempt,
          orphaned: self.zombie,
          pool,
          holding: false,
          stopped: false,
        };
        return executions.start(execution, signal, () =>
          trace.add(`w${self.id} stops ${trace.name(runId)}/${step} attempt ${attempt} at ${at()}`),
        );
      },
      ended: (token: number) => executions.ended(token),
      suspended: (token: number) => executions.suspended(token),
      resumed: (token: number) => executions.resumed(token),
      async workTurns(): Promise<void> {
        // Real work takes real time: long enough for a lease to expire under some of it.
        await new Promise((resolve) => setTimeout(resolve, timing.int(25)));
      },
      rateLimitedStart(): void {},
      joinBroken: (runId: string, step: string, message: string) =>
        violate(`the join of ${trace.name(runId)}/${step} ${message}`),
    };
    self.executor = new WorkflowExecutor({
      store: cluster.store,
      workflows: buildWorkflows(load, hooks),
      pools: { [POOL]: POOL_SIZE },
      maxParallelNodes: PARALLEL_STEPS,
      retention: false,
      historySize: 0,
      worker: {
        leaseMs: options.leaseMs,
        heartbeatMs: Math.round(options.leaseMs / 4),
        // The safety poll reaps expired workers and catches up on lost wake-ups.
        pollMs: Math.round(options.leaseMs / 3),
        shutdownGraceMs: 200,
        log: (line) => {
          if (self.dead) return;
          if (/lost its lease/.test(line)) {
            counts.leasesLost++;
            self.zombie = false;
          }
          let named = line;
          for (const [workerId, name] of workerNames) named = named.split(workerId).join(name);
          trace.add(`w${self.id} log: ${named}`);
        },
      },
    });
    counts.workersStarted++;
    trace.add(`w${id} starts at ${at()}`);
    await self.executor.open();
    workers.push(self);
    return self;
  };

  /** Waits for a call into a worker; 'dead' if the worker dies first. */
  const drive = async <T>(call: Promise<T>, owner: SimWorker): Promise<T | 'dead'> => {
    let outcome: { value: T } | { error: unknown } | undefined;
    call.then(
      (value) => (outcome = { value }),
      (error: unknown) => (outcome = { error }),
    );
    while (!outcome) {
      if (owner.dead) return 'dead';
      await sleep(5);
    }
    if ('error' in outcome) throw outcome.error;
    return outcome.value;
  };

  const live = () => workers.filter((w) => !w.dead);
  /** The worker the driver talks to: a live one, chosen by the seed. */
  const anyLive = (): SimWorker => steer.pick(live());

  const started = new Set<number>();
  const runIds = new Map<number, string>();
  const cancels = new Map<number, 'cancelled' | 'maybe'>();
  const waitsForEvent = new Set(load.workflows.filter((w) => w.steps.some((s) => s.awaitsEvent)).map((w) => w.name));
  const eventsSent = new Map<number, number>();
  const control = (target: SimWorker, index: number) => {
    const runId = runIds.get(index) as string;
    const action = steer.pick(['pause', 'resume', 'cancel'] as const);
    trace.add(`w${target.id} ${action}s ${trace.name(runId)} at ${at()}`);
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

  // The engine warns on the console when a late commit is refused: into the trace instead.
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    const line = args.map(String).join(' ');
    if (line.startsWith('[braid]')) trace.add(`log: ${line}`);
    else warn(...args);
  };
  let nextWorkerId = 1;
  try {
    for (let i = 0; i < options.workers; i++) await spawnWorker(nextWorkerId++);
    for (let tick = 0; ; tick++) {
      while (live().length < options.workers) await spawnWorker(nextWorkerId++);
      for (const [index, start] of load.starts.entries()) {
        if (started.has(index) || start.atTick > tick) continue;
        const target = anyLive();
        const workflow = target.executor.workflows.find((w) => w.name === start.workflow);
        if (!workflow) throw new Error(`workload names an unknown workflow ${start.workflow}`);
        const outcome = await drive(
          target.executor.start(workflow, start.input, { idempotencyKey: `start-${index}` }),
          target,
        );
        if (outcome === 'dead') continue;
        started.add(index);
        runIds.set(index, outcome.runId);
        runsById.set(outcome.runId, start);
        trace.add(`w${target.id} starts ${trace.name(outcome.runId)} (${start.workflow}) at ${at()}`);
      }
      for (const index of started) {
        const start = load.starts[index] as StartSpec;
        const sends = eventsSent.get(index) ?? 0;
        if (
          !waitsForEvent.has(start.workflow) ||
          tick < start.eventTick + sends * 3 ||
          sends >= (start.duplicateEvent ? 2 : 1)
        )
          continue;
        const target = anyLive();
        const sent = await drive(
          target.executor.sendEvent(SIGNAL, signalPayload(start.input), {
            key: signalKey(start.input),
            idempotencyKey: `event-${index}`,
          }),
          target,
        );
        if (sent === 'dead') break;
        eventsSent.set(index, sends + 1);
        trace.add(
          `w${target.id} sends the event of ${trace.name(runIds.get(index) as string)}: ${sent.duplicate ? 'duplicate' : `delivered to ${sent.delivered}`}`,
        );
      }
      if (options.controls && started.size > 0 && steer.chance(0.04)) control(anyLive(), steer.pick([...started]));
      // A heartbeat held back long enough for the lease to expire, while the worker runs on.
      const candidates = live().filter((w) => !w.zombie && w.heldUntil < Date.now());
      if (
        holdsPlanned < options.heartbeatHolds &&
        candidates.length > 1 &&
        started.size > 0 &&
        leaseFaults.chance(0.05)
      ) {
        holdsPlanned++;
        counts.heartbeatsHeld++;
        const target = leaseFaults.pick(candidates);
        target.zombie = true;
        for (const e of executions.values()) if (e.worker === target) e.orphaned = true;
        target.heldUntil = Date.now() + Math.round(options.leaseMs * 2.5);
        trace.add(`w${target.id}'s heartbeats are held back for ${Math.round(options.leaseMs * 2.5)} ms at ${at()}`);
      }
      await sleep(TICK_MS);
      const eventsDue = [...started].some(
        (i) => waitsForEvent.has((load.starts[i] as StartSpec).workflow) && (eventsSent.get(i) ?? 0) === 0,
      );
      // A held-back heartbeat plays out to its end (the lease lost, or kept), so its effects are checked.
      const holding = live().some((w) => w.zombie);
      if (started.size === load.starts.length && !eventsDue && !holding) {
        const unfinished = await unfinishedRuns(observer);
        if (unfinished.length === 0) break;
        if (unfinished.every((r) => r.status === 'paused') && tick % 10 === 0) {
          for (const run of unfinished) {
            const target = anyLive();
            trace.add(`w${target.id} resumes paused ${trace.name(run.id)}`);
            target.executor.resume(run.id).catch((error: Error) => trace.add(`resume refused: ${error.name}`));
          }
        }
      }
      if (Date.now() - began > options.deadlineMs) {
        const unfinished = await unfinishedRuns(observer);
        violate(
          `runs had not ended after ${options.deadlineMs} ms: ${unfinished.map((r) => `${trace.name(r.id)}:${r.status}`).join(' ')}`,
        );
        break;
      }
    }
    if (violations.length === 0) {
      for (const message of await checkStore(observer, load, expectRun, trace, cancels)) violate(message);
      for (const message of await checkReplay(observer, log, trace, endedOutsideLog)) violate(message);
      for (const message of checkGrants(grants)) violate(message);
    }
  } finally {
    // Live workers shut down; a dead one's pool is closed (its process is gone).
    await Promise.all(live().map((w) => w.executor.cleanup().catch(() => {})));
    for (const worker of workers) {
      if (worker.dead) {
        // Stops its timers (its calls never return, so this never finishes: not awaited).
        void worker.executor.cleanup().catch(() => {});
        await worker.kill();
      }
      await worker.postgres.close().catch(() => {});
    }
    await observer.close();
    console.warn = warn;
  }
  return { seed, violations, trace: trace.lines(), counts, wallMs: Date.now() - began };
}

/**
 * The rate limit across every worker: the database's grants per key, in time order, one interval
 * (period / limit) apart, as GCRA grants them. Checked at the end, on all grants sorted, because
 * the answers of two workers' requests reach the simulation in either order.
 */
function checkGrants(grants: ReadonlyMap<string, number[]>): string[] {
  const problems: string[] = [];
  const intervalMs = RATE_LIMIT.periodMs / RATE_LIMIT.limit;
  for (const [key, times] of grants) {
    const sorted = [...times].sort((a, b) => a - b);
    for (let i = 1; i < sorted.length; i++) {
      const gap = (sorted[i] as number) - (sorted[i - 1] as number);
      if (gap < intervalMs - 1e-6)
        problems.push(`rate limit ${key} granted starts ${gap} ms apart, closer than its interval ${intervalMs} ms`);
    }
  }
  return problems;
}

/**
 * A landed batch without the writes of the runs the store refused (fenced), nor of the new children
 * they spawned in it (the store drops those too, without naming them): they never happened.
 */
function withoutRuns(batch: WriteBatch, refusedRuns: ReadonlySet<string>): WriteBatch {
  if (refusedRuns.size === 0) return batch;
  const refused = new Set(refusedRuns);
  for (const run of batch.newRuns) {
    if (run.parentRunId !== null && refusedRuns.has(run.parentRunId)) refused.add(run.id);
  }
  const keep = <T extends { runId: string }>(records: T[] | undefined) => records?.filter((r) => !refused.has(r.runId));
  return {
    ...batch,
    newRuns: batch.newRuns.filter((r) => !refused.has(r.id)),
    runUpdates: batch.runUpdates.filter((r) => !refused.has(r.id)),
    steps: keep(batch.steps) ?? [],
    events: keep(batch.events) ?? [],
    ...(batch.waits ? { waits: keep(batch.waits) } : {}),
    ...(batch.chunks ? { chunks: keep(batch.chunks) } : {}),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function unfinishedRuns(store: Store): Promise<RunRecord[]> {
  return (await store.listRuns({ status: ['queued', 'running', 'waiting', 'paused'], limit: 1000 })).runs;
}

/** No fault yet: the sum of several seeds' counts starts here. */
export function emptyCounts(): PostgresSimOutcome['counts'] {
  return {
    commits: 0,
    notificationsDropped: 0,
    notificationsDuplicated: 0,
    heartbeatsHeld: 0,
    leasesExpired: 0,
    leasesLost: 0,
    runsAdopted: 0,
    fencedRuns: 0,
    workersKilled: 0,
    workersStarted: 0,
  };
}

/** The counts in words, for a summary line. */
export function describeCounts(c: PostgresSimOutcome['counts']): string {
  return (
    `${c.commits} commits, ${c.workersStarted} workers started, ${c.workersKilled} killed, ` +
    `${c.notificationsDropped} notifications dropped, ${c.notificationsDuplicated} duplicated, ` +
    `${c.heartbeatsHeld} heartbeats held back, ${c.leasesExpired} leases expired (reaped), ` +
    `${c.leasesLost} leases lost, ${c.runsAdopted} runs adopted, ${c.fencedRuns} late writes refused`
  );
}
