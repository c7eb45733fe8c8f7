import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory/memoryStore.js';
import type { WriteBatch } from '../../src/store/types.js';
import { describeStoreConformance, makeEvent, makeRun, makeStep } from './conformance.js';

describeStoreConformance('MemoryStore', async () => ({ store: new MemoryStore(), cleanup: async () => {} }));

describe('MemoryStore refuses a malformed batch whole', () => {
  const good = () => makeRun({ id: 'good' });
  // One record of each kind missing a required field, as the second of its kind (its index is named).
  const cases: Array<[string, (batch: WriteBatch) => void, RegExp]> = [
    [
      'new run',
      (b) => b.newRuns.push(makeRun({ id: 'x', workflow: undefined as unknown as string })),
      /new run #1 has no workflow/,
    ],
    [
      'run update',
      (b) => b.runUpdates.push({ ...makeRun({ id: 'old' }), status: null as unknown as 'running' }),
      /run update #0 has no status/,
    ],
    [
      'step',
      (b) => b.steps.push(makeStep({ runId: 'good', name: 'b', attempts: undefined as unknown as number })),
      /step #1 has no attempts/,
    ],
    [
      'event',
      (b) => b.events.push(makeEvent({ runId: 'good', type: null as unknown as 'run_started' })),
      /event #1 has no type/,
    ],
    [
      'cache entry',
      (b) => b.cache.push({ key: 'k2', output: null as unknown as string, createdAt: 1, expiresAt: null }),
      /cache entry #1 has no output/,
    ],
    [
      'stream chunk',
      (b) => {
        b.chunks = [{ runId: 'good', step: 'a', stream: 's', attempt: 1, data: undefined as unknown as string, at: 1 }];
      },
      /stream chunk #0 has no data/,
    ],
  ];

  it.each(cases)(
    'a %s without a required field: a TypeError naming it, and nothing of the batch written',
    async (_, spoil, message) => {
      const store = new MemoryStore();
      await store.commit({ newRuns: [makeRun({ id: 'old' })], runUpdates: [], steps: [], events: [], cache: [] });
      const batch: WriteBatch = {
        newRuns: [good()],
        runUpdates: [],
        steps: [makeStep({ runId: 'good', name: 'a' })],
        events: [makeEvent({ runId: 'good' })],
        cache: [{ key: 'k1', output: '1', createdAt: 1, expiresAt: null }],
      };
      spoil(batch);
      await expect(store.commit(batch)).rejects.toThrow(TypeError);
      await expect(store.commit(batch)).rejects.toThrow(message);
      expect(await store.getRun('good')).toBeUndefined();
      expect(await store.getSteps('good')).toEqual([]);
      expect(await store.listEvents({ runId: 'good' })).toEqual([]);
      expect(await store.getCache('k1', 0)).toBeUndefined();
      expect((await store.getRun('old'))?.status).toBe('queued');
      expect(batch.events[0]?.seq).toBeUndefined();
    },
  );
});
