import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Coordination } from '../../src/store/coordination.js';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { createTestDatabase } from '../support/embeddedPostgres.js';

/**
 * Found by the PostgreSQL simulation (seed 4, see postgresSimulation.test.ts): a worker whose lease
 * expired while a step of its run was under way lost that run to another worker, which took the
 * step's pool unit under the same holder name (run/step). When the old worker then heard that its
 * lease was gone and dropped the run, its release deleted the new owner's hold, so the pool let a
 * third step in beside two (3 steps held a pool of 2 across the workers).
 */
describe('pool units held in PostgreSQL', () => {
  let db: { url: string; drop(): Promise<void> };
  const stores: PostgresStore[] = [];

  beforeEach(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await db.drop();
  });

  async function coordination(): Promise<Coordination> {
    const store = new PostgresStore({ connectionString: db.url, poolSize: 2 });
    stores.push(store);
    await store.open();
    return store.coordination as Coordination;
  }

  it("a worker that lost its lease cannot release the unit the run's new owner holds", async () => {
    const a = await coordination();
    const b = await coordination();
    const oldOwner = await a.registerWorker([], 50);
    const newOwner = await b.registerWorker([], 60_000);
    expect(await a.acquire('gpu', 'run-1/s1', 1, oldOwner)).toBe(true);
    // The old owner's lease expires; the reaper frees its hold; the new owner takes the unit for the same step.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await b.reapExpiredWorkers()).toEqual([oldOwner]);
    expect(await b.acquire('gpu', 'run-1/s1', 1, newOwner)).toBe(true);
    // The old worker drops the run and gives back what it thinks it holds.
    await a.release('gpu', 'run-1/s1', oldOwner);
    // The unit is still the new owner's: another step gets none.
    const other = await b.registerWorker([], 60_000);
    expect(await b.acquire('gpu', 'run-2/s1', 1, other)).toBe(false);
    // Its owner's own release frees it.
    await b.release('gpu', 'run-1/s1', newOwner);
    expect(await b.acquire('gpu', 'run-2/s1', 1, other)).toBe(true);
  });
});
