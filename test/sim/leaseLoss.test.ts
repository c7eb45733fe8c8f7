import { afterEach, describe, expect, it } from 'vitest';
import type { EngineControl } from '../../src/engine/ports.js';
import { MemoryStore } from '../../src/index.js';
import type { Coordination, NotificationHandlers } from '../../src/store/coordination.js';
import { ClusterMember } from '../../src/worker/clusterMember.js';

/**
 * Found by the PostgreSQL simulation (seed 4, a second way): a step waiting in line for a pool unit
 * when its worker lost its lease kept asking after the worker had registered again, under the new
 * id, and so took over the unit the run's new owner held for the same step (same holder name); the
 * worker, no longer holding the run, then gave that unit back, and the new owner's step ran
 * without one: three steps in a pool of 2. A wait for a unit belongs to one lease.
 */
describe('a worker that loses its lease', () => {
  let member: ClusterMember | undefined;
  afterEach(async () => {
    await member?.stop();
  });

  it('stops asking for a pool unit for the steps it held under that lease', async () => {
    let handlers: NotificationHandlers | undefined;
    const ids = ['worker-old', 'worker-new'];
    let leaseAlive = true;
    const asked: string[] = [];
    const coordination = new Proxy({} as Coordination, {
      get(_target, prop) {
        switch (prop) {
          case 'listen':
            return async (h: NotificationHandlers) => {
              handlers = h;
              return async () => {};
            };
          case 'registerWorker':
            return async () => ids.shift() ?? 'worker-later';
          case 'heartbeat':
            return async () => leaseAlive;
          case 'acquire':
            return async (_name: string, _holder: string, _capacity: number, workerId: string) => {
              asked.push(workerId);
              return false; // the pool is full: the step waits in line for a freed unit
            };
          case 'claimRuns':
          case 'ownedRuns':
          case 'reapExpiredWorkers':
          case 'getRuns':
          case 'findStrandedRuns':
          case 'takeControls':
            return async () => [];
          case 'nextWakeIn':
            return async () => null;
          default:
            return async () => {};
        }
      },
    });
    const engine = new Proxy({} as EngineControl, {
      get(_target, prop) {
        if (prop === 'spareCapacity') return 0;
        if (prop === 'runningSteps') return 0;
        if (prop === 'isClosed') return false;
        if (prop === 'claimableWorkflows' || prop === 'awaitedChildren' || prop === 'heldRunIds') return () => [];
        if (prop === 'holds' || prop === 'awaitsChild') return () => false;
        if (prop === 'onCommitted') return () => () => {};
        return () => {};
      },
    });
    member = new ClusterMember(engine, new MemoryStore(), coordination, {
      leaseMs: 300,
      heartbeatMs: 10,
      pollMs: 60_000,
      shutdownGraceMs: 10,
      log: () => {},
    });
    await member.start();
    const granted = member.gates.acquire('gpu', 'run-1/train', 1, 0);
    await waitFor(() => asked.length === 1);
    expect(asked).toEqual(['worker-old']);

    // The reaper took the lease; the worker hears it at its next heartbeat and registers again.
    leaseAlive = false;
    await waitFor(() => member?.id === 'worker-new');
    leaseAlive = true;
    // A unit is freed: the wait of the old lease must not ask again under the new id.
    handlers?.slots(['gpu']);
    const outcome = await Promise.race([granted, sleep(500).then(() => 'still waiting')]);
    expect(asked).toEqual(['worker-old']);
    expect(outcome).toBe(false);
  });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not met within ${timeoutMs} ms`);
    await sleep(5);
  }
}
