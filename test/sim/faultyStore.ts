import type { CommitResult, Store } from '../../src/store/store.js';
import type { RateLimitGrant, RateLimitRequest, WriteBatch } from '../../src/store/types.js';

/** What happens to one commit: chosen by the simulation's fault stream. */
export type CommitFault =
  | 'none'
  /** The process dies before the commit reaches the store: nothing of it lands. */
  | 'crash-before'
  /** The commit lands, then the process dies before the engine hears of it. */
  | 'crash-after'
  /** The store refuses the commit with a transient error: the engine must try again. */
  | 'fail'
  /** The commit's result comes back late: other work interleaves with it. */
  | 'slow';

/** A transient commit failure the simulation injects; the wrapped store calls it retryable. */
export class SimulatedCommitError extends Error {
  constructor() {
    super('simulated transient commit failure');
    this.name = 'SimulatedCommitError';
  }
}

export interface FaultHooks {
  /** Chooses the fault for the next commit. */
  nextFault(batch: WriteBatch): CommitFault;
  /** The commit landed in the durable store (before the engine hears of it). */
  landed(batch: WriteBatch, result: CommitResult, fault: CommitFault): void;
  /** The store granted (or refused) a start under a rate limit. */
  rateLimitTaken(request: RateLimitRequest, grant: RateLimitGrant): void;
  /** The process this store belongs to dies now. */
  crash(reason: string): void;
  /** Lets other work run: `turns` trips through the event loop. */
  yieldTurns(turns: number): Promise<void>;
}

/** Never settles: what every call of a dead process waits for. */
const NEVER = new Promise<never>(() => {});

/**
 * One simulated process's view of the durable store: every call goes through to the shared store
 * until the process dies; from then on every call waits forever, so the dead process's engine
 * (still in this Node process) changes nothing. Commits meet the faults the simulation chose.
 * `lockForExecutor` is left out: every simulated process is one executor, and a dead one never
 * releases its lock.
 */
export function faultyStore(durable: Store, hooks: FaultHooks, isDead: () => boolean): Store {
  const commit = async (batch: WriteBatch): Promise<CommitResult> => {
    if (isDead()) return NEVER;
    const fault = hooks.nextFault(batch);
    switch (fault) {
      case 'crash-before':
        hooks.crash('crash before a commit');
        return NEVER;
      case 'fail':
        await hooks.yieldTurns(1);
        throw new SimulatedCommitError();
    }
    // The store reads the batch now, before any await (Store.commit's contract): a slow commit is
    // one whose result comes back late, not one that reads records the engine has changed since.
    const result = await durable.commit(batch);
    hooks.landed(batch, result, fault);
    if (fault === 'slow') await hooks.yieldTurns(3);
    if (fault === 'crash-after') {
      hooks.crash('crash after a commit landed');
      return NEVER;
    }
    if (isDead()) return NEVER;
    return result;
  };
  return new Proxy(durable, {
    get(target, prop, receiver) {
      if (prop === 'commit') return commit;
      if (prop === 'lockForExecutor' || prop === 'unlockForExecutor') return undefined;
      if (prop === 'close') return async () => {};
      if (prop === 'isTransientError') {
        return (error: unknown) => error instanceof SimulatedCommitError || (target.isTransientError?.(error) ?? false);
      }
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (isDead()) return NEVER;
        const out = value.apply(target, args);
        if (!(out instanceof Promise)) return out;
        return out.then((v) => {
          // A grant is the store's, whether or not the process lives to use it.
          if (prop === 'takeRateLimits') {
            const requests = args[0] as RateLimitRequest[];
            for (const [i, grant] of (v as RateLimitGrant[]).entries())
              hooks.rateLimitTaken(requests[i] as RateLimitRequest, grant);
          }
          return isDead() ? NEVER : v;
        });
      };
    },
  });
}
