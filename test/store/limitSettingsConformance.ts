import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { emptyBatch } from '../../src/store/types.js';
import { makeRun } from './conformance.js';

let unique = 0;

/**
 * Run-time limit settings (maxRuns, pool sizes) and the usage read beside them, as every store
 * must keep them; run inside describeStoreConformance. Names are unique per test, so the shared
 * PostgreSQL database needs no truncation for them.
 */
export function describeLimitSettingsConformance(getStore: () => Store): void {
  describe('limit settings', () => {
    const named = (label: string) => `${label}-${process.pid}-${++unique}-${Date.now()}`;

    it('stores a setting per kind and name, replaces it, lists it, and drops it on reset', async () => {
      const store = getStore();
      const name = named('limited');
      await store.setLimitSetting({ kind: 'max_runs', name, value: 3, updatedAt: 1000 });
      await store.setLimitSetting({ kind: 'pool', name, value: 7, updatedAt: 1000 });
      await store.setLimitSetting({ kind: 'max_runs', name, value: 5, updatedAt: 2000 });
      const mine = (await store.listLimitSettings()).filter((s) => s.name === name);
      expect(mine).toEqual([
        { kind: 'max_runs', name, value: 5, updatedAt: 2000 },
        { kind: 'pool', name, value: 7, updatedAt: 1000 },
      ]);
      await store.resetLimitSetting('max_runs', name);
      await store.resetLimitSetting('max_runs', name); // resetting what is not set is fine
      expect((await store.listLimitSettings()).filter((s) => s.name === name)).toEqual([
        { kind: 'pool', name, value: 7, updatedAt: 1000 },
      ]);
    });

    it('counts unfinished runs per workflow and concurrency key: started ones active, due queued ones queued', async () => {
      const store = getStore();
      const wf = named('keyed');
      const run = (
        id: string,
        key: string | null,
        status: 'queued' | 'running' | 'waiting' | 'paused' | 'succeeded',
        extra = {},
      ) =>
        makeRun({
          id: `${wf}-${id}`,
          workflow: wf,
          concurrencyKey: key,
          status,
          startedAt: status === 'queued' ? null : 1,
          ...extra,
        });
      await store.commit({
        ...emptyBatch(),
        newRuns: [
          run('a1', 'a', 'running'),
          run('a2', 'a', 'waiting'),
          run('a3', 'a', 'queued'),
          run('a4', 'a', 'paused'),
          // Paused before it ever started: it holds no slot and waits for none.
          run('a5', 'a', 'paused', { startedAt: null }),
          run('a6', 'a', 'succeeded'),
          run('b1', 'b', 'queued'),
          // A debounced run not due yet waits for its time, not for a slot.
          run('b2', 'b', 'queued', { wakeAt: Date.now() + 3_600_000 }),
          run('n1', null, 'running'),
        ],
      });
      expect(await store.countKeyedRuns([wf], Date.now(), 100)).toEqual([
        { workflow: wf, key: 'a', active: 3, queued: 1 },
        { workflow: wf, key: 'b', active: 0, queued: 1 },
      ]);
      expect(await store.countKeyedRuns([wf], Date.now(), 1)).toHaveLength(1);
      expect(await store.countKeyedRuns([named('other')], Date.now(), 100)).toEqual([]);
    });
  });
}
