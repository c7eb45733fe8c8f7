import type { SlotGates } from './ports.js';
import { PriorityQueue } from './priorityQueue.js';
import { type ActiveRun, type ActiveStep, isCurrentAttempt } from './runState.js';

/** The gate behind a cluster-wide step limit (WorkerOptions.globalMaxParallelNodes). */
const GLOBAL_STEPS_GATE = 'braid:steps';

/** Who holds a step's gates in the database: one attempt of a step at a time. */
const holderOf = (run: ActiveRun, step: ActiveStep) => `${run.rec.id}/${step.def.name}`;

/** A step waits for slots and gates with its own priority, else its run's. */
const priorityOf = (run: ActiveRun, step: ActiveStep) => step.def.priority ?? run.rec.priority;

interface ReadyEntry {
  run: ActiveRun;
  step: ActiveStep;
}

/**
 * Decides when queued steps start. A step needs a slot of the process (maxParallelNodes), room
 * under its run's cap, a unit of its pool, and in a cluster the gates held in the database; all of
 * it is recorded in the step's SlotHold and given back by `release`. A step suspended on a wait
 * (a join) gives its slot back and takes one again, ahead of new work, when it resumes. Queued
 * steps take slots by priority (the step's own, else its run's), then arrival, with every few
 * slots going to the step that has waited longest (PriorityQueue): no priority starves another.
 */
export class Dispatcher {
  private freeSlots: number;
  private readonly poolUsed = new Map<string, number>();
  /** Pool sizes changed at run time (executor.setPoolSize): they win over `pools`. */
  private readonly poolSizes = new Map<string, number>();
  private readonly ready = new PriorityQueue<ReadyEntry>();
  /** Suspended steps waiting to take a slot back; they go before new work. */
  private resumers: Array<() => void> = [];
  /** While > 0, nothing is dispatched (see `holdWhile`). */
  private held = 0;
  private draining = false;
  private closed = false;

  constructor(
    private readonly maxParallelNodes: number,
    private readonly pools: Readonly<Record<string, number>>,
    private readonly gates: () => SlotGates | undefined,
    /** Starts an attempt of a step that has just been given its slot. */
    private readonly start: (run: ActiveRun, step: ActiveStep) => void,
    /** Rate limits (src/engine/rateLimits.ts): asked before a step takes its slot and its gates. */
    private readonly limits?: {
      admit(run: ActiveRun, step: ActiveStep): boolean;
      started(run: ActiveRun, step: ActiveStep): void;
    },
  ) {
    this.freeSlots = maxParallelNodes;
  }

  /** Free execution slots not yet spoken for by queued steps. */
  get spareCapacity(): number {
    return this.freeSlots - this.ready.size;
  }

  get runningSteps(): number {
    return this.maxParallelNodes - this.freeSlots;
  }

  enqueue(run: ActiveRun, step: ActiveStep): void {
    if (step.inQueue) return;
    step.rec.status = 'queued';
    step.inQueue = true;
    this.ready.push({ run, step }, priorityOf(run, step));
    this.pump();
  }

  /**
   * Starts queued steps while slots are free. Resuming steps go first. Stale entries are dropped;
   * entries blocked by a pool or a run's cap keep their place in the ready queue.
   */
  pump(): void {
    if (this.held > 0 || this.closed) return;
    while (this.freeSlots > 0 && this.resumers.length) {
      this.freeSlots--;
      (this.resumers.shift() as () => void)();
    }
    if (this.draining) return;
    if (this.freeSlots <= 0 || this.ready.size === 0) return;
    const gates = this.gates();
    this.ready.drain(({ run, step }) => {
      if (this.freeSlots <= 0) return 'stop';
      if (!step.inQueue || !run.resident || run.rec.status !== 'running' || step.rec.status !== 'queued') {
        step.inQueue = false;
        return 'drop';
      }
      const pool = step.def.pool;
      if (run.running >= run.maxParallel) return 'keep';
      // In a cluster the pool's gate in the database decides (it reads the size set at run time
      // there, for every worker); counting here too would hold the step to a size this process
      // may not have heard of yet.
      if (pool !== undefined && !gates && !this.poolHasRoom(pool)) return 'keep';
      if (this.limits && !this.limits.admit(run, step)) return 'keep';
      if (gates && step.hold.gateState !== 'held' && this.needsGates(step, gates)) {
        if (step.hold.gateState === 'none') this.acquireGates(run, step, gates);
        return 'keep';
      }
      step.inQueue = false;
      this.occupy(run, step);
      this.limits?.started(run, step);
      this.start(run, step);
      return 'take';
    });
  }

  /**
   * A pool's size changed at run time (undefined: back to `pools`). Raising it starts waiting steps
   * now; lowering it lets running steps finish and starts none until the pool is under the new size.
   */
  setPoolSize(pool: string, size: number | undefined): void {
    if (size === undefined) this.poolSizes.delete(pool);
    else this.poolSizes.set(pool, size);
    this.pump();
  }

  /** Per pool: steps of this process holding a unit (busy), and queued steps that need one (waiting). */
  poolUsage(): Map<string, { busy: number; waiting: number }> {
    const usage = new Map<string, { busy: number; waiting: number }>();
    const of = (pool: string) => {
      let u = usage.get(pool);
      if (!u) {
        u = { busy: 0, waiting: 0 };
        usage.set(pool, u);
      }
      return u;
    };
    for (const pool of Object.keys(this.pools)) of(pool).busy = this.poolUsed.get(pool) ?? 0;
    for (const { run, step } of this.ready.items()) {
      const pool = step.def.pool;
      if (pool !== undefined && step.inQueue && run.resident && step.rec.status === 'queued') of(pool).waiting++;
    }
    return usage;
  }

  /** Gives back everything the step holds: its slot, its pool unit, its gates in the database. */
  release(run: ActiveRun, step: ActiveStep): void {
    const hold = step.hold;
    if (hold.slot) {
      hold.slot = false;
      run.running--;
      this.freeSlots++;
    }
    if (hold.pool) {
      hold.pool = false;
      const pool = step.def.pool as string;
      this.poolUsed.set(pool, (this.poolUsed.get(pool) ?? 1) - 1);
    }
    this.releaseGates(run, step);
  }

  /**
   * A step suspended on a wait (a join) gives its slot back so the work it waits for can run (no
   * starvation), and the cluster-wide step limit too, or parents waiting in joins could hold every
   * unit while their children wait for one.
   */
  suspend(run: ActiveRun, step: ActiveStep): void {
    if (!step.hold.slot) return;
    step.hold.slot = false;
    run.running--;
    this.freeSlots++;
    this.releaseGates(run, step, GLOBAL_STEPS_GATE);
    this.pump();
  }

  /**
   * Takes a slot back for a suspended step whose wait is over, ahead of new work; `then(true)` once
   * it has one, `then(false)` if the attempt ended meanwhile, `then(error)` if the gate failed.
   */
  resume(run: ActiveRun, step: ActiveStep, token: number, then: (outcome: boolean | Error) => void): void {
    if (step.hold.slot) {
      then(true);
      return;
    }
    const gates = this.gates();
    const global = gates?.globalMaxParallelNodes;
    if (gates && global !== undefined && !step.hold.gates.includes(GLOBAL_STEPS_GATE)) {
      gates.acquire(GLOBAL_STEPS_GATE, holderOf(run, step), global, priorityOf(run, step)).then(
        (granted) => {
          if (granted) step.hold.gates.push(GLOBAL_STEPS_GATE);
          if (!granted || !isCurrentAttempt(step, token)) {
            if (granted) this.releaseGates(run, step);
            return then(false);
          }
          this.resume(run, step, token, then);
        },
        (error: Error) => then(error),
      );
      return;
    }
    this.resumers.push(() => {
      if (!isCurrentAttempt(step, token)) {
        this.freeSlots++; // the attempt ended while it waited: hand the slot on
        return then(false);
      }
      step.hold.slot = true;
      run.running++;
      then(true);
    });
    this.pump();
  }

  /**
   * Runs `fn` with dispatching held, then dispatches. Cancelling many runs at once frees a slot per
   * run; dispatching in between would start (and record as started) a step of the very next run to
   * cancel. Measured: cancelling a 5,000-child fan-out recorded 5,000 step starts.
   */
  holdWhile(fn: () => void): void {
    this.held++;
    try {
      fn();
    } finally {
      this.held--;
    }
    this.pump();
  }

  /** Graceful shutdown: running steps finish, nothing new starts. */
  stopDispatching(): void {
    this.draining = true;
  }

  close(): void {
    this.closed = true;
    this.ready.clear();
    this.resumers = [];
  }

  private occupy(run: ActiveRun, step: ActiveStep): void {
    this.freeSlots--;
    run.running++;
    step.hold.slot = true;
    const pool = step.def.pool;
    if (pool !== undefined) {
      this.poolUsed.set(pool, (this.poolUsed.get(pool) ?? 0) + 1);
      step.hold.pool = true;
    }
  }

  private poolHasRoom(pool: string): boolean {
    return (this.poolUsed.get(pool) ?? 0) < this.poolSize(pool);
  }

  private poolSize(pool: string): number {
    return this.poolSizes.get(pool) ?? this.pools[pool] ?? 0;
  }

  /** In a cluster: its pool, whose size holds across all workers, and the cluster-wide step limit. */
  private needsGates(step: ActiveStep, gates: SlotGates): boolean {
    return step.def.pool !== undefined || gates.globalMaxParallelNodes !== undefined;
  }

  private gatesOf(step: ActiveStep, gates: SlotGates): Array<{ name: string; capacity: number }> {
    const out: Array<{ name: string; capacity: number }> = [];
    const pool = step.def.pool;
    if (pool !== undefined) out.push({ name: pool, capacity: this.poolSize(pool) });
    const global = gates.globalMaxParallelNodes;
    if (global !== undefined) out.push({ name: GLOBAL_STEPS_GATE, capacity: global });
    return out;
  }

  /** Takes the step's gates one after the other, always in the same order (no deadlock between steps). */
  private acquireGates(run: ActiveRun, step: ActiveStep, gates: SlotGates): void {
    step.hold.gateState = 'acquiring';
    const holder = holderOf(run, step);
    const take = async () => {
      for (const { name, capacity } of this.gatesOf(step, gates)) {
        if (step.hold.gates.includes(name)) continue;
        if (!(await gates.acquire(name, holder, capacity, priorityOf(run, step)))) return false;
        step.hold.gates.push(name);
      }
      return true;
    };
    take().then(
      (granted) => {
        step.hold.gateState = granted ? 'held' : 'none';
        if (!granted || !run.resident || step.rec.status !== 'queued' || run.rec.status !== 'running') {
          this.releaseGates(run, step);
          return;
        }
        this.pump();
      },
      () => {
        step.hold.gateState = 'none'; // the database is away: the worker's safety poll dispatches again
      },
    );
  }

  /** Gives back the step's gates in the database (only `only`, when given). */
  private releaseGates(run: ActiveRun, step: ActiveStep, only?: string): void {
    const hold = step.hold;
    if (only === undefined && hold.gateState === 'held') hold.gateState = 'none';
    if (!hold.gates.length) return;
    const released = hold.gates.filter((name) => only === undefined || name === only);
    hold.gates = hold.gates.filter((name) => !released.includes(name));
    const gates = this.gates();
    for (const name of released) gates?.release(name, holderOf(run, step));
  }
}
