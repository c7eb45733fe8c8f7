import type { ClaimedRun, Coordination, NotificationHandlers } from '../../src/store/coordination.js';
import type { Store } from '../../src/store/store.js';

/** What happens to one LISTEN/NOTIFY wake-up a worker hears: chosen by the simulation's seed. */
export type NotificationFault = 'none' | 'drop' | 'duplicate';

export interface ClusterFaultHooks {
  /** Chooses what happens to the next notification of `channel` this worker hears. */
  nextNotification(channel: string): NotificationFault;
  /** Until when (epoch ms) this worker's heartbeats are held back; 0 or past: they go through. */
  heartbeatHeldUntil(): number;
  /** The worker's (held back) heartbeat reached the database: false means its lease was gone. */
  heartbeatAnswered(alive: boolean, held: boolean): void;
  /** A claim gave this worker these runs. */
  claimed(runs: readonly ClaimedRun[]): void;
  /** The worker registered (again, after losing its lease) under this id. */
  registered(workerId: string): void;
  /** A pool unit was asked for (granted or not), or given back, in the database. */
  gate(action: 'acquire' | 'release', name: string, holder: string, granted?: boolean): void;
  /** This worker cancelled a queued run no worker held, outside any commit. */
  cancelledUnstarted(runId: string): void;
  /** This worker reaped these expired workers. */
  reaped(workerIds: readonly string[]): void;
}

/** The wake-ups a lost notification would miss; `reconnected` / `disconnected` are the connection's own. */
const WAKE_UPS = ['ready', 'settled', 'waits', 'asleep', 'control', 'slots'] as const;

/** Never settles: what every call of a dead worker waits for. */
const NEVER = new Promise<never>(() => {});

/**
 * One simulated worker's view of the scale-out store's coordination layer (`store.coordination`,
 * what ClusterMember uses): wake-ups it hears are dropped or delivered twice as the seed says, its
 * heartbeats are held back (the worker goes on running its steps while its lease expires, as in a
 * long GC pause or a stalled connection), and once the worker is dead every call waits forever and
 * its LISTEN connection is closed, as with a `SIGKILL`. `store` is the worker's store view (see
 * faultyStore.ts), whose commits meet the commit faults.
 *
 * Returns the wrapped store and `kill`, which closes the LISTEN connection of a worker that died.
 */
export function clusterFaultyStore(
  store: Store,
  hooks: ClusterFaultHooks,
  isDead: () => boolean,
): { store: Store; kill(): Promise<void> } {
  let coordination: Coordination | undefined;
  let wrapped: Coordination | undefined;
  let unlisten: (() => Promise<void>) | undefined;

  const wrapHandlers = (handlers: NotificationHandlers): NotificationHandlers => {
    const out: NotificationHandlers = { ...handlers };
    for (const channel of WAKE_UPS) {
      const handler = handlers[channel] as (...args: unknown[]) => void;
      (out as unknown as Record<string, (...args: unknown[]) => void>)[channel] = (...args: unknown[]) => {
        if (isDead()) return;
        const fault = hooks.nextNotification(channel);
        if (fault === 'drop') return;
        handler(...args);
        // The second delivery comes a turn later, as a second NOTIFY would.
        if (fault === 'duplicate') setImmediate(() => isDead() || handler(...args));
      };
    }
    return out;
  };

  const wrap = (target: Coordination): Coordination =>
    new Proxy(target, {
      get(inner, prop, receiver) {
        const value = Reflect.get(inner, prop, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (isDead()) return prop === 'sendEventNotices' ? undefined : NEVER;
          switch (prop) {
            case 'listen':
              return inner.listen(wrapHandlers(args[0] as NotificationHandlers)).then((stop) => {
                unlisten = stop;
                return stop;
              });
            case 'heartbeat':
              return heldHeartbeat(inner, args[0] as string, args[1] as number);
            case 'claimRuns':
              return (value.apply(inner, args) as Promise<ClaimedRun[]>).then((claimed) => {
                if (isDead()) return NEVER;
                hooks.claimed(claimed);
                return claimed;
              });
            case 'acquire':
              return (value.apply(inner, args) as Promise<boolean>).then((granted) => {
                hooks.gate('acquire', args[0] as string, args[1] as string, granted);
                return isDead() ? NEVER : granted;
              });
            case 'release':
              return (value.apply(inner, args) as Promise<void>).then(() => {
                hooks.gate('release', args[0] as string, args[1] as string);
                return isDead() ? NEVER : undefined;
              });
            case 'cancelUnstarted':
              return (value.apply(inner, args) as Promise<boolean>).then((cancelled) => {
                if (cancelled) hooks.cancelledUnstarted(args[0] as string);
                return isDead() ? NEVER : cancelled;
              });
            case 'registerWorker':
              return (value.apply(inner, args) as Promise<string>).then((id) => {
                hooks.registered(id);
                return isDead() ? NEVER : id;
              });
            case 'reapExpiredWorkers':
              return (value.apply(inner, args) as Promise<string[]>).then((ids) => {
                hooks.reaped(ids);
                return isDead() ? NEVER : ids;
              });
          }
          const out = value.apply(inner, args);
          if (!(out instanceof Promise)) return out;
          return out.then((v) => (isDead() ? NEVER : v));
        };
      },
    });

  /** A held heartbeat waits, without reaching the database, until the hold ends; then it goes through. */
  const heldHeartbeat = async (inner: Coordination, workerId: string, leaseMs: number): Promise<boolean> => {
    const until = hooks.heartbeatHeldUntil();
    const held = until > Date.now();
    if (held) await new Promise((resolve) => setTimeout(resolve, until - Date.now()));
    if (isDead()) return NEVER;
    const alive = await inner.heartbeat(workerId, leaseMs);
    hooks.heartbeatAnswered(alive, held);
    return isDead() ? NEVER : alive;
  };

  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop !== 'coordination') return Reflect.get(target, prop, receiver);
      const current = Reflect.get(target, prop, receiver) as Coordination | undefined;
      if (!current) return undefined;
      if (current !== coordination) {
        coordination = current;
        wrapped = wrap(current);
      }
      return wrapped;
    },
  });
  return {
    store: proxy,
    kill: async () => {
      await unlisten?.().catch(() => {});
    },
  };
}
