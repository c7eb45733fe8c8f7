import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import type { RateLimitGrant, RateLimitRequest } from '../../src/store/types.js';

const T0 = 1_700_000_000_000;
let unique = 0;

/**
 * Rate limits (GCRA) as every store must keep them, run inside describeStoreConformance. Each test
 * uses limit names of its own, so the shared PostgreSQL database needs no truncation for them.
 */
export function describeRateLimitConformance(getStore: () => Store): void {
  describe('rate limits', () => {
    const named = (label: string) => `${label}-${process.pid}-${++unique}-${Date.now()}`;
    const ask = (over: Partial<RateLimitRequest> & Pick<RateLimitRequest, 'name' | 'now'>) =>
      getStore()
        .takeRateLimits([{ key: '', limit: 2, periodMs: 1000, burst: 1, onLimit: 'queue', ...over }])
        .then((grants) => grants[0] as RateLimitGrant);

    it('spaces starts one emission interval (period / limit) apart, reserving later ones under queue', async () => {
      const name = named('queue');
      const starts = [];
      for (let i = 0; i < 5; i++) starts.push((await ask({ name, now: T0 })).startAt);
      expect(starts).toEqual([T0, T0 + 500, T0 + 1000, T0 + 1500, T0 + 2000]);
      // Time moves past the backlog: the next start is at once again.
      const later = await ask({ name, now: T0 + 10_000 });
      expect(later).toEqual({ granted: true, startAt: T0 + 10_000, limit: 2, periodMs: 1000 });
    });

    it("takes a batch in order: one key's waiters in arrival order, a refusal in it moving nothing", async () => {
      const name = named('batch');
      const other = named('batch-other');
      const request = { limit: 2, periodMs: 1000, burst: 1, now: T0 };
      const grants = await getStore().takeRateLimits([
        { ...request, name, key: 'a', onLimit: 'queue' },
        { ...request, name: other, key: '', onLimit: 'queue' },
        { ...request, name, key: 'a', onLimit: 'queue' },
        { ...request, name, key: 'b', onLimit: 'queue' },
        { ...request, name, key: 'a', onLimit: 'drop' },
        { ...request, name, key: 'a', onLimit: 'queue' },
      ]);
      expect(grants.map((g) => [g.granted, g.startAt - T0])).toEqual([
        [true, 0],
        [true, 0],
        [true, 500],
        [true, 0],
        [false, 1000],
        [true, 1000],
      ]);
      expect(await getStore().takeRateLimits([])).toEqual([]);
    });

    it('drops a start that does not conform, and reserves nothing for it', async () => {
      const name = named('drop');
      expect((await ask({ name, now: T0, onLimit: 'drop' })).granted).toBe(true);
      const refused = await ask({ name, now: T0 + 100, onLimit: 'drop' });
      expect(refused).toEqual({ granted: false, startAt: T0 + 500, limit: 2, periodMs: 1000 });
      // The refusal moved nothing: the start is free at T0 + 500 as it was.
      expect((await ask({ name, now: T0 + 500, onLimit: 'drop' })).granted).toBe(true);
      expect((await ask({ name, now: T0 + 999, onLimit: 'drop' })).granted).toBe(false);
    });

    it('lets `burst` starts go back to back after an idle spell', async () => {
      const name = named('burst');
      const grants = [];
      for (let i = 0; i < 4; i++) grants.push(await ask({ name, now: T0, limit: 4, burst: 3, onLimit: 'drop' }));
      expect(grants.map((g) => g.granted)).toEqual([true, true, true, false]);
      expect(grants[3]?.startAt).toBe(T0 + 250);
    });

    it('counts each key on its own', async () => {
      const name = named('keys');
      expect((await ask({ name, key: 'a', now: T0, onLimit: 'drop' })).granted).toBe(true);
      expect((await ask({ name, key: 'b', now: T0, onLimit: 'drop' })).granted).toBe(true);
      expect((await ask({ name, key: 'a', now: T0, onLimit: 'drop' })).granted).toBe(false);
    });

    it('applies a run-time setting over the definition, until it is reset', async () => {
      const store = getStore();
      const name = named('set');
      await store.setRateLimit({ name, limit: 10, periodMs: 1000, updatedAt: T0 });
      expect(await store.listRateLimitSettings()).toContainEqual({ name, limit: 10, periodMs: 1000, updatedAt: T0 });
      const first = await ask({ name, now: T0 });
      const second = await ask({ name, now: T0 });
      expect([first.startAt, second.startAt]).toEqual([T0, T0 + 100]);
      expect(second).toMatchObject({ limit: 10, periodMs: 1000 });
      await store.resetRateLimit(name);
      expect((await store.listRateLimitSettings()).find((s) => s.name === name)).toBeUndefined();
      // Two starts were owed at 10/s (until T0 + 200): at 2/s again, they are owed until T0 + 1000.
      expect(await ask({ name, now: T0 })).toMatchObject({ startAt: T0 + 1000, limit: 2 });
    });

    it('rescales the time still owed when the limit changes, so a raised limit frees starts at once', async () => {
      const store = getStore();
      const name = named('rescale');
      await ask({ name, now: T0, limit: 1, periodMs: 1000 });
      expect((await ask({ name, now: T0, limit: 1, periodMs: 1000 })).startAt).toBe(T0 + 1000);
      // Two starts owed at one per second (2 s) are two starts owed at 100 per second (20 ms).
      await store.setRateLimit({ name, limit: 100, periodMs: 1000, updatedAt: T0 });
      expect((await ask({ name, now: T0, limit: 1, periodMs: 1000 })).startAt).toBe(T0 + 20);
      expect((await ask({ name, now: T0 + 30, limit: 1, periodMs: 1000, onLimit: 'drop' })).granted).toBe(true);
      // And back: three starts owed at 100/s (owed until T0 + 40) are owed at 1/s again.
      await store.resetRateLimit(name);
      const refused = await ask({ name, now: T0 + 30, limit: 1, periodMs: 1000, onLimit: 'drop' });
      expect(refused).toMatchObject({ granted: false, startAt: T0 + 30 + 1000 });
    });

    it('lists the keys busy at a time, by name and key', async () => {
      const store = getStore();
      const name = named('busy');
      await ask({ name, key: 'b', now: T0 });
      await ask({ name, key: 'a', now: T0 });
      await ask({ name, key: 'a', now: T0 });
      const busy = (await store.listBusyRateLimits(T0, 1000)).filter((s) => s.name === name);
      expect(busy).toEqual([
        { name, key: 'a', tat: T0 + 1000 },
        { name, key: 'b', tat: T0 + 500 },
      ]);
      expect((await store.listBusyRateLimits(T0 + 600, 1000)).filter((s) => s.name === name)).toEqual([
        { name, key: 'a', tat: T0 + 1000 },
      ]);
    });

    it('keeps the limit exact under many concurrent takers of one key', async () => {
      const name = named('race');
      const grants = await Promise.all(
        Array.from({ length: 40 }, () => ask({ name, now: T0, limit: 10, periodMs: 1000 })),
      );
      const starts = grants.map((g) => g.startAt).sort((a, b) => a - b);
      expect(starts).toEqual(Array.from({ length: 40 }, (_, i) => T0 + i * 100));
    });

    it('answers concurrent batches over the same new keys, asked in opposite orders, exactly and without deadlock', async () => {
      // On PostgreSQL a batch holds every key's row it visited until it commits: visiting keys in
      // the order asked would deadlock two such batches. Fresh keys also race on their first insert.
      const name = named('orders');
      const keys = Array.from({ length: 20 }, (_, i) => `k${String(i).padStart(2, '0')}`);
      const batch = (reverse: boolean) =>
        getStore().takeRateLimits(
          (reverse ? [...keys].reverse() : keys).map((key) => ({
            name,
            key,
            limit: 10,
            periodMs: 1000,
            burst: 1,
            now: T0,
            onLimit: 'queue' as const,
          })),
        );
      const batches = await Promise.all(Array.from({ length: 8 }, (_, i) => batch(i % 2 === 1)));
      for (const [i, key] of keys.entries()) {
        const starts = batches.map(
          (grants, b) => (grants[b % 2 === 1 ? keys.length - 1 - i : i] as RateLimitGrant).startAt,
        );
        expect({ key, starts: starts.sort((a, b) => a - b) }).toEqual({
          key,
          starts: Array.from({ length: 8 }, (_, n) => T0 + n * 100),
        });
      }
    });
  });
}
