import { describe, expect, it } from 'vitest';
import type { EngineControl } from '../engine/ports.js';
import type { ClaimedRun, Coordination, NotificationHandlers } from '../store/coordination.js';
import type { Store } from '../store/store.js';
import type { RunRecord } from '../store/types.js';
import { ClusterMember } from './clusterMember.js';

/** Lets the member's coalesced work (setImmediate) run. */
const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

/**
 * A worker whose claim is answered by hand, over an engine that awaits the child `child` once it
 * has adopted the claimed parent: what the member does between the claim and the adoption.
 */
function workerWithHeldClaim() {
  let handlers: NotificationHandlers | undefined;
  let answerClaim: (runs: ClaimedRun[]) => void = () => {};
  let claimAsked: () => void = () => {};
  const claimAskedOnce = new Promise<void>((resolve) => {
    claimAsked = resolve;
  });
  const reread: string[][] = [];
  let adopted = false;
  const coordination: Partial<Coordination> = {
    listen: async (h) => {
      handlers = h;
      return async () => {};
    },
    registerWorker: async () => 'worker-1',
    deregisterWorker: async () => {},
    claimRuns: () => {
      claimAsked();
      return new Promise((resolve) => {
        answerClaim = resolve;
      });
    },
    nextWakeIn: async () => null,
    getRuns: async (ids) => {
      reread.push([...ids]);
      return [];
    },
  };
  const engine: Partial<EngineControl> = {
    claimableWorkflows: () => [{ name: 'parent', version: '1' }],
    adopt: () => {
      adopted = true;
    },
    // The adopted parent's step joins `child`, which its claim read unfinished.
    awaitsChild: (id) => adopted && id === 'child',
    awaitedChildren: () => (adopted ? ['child'] : []),
    holds: (id) => adopted && id === 'parent',
    heldRunIds: () => (adopted ? ['parent'] : []),
    childrenSettled: () => {},
    waitsSettledElsewhere: () => {},
    spareCapacity: 10,
    runningSteps: 0,
    isClosed: false,
    stopDispatching: () => {},
    close: async () => {},
  };
  const store: Partial<Store> = { setWorker: () => {} };
  const member = new ClusterMember(engine as EngineControl, store as Store, coordination as Coordination, {
    pollMs: 3_600_000,
    heartbeatMs: 3_600_000,
    leaseMs: 3_600_000,
  });
  return {
    member,
    claimAskedOnce,
    reread,
    notices: () => handlers as NotificationHandlers,
    answerClaim: (runs: ClaimedRun[]) => answerClaim(runs),
  };
}

const parent: ClaimedRun = {
  run: { id: 'parent', workflow: 'parent', version: '1', status: 'running' } as RunRecord,
  steps: [],
  waits: [],
  childLinks: [{ step: 's', links: [] }],
  control: null,
  denied: false,
};

describe('ClusterMember: a claim and the notices heard meanwhile', () => {
  it('a child that settles while its parent is being claimed is re-read once the parent is adopted', async () => {
    const w = workerWithHeldClaim();
    await w.member.start();
    await w.claimAskedOnce;
    // The claim read the parent's child links before the child settled; the child's notice comes
    // while the claim is under way, before anything here awaits it.
    w.notices().settled(['child', 'someone-else']);
    await turns(2);
    expect(w.reread).toEqual([]);
    w.answerClaim([parent]);
    await turns(3);
    // Once the parent is held, the child's end is read (and reaches the parent's join).
    expect(w.reread).toEqual([['child']]);
    await w.member.stop();
  });
});
