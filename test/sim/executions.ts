/** One execution of a step function, as both simulations track it for their slot checks. */
export interface TrackedExecution {
  /** It holds an execution slot (and a pool unit, if its step has a pool) now: not while it waits. */
  holding: boolean;
  /** The engine stopped it (its signal fired): it never holds a slot again. */
  stopped: boolean;
}

/**
 * The step executions a simulation watches, by the token its workflows' hooks pass around. An
 * execution takes its slot when it starts and again when it resumes on a live process, and gives
 * it back while it waits, when it ends and when the engine stops it; `take` and `giveBack` are the
 * simulation's own counting (per process, per worker) and checks.
 */
export class Executions<E extends TrackedExecution> {
  private nextToken = 1;
  private readonly byToken = new Map<number, E>();

  constructor(
    private readonly hooks: {
      take(execution: E): void;
      giveBack(execution: E): void;
      /** Whether the process or worker it runs on is still alive. */
      isLive(execution: E): boolean;
    },
  ) {}

  /** A token for an attempt whose function does not exist (its process is gone). */
  token(): number {
    return this.nextToken++;
  }

  /** The execution starts and holds its slot; `onStop` runs first when the engine stops it. */
  start(execution: E, signal: AbortSignal, onStop: () => void): number {
    const token = this.token();
    this.byToken.set(token, execution);
    this.hold(execution);
    // A stopped attempt (a cancel, a timeout) no longer counts, though its function runs on.
    signal.addEventListener('abort', () => {
      onStop();
      this.release(execution);
      execution.stopped = true;
    });
    return token;
  }

  ended(token: number): void {
    this.release(this.byToken.get(token));
    this.byToken.delete(token);
  }

  suspended(token: number): void {
    this.release(this.byToken.get(token));
  }

  resumed(token: number): void {
    const execution = this.byToken.get(token);
    if (execution && this.hooks.isLive(execution) && !execution.stopped) this.hold(execution);
  }

  values(): IterableIterator<E> {
    return this.byToken.values();
  }

  private hold(execution: E): void {
    execution.holding = true;
    this.hooks.take(execution);
  }

  private release(execution: E | undefined): void {
    if (!execution?.holding) return;
    execution.holding = false;
    this.hooks.giveBack(execution);
  }
}
