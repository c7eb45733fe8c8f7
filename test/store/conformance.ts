import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store, WakeCursor } from '../../src/store/store.js';
import {
  type CacheEntry,
  type EventRecord,
  emptyBatch,
  type ForkRecord,
  type InboxEvent,
  type RunRecord,
  type RunStatus,
  type RunUpdate,
  type StepRecord,
  type StreamChunk,
  type WaitRecord,
  type WriteBatch,
} from '../../src/store/types.js';
import { eventValue } from '../../src/store/waitMatching.js';
import { describeLimitSettingsConformance } from './limitSettingsConformance.js';
import { describePruneConformance } from './pruneConformance.js';
import { describeRateLimitConformance } from './rateLimitConformance.js';
import { describeScheduleConformance } from './scheduleConformance.js';

/**
 * The contract every Store must meet, run against each implementation (memoryStore.test.ts,
 * sqliteStore.test.ts, postgresStore.test.ts). A store that passes can back the engine.
 */
export function describeStoreConformance(
  name: string,
  makeStore: () => Promise<{ store: Store; cleanup: () => Promise<void> }>,
): void {
  describe(`Store conformance: ${name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
      await store.open();
    });

    afterEach(async () => {
      await store.close();
      await cleanup();
    });

    const commit = (parts: Partial<WriteBatch>) => store.commit({ ...emptyBatch(), ...parts });

    describe('commit and read back', () => {
      it('round-trips a run with every field set', async () => {
        const run = makeRun({
          id: 'full',
          output: '{"ok":true}',
          error: '{"name":"Error","message":"x"}',
          idempotencyKey: 'idem-full',
          parentRunId: 'parent',
          parentStep: 'fan',
          spawnKey: 'k1',
          rootRunId: 'root',
          concurrencyKey: 'tenant-1',
          replayOf: 'older',
          startedAt: 1_700_000_000_123,
          finishedAt: 1_700_000_000_456,
          deadlineAt: 1_700_000_999_999,
          checkpointSeq: 7,
        });
        await commit({ newRuns: [run] });
        expect(await store.getRun('full')).toEqual(run);
      });

      it('round-trips a run with every nullable field null', async () => {
        const run = makeRun({ id: 'bare' });
        await commit({ newRuns: [run] });
        const read = await store.getRun('bare');
        expect(read).toEqual(run);
        expect(read?.output).toBeNull();
        expect(read?.idempotencyKey).toBeNull();
        expect(read?.deadlineAt).toBeNull();
      });

      it('returns undefined for an unknown run, and empty lists for unknown ids', async () => {
        expect(await store.getRun('nope')).toBeUndefined();
        expect(await store.findRunByIdempotencyKey('nope')).toBeUndefined();
        expect(await store.getSteps('nope')).toEqual([]);
        expect(await store.getChildLinks('nope', 'step')).toEqual([]);
        expect(await store.listEvents({ runId: 'nope' })).toEqual([]);
        expect(await store.getCache('nope', Date.now())).toBeUndefined();
      });

      it('round-trips steps, including nulls and both booleans', async () => {
        const done = makeStep({
          runId: 'r',
          name: 'a',
          status: 'succeeded',
          attempts: 2,
          output: '[1,2]',
          error: null,
          startedAt: 10,
          finishedAt: 20,
          nextAttemptAt: 15,
          route: '["b"]',
          cacheHit: true,
          fallbackUsed: false,
        });
        const failed = makeStep({
          runId: 'r',
          name: 'b',
          status: 'failed',
          attempts: 1,
          error: '{"message":"boom"}',
          cacheHit: false,
          fallbackUsed: true,
        });
        const pending = makeStep({ runId: 'r', name: 'c' });
        await commit({ newRuns: [makeRun({ id: 'r' })], steps: [failed, pending, done] });
        expect(byName(await store.getSteps('r'))).toEqual([done, failed, pending]);
      });

      it('round-trips events and assigns each a seq, also on the committed objects', async () => {
        const events: EventRecord[] = [
          makeEvent({ runId: 'r', type: 'run_started', at: 5 }),
          makeEvent({ runId: 'r', step: 'a', type: 'step_failed', at: 6, attempt: 1, data: '{"message":"x"}' }),
        ];
        await commit({ events });
        expect(typeof events[0]!.seq).toBe('number');
        expect(events[1]!.seq).toBeGreaterThan(events[0]!.seq!);
        const read = await store.listEvents({ runId: 'r' });
        expect(read).toEqual(events);
      });

      it('round-trips cache entries and replaces one with the same key', async () => {
        const entry: CacheEntry = { key: 'k', output: '"v1"', createdAt: 100, expiresAt: null };
        await commit({ cache: [entry] });
        expect(await store.getCache('k', 1_000_000)).toEqual(entry);
        const replaced: CacheEntry = { key: 'k', output: '"v2"', createdAt: 200, expiresAt: 5000 };
        await commit({ cache: [replaced] });
        expect(await store.getCache('k', 300)).toEqual(replaced);
      });

      it('accepts an empty batch', async () => {
        expect(await store.commit(emptyBatch())).toEqual({ duplicateRunIds: [] });
      });

      it('is not affected by callers mutating records they passed or received', async () => {
        const run = makeRun({ id: 'm' });
        const step = makeStep({ runId: 'm', name: 'a' });
        await commit({ newRuns: [run], steps: [step] });
        run.status = 'failed';
        step.attempts = 99;
        const read = (await store.getRun('m'))!;
        read.status = 'cancelled';
        (await store.getSteps('m'))[0]!.status = 'failed';
        expect((await store.getRun('m'))?.status).toBe('queued');
        expect((await store.getSteps('m'))[0]).toEqual(makeStep({ runId: 'm', name: 'a' }));
      });

      it('open() is idempotent', async () => {
        await store.open();
        await commit({ newRuns: [makeRun({ id: 'after-reopen' })] });
        expect(await store.getRun('after-reopen')).toBeDefined();
      });
    });

    describe('updates', () => {
      it('a RunUpdate changes only the fields it lists', async () => {
        const run = makeRun({ id: 'u', idempotencyKey: 'idem-u', concurrencyKey: 'c', replayOf: 'old' });
        await commit({ newRuns: [run] });
        const update: RunUpdate = {
          id: 'u',
          status: 'succeeded',
          output: '{"done":1}',
          error: null,
          startedAt: 2000,
          finishedAt: 3000,
          deadlineAt: 9000,
          wakeAt: null,
          pausedAt: null,
          globals: '{"n":2}',
          checkpointSeq: 4,
        };
        await commit({ runUpdates: [update] });
        expect(await store.getRun('u')).toEqual({ ...run, ...update });
      });

      it('a RunUpdate can set fields back to null', async () => {
        await commit({ newRuns: [makeRun({ id: 'n', output: '1', startedAt: 1, deadlineAt: 2 })] });
        await commit({ runUpdates: [{ ...updateOf(makeRun({ id: 'n' })), status: 'running' }] });
        const read = await store.getRun('n');
        expect(read?.output).toBeNull();
        expect(read?.startedAt).toBeNull();
        expect(read?.deadlineAt).toBeNull();
        expect(read?.status).toBe('running');
      });

      it('applies updates to runs created earlier in the same batch', async () => {
        const run = makeRun({ id: 'same-tick' });
        await commit({ newRuns: [run], runUpdates: [{ ...updateOf(run), status: 'running', startedAt: 5 }] });
        expect(await store.getRun('same-tick')).toMatchObject({ status: 'running', startedAt: 5 });
      });

      it('ignores an update for a run that does not exist', async () => {
        await commit({ runUpdates: [updateOf(makeRun({ id: 'ghost' }))] });
        expect(await store.getRun('ghost')).toBeUndefined();
      });

      it('a step upsert replaces the whole step', async () => {
        await commit({ steps: [makeStep({ runId: 'r', name: 'a', status: 'running', attempts: 1, startedAt: 1 })] });
        const retried = makeStep({
          runId: 'r',
          name: 'a',
          status: 'succeeded',
          attempts: 2,
          output: '"x"',
          startedAt: 5,
          finishedAt: 6,
          cacheHit: true,
          fallbackUsed: true,
        });
        await commit({ steps: [retried] });
        expect(await store.getSteps('r')).toEqual([retried]);
      });

      it('the later of two records for one step in a batch wins', async () => {
        const first = makeStep({ runId: 'r', name: 'a', status: 'running' });
        const second = makeStep({ runId: 'r', name: 'a', status: 'succeeded', output: '1' });
        await commit({ steps: [first, second] });
        expect(await store.getSteps('r')).toEqual([second]);
      });
    });

    describe('atomicity', () => {
      it('a batch that fails part way writes nothing', async () => {
        await commit({ events: [makeEvent({ runId: 'before' })] });
        const [before] = await store.listEvents({});
        const bad = makeRun({ id: null as unknown as string });
        const batch: WriteBatch = {
          newRuns: [makeRun({ id: 'good' }), bad],
          runUpdates: [],
          steps: [makeStep({ runId: 'good', name: 'a' })],
          events: [makeEvent({ runId: 'good' })],
          cache: [{ key: 'c', output: '1', createdAt: 1, expiresAt: null }],
        };
        await expect(store.commit(batch)).rejects.toThrow();
        expect(await store.getRun('good')).toBeUndefined();
        expect(await store.getSteps('good')).toEqual([]);
        expect(await store.listEvents({ runId: 'good' })).toEqual([]);
        expect(await store.getCache('c', 0)).toBeUndefined();
        expect(batch.events[0]!.seq).toBeUndefined();

        // The store still works afterwards.
        const after = makeEvent({ runId: 'after' });
        await commit({ events: [after] });
        expect(after.seq).toBeGreaterThan(before!.seq!);
      });
    });

    describe('duplicate runs', () => {
      it('ignores a new run whose idempotency key exists and reports it', async () => {
        const first = makeRun({ id: 'first', idempotencyKey: 'order-42', input: '{"v":1}' });
        expect(await commit({ newRuns: [first] })).toEqual({ duplicateRunIds: [] });
        const second = makeRun({ id: 'second', idempotencyKey: 'order-42', input: '{"v":2}' });
        const other = makeRun({ id: 'other', idempotencyKey: 'order-43' });
        expect(await commit({ newRuns: [second, other] })).toEqual({ duplicateRunIds: ['second'] });
        expect(await store.getRun('second')).toBeUndefined();
        expect(await store.getRun('other')).toBeDefined();
        expect(await store.findRunByIdempotencyKey('order-42')).toEqual(first);
      });

      it('within one batch, the first run with an idempotency key wins', async () => {
        const result = await commit({
          newRuns: [
            makeRun({ id: 'a', idempotencyKey: 'same' }),
            makeRun({ id: 'b', idempotencyKey: 'same' }),
            makeRun({ id: 'c', idempotencyKey: null }),
            makeRun({ id: 'd', idempotencyKey: null }),
          ],
        });
        expect(result.duplicateRunIds).toEqual(['b']);
        expect((await store.findRunByIdempotencyKey('same'))?.id).toBe('a');
        expect(await store.getRun('d')).toBeDefined();
      });

      it('ignores a child with an existing (parent run, parent step, spawn key) and reports it', async () => {
        const child = makeRun({ id: 'c1', parentRunId: 'p', parentStep: 'fan', spawnKey: 'k', rootRunId: 'p' });
        await commit({ newRuns: [child] });
        const again = { ...child, id: 'c1-again' };
        const otherStep = { ...child, id: 'c2', parentStep: 'other' };
        const otherKey = { ...child, id: 'c3', spawnKey: 'k2' };
        const result = await commit({ newRuns: [again, otherStep, otherKey] });
        expect(result.duplicateRunIds).toEqual(['c1-again']);
        expect(await store.getRun('c1-again')).toBeUndefined();
        expect((await store.getChildLinks('p', 'fan')).map((l) => l.runId)).toEqual(['c1', 'c3']);
      });

      it('reports the duplicate children among many in one batch', async () => {
        // 600 rows, so duplicates fall in every statement size a store might batch rows into.
        const children = Array.from({ length: 600 }, (_, i) =>
          makeRun({ id: `c${i}`, parentRunId: 'p', parentStep: 'fan', spawnKey: `k${i % 500}`, rootRunId: 'p' }),
        );
        const result = await commit({ newRuns: children });
        expect(result.duplicateRunIds).toEqual(children.slice(500).map((c) => c.id));
        expect(await store.getChildLinks('p', 'fan')).toHaveLength(500);
        expect((await store.getRun('c499'))?.spawnKey).toBe('k499');
        expect(await store.getRun('c550')).toBeUndefined();
      });

      it('ignores a new run whose id exists and reports it', async () => {
        await commit({ newRuns: [makeRun({ id: 'x', workflow: 'one' })] });
        const result = await commit({ newRuns: [makeRun({ id: 'x', workflow: 'two' })] });
        expect(result.duplicateRunIds).toEqual(['x']);
        expect((await store.getRun('x'))?.workflow).toBe('one');
      });

      it('within one batch, the first run with an id wins', async () => {
        // Each id twice in a row, so both copies land in the same statement of a batching store.
        const runs = Array.from({ length: 40 }, (_, i) => makeRun({ id: `y${Math.floor(i / 2)}`, workflow: `w${i}` }));
        const result = await commit({ newRuns: runs });
        expect(result.duplicateRunIds).toEqual(runs.filter((_, i) => i % 2).map((r) => r.id));
        expect((await store.getRun('y3'))?.workflow).toBe('w6');
      });
    });

    describe('an ended run is final', () => {
      const ended = (id: string, status: RunStatus) =>
        makeRun({ id, status, output: status === 'succeeded' ? '{"done":1}' : null, finishedAt: 1_700_000_001_000 });

      it.each(['succeeded', 'failed', 'cancelled', 'timed_out'] as const)(
        'refuses to rewrite a %s run, reports it in staleRunIds and keeps its steps, events and children out',
        async (status) => {
          const run = ended('over', status);
          await commit({ newRuns: [run, makeRun({ id: 'live', status: 'running' })] });
          const staleEvent = makeEvent({ runId: 'over', type: 'run_timed_out' });
          const liveEvent = makeEvent({ runId: 'live', type: 'run_started' });
          const result = await commit({
            runUpdates: [
              { ...updateOf(run), status: 'timed_out', output: null, error: '{"message":"late"}' },
              { ...updateOf(makeRun({ id: 'live' })), status: 'succeeded', output: '{"n":2}' },
            ],
            steps: [
              makeStep({ runId: 'over', name: 'a', status: 'cancelled' }),
              makeStep({ runId: 'live', name: 'a' }),
            ],
            events: [staleEvent, liveEvent],
            newRuns: [
              makeRun({ id: 'orphan', parentRunId: 'over', parentStep: 'a', spawnKey: 'k', rootRunId: 'over' }),
            ],
          });
          expect(result).toEqual({ duplicateRunIds: [], staleRunIds: ['over'] });
          expect(await store.getRun('over')).toEqual(run);
          expect(await store.getSteps('over')).toEqual([]);
          expect(await store.listEvents({ runId: 'over' })).toEqual([]);
          expect(staleEvent.seq).toBeUndefined();
          expect(await store.getRun('orphan')).toBeUndefined();
          // The rest of the batch landed.
          expect((await store.getRun('live'))?.output).toBe('{"n":2}');
          expect(await store.getSteps('live')).toHaveLength(1);
          expect(await store.listEvents({ runId: 'live' })).toEqual([liveEvent]);
        },
      );

      it('applies every update of a run that ends within the batch itself, the later winning', async () => {
        const run = makeRun({ id: 'r', status: 'running' });
        await commit({ newRuns: [run] });
        const result = await commit({
          runUpdates: [
            { ...updateOf(run), status: 'succeeded', output: '{"first":1}' },
            { ...updateOf(run), status: 'succeeded', output: '{"second":2}', checkpointSeq: 4 },
          ],
        });
        expect(result).toEqual({ duplicateRunIds: [] });
        expect(await store.getRun('r')).toMatchObject({
          status: 'succeeded',
          output: '{"second":2}',
          checkpointSeq: 4,
        });
        // ...and refuses the next batch's.
        expect(await commit({ runUpdates: [{ ...updateOf(run), status: 'failed' }] })).toEqual({
          duplicateRunIds: [],
          staleRunIds: ['r'],
        });
        expect((await store.getRun('r'))?.status).toBe('succeeded');
      });

      it('still lets a paused run be resumed and an update name a run that does not exist', async () => {
        const run = makeRun({ id: 'p', status: 'paused' });
        await commit({ newRuns: [run] });
        const result = await commit({
          runUpdates: [{ ...updateOf(run), status: 'running' }, { ...updateOf(makeRun({ id: 'ghost' })) }],
        });
        expect(result).toEqual({ duplicateRunIds: [] });
        expect((await store.getRun('p'))?.status).toBe('running');
        expect(await store.getRun('ghost')).toBeUndefined();
      });
    });

    describe('getChildLinks', () => {
      it('returns the children of one step in spawn order, with their outcome', async () => {
        const child = (id: string, spawnKey: string, createdAt: number, step = 'fan') =>
          makeRun({ id, workflow: 'child', parentRunId: 'p', parentStep: step, spawnKey, rootRunId: 'p', createdAt });
        await commit({
          newRuns: [
            makeRun({ id: 'p' }),
            child('c-b', 'kb', 200),
            child('c-a', 'ka', 100),
            child('c-c', 'kc', 200),
            child('other', 'ka', 50, 'other-step'),
          ],
        });
        await commit({
          runUpdates: [
            { ...updateOf(child('c-a', 'ka', 100)), status: 'succeeded', output: '{"n":1}' },
            { ...updateOf(child('c-b', 'kb', 200)), status: 'failed', error: '{"message":"no"}' },
          ],
        });
        expect(await store.getChildLinks('p', 'fan')).toEqual([
          { spawnKey: 'ka', runId: 'c-a', workflow: 'child', status: 'succeeded', output: '{"n":1}', error: null },
          {
            spawnKey: 'kb',
            runId: 'c-b',
            workflow: 'child',
            status: 'failed',
            output: null,
            error: '{"message":"no"}',
          },
          { spawnKey: 'kc', runId: 'c-c', workflow: 'child', status: 'queued', output: null, error: null },
        ]);
      });
    });

    describe('reading many runs at once', () => {
      it('getRunStates gives each run its steps (by name) and waits (oldest first), as the one-run reads do', async () => {
        await commit({
          newRuns: [makeRun({ id: 'a' }), makeRun({ id: 'b' }), makeRun({ id: 'c' })],
          steps: [
            makeStep({ runId: 'a', name: 'two' }),
            makeStep({ runId: 'a', name: 'one', attempts: 2 }),
            makeStep({ runId: 'b', name: 'only' }),
            makeStep({ runId: 'c', name: 'not-asked-for' }),
          ],
          waits: [
            makeWait({ runId: 'a', step: 'two', key: 'sleep#1', createdAt: 30 }),
            makeWait({ runId: 'a', step: 'one', key: 'sleep#0', createdAt: 10 }),
            makeWait({ runId: 'c', step: 'x', key: 'sleep#0' }),
          ],
        });
        const states = await store.getRunStates(['a', 'b', 'missing']);
        expect([...states.keys()].sort()).toEqual(['a', 'b']);
        for (const runId of ['a', 'b']) {
          expect(states.get(runId)).toEqual({ steps: await store.getSteps(runId), waits: await store.getWaits(runId) });
        }
        expect(states.get('a')?.steps.map((s) => s.name)).toEqual(['one', 'two']);
        expect(states.get('a')?.waits.map((w) => w.key)).toEqual(['sleep#0', 'sleep#1']);
        expect(states.get('b')?.waits).toEqual([]);
        expect((await store.getRunStates([])).size).toBe(0);
      });

      it('getChildLinksOfSteps gives each step its children in spawn order, in the order asked', async () => {
        const child = (id: string, parent: string, step: string, createdAt: number) =>
          makeRun({
            id,
            workflow: 'child',
            parentRunId: parent,
            parentStep: step,
            spawnKey: id,
            rootRunId: parent,
            createdAt,
          });
        await commit({
          newRuns: [
            makeRun({ id: 'p' }),
            makeRun({ id: 'q' }),
            child('p-fan-2', 'p', 'fan', 200),
            child('p-fan-1', 'p', 'fan', 100),
            child('p-other', 'p', 'other', 100),
            child('q-fan', 'q', 'fan', 100),
          ],
        });
        const links = await store.getChildLinksOfSteps([
          { runId: 'q', step: 'fan' },
          { runId: 'p', step: 'none' },
          { runId: 'p', step: 'fan' },
        ]);
        expect(links.map((list) => list.map((l) => l.runId))).toEqual([['q-fan'], [], ['p-fan-1', 'p-fan-2']]);
        expect(links[2]).toEqual(await store.getChildLinks('p', 'fan'));
        expect(await store.getChildLinksOfSteps([])).toEqual([]);
      });

      it('listRunsToWake reads many runs due at the same time in batches, each run once', async () => {
        const due = Array.from({ length: 25 }, (_, i) =>
          makeRun({ id: `due-${String(i).padStart(2, '0')}`, workflow: 'w', status: 'waiting', wakeAt: 1_000 }),
        );
        await commit({ newRuns: [...due, makeRun({ id: 'later', workflow: 'w', status: 'waiting', wakeAt: 5_000 })] });
        const seen: string[] = [];
        for (;;) {
          const batch = await store.listRunsToWake(2_000, 10, ['w']);
          seen.push(...batch.map((r) => r.id));
          // The engine clears wakeAt as it wakes them: the next batch starts after these.
          await commit({
            runUpdates: batch.map((r) => ({ ...updateOf(r), status: 'running' as const, wakeAt: null })),
          });
          if (batch.length < 10) break;
        }
        expect(seen.sort()).toEqual(due.map((r) => r.id));
        expect(await store.nextWakeAt(['w'])).toBe(5_000);
      });

      it('listRunsToWake goes on past a cursor in (wakeAt, id) order, each due run once, without the woken ones written', async () => {
        const run = (id: string, wakeAt: number) => makeRun({ id, workflow: 'w', status: 'waiting', wakeAt });
        // Ids out of time order, and many runs due at the same millisecond.
        const due = [
          run('k', 1_000),
          run('b', 1_000),
          run('x', 1_000),
          run('a', 1_500),
          run('c', 900),
          run('z', 1_000),
          run('m', 2_000),
        ];
        await commit({
          newRuns: [...due, run('later', 5_000), makeRun({ id: 'other', workflow: 'v', wakeAt: 1_000 })],
        });
        const pages: string[][] = [];
        let after: WakeCursor | undefined;
        for (let read = 0; read < 10; read++) {
          const page = await store.listRunsToWake(2_000, 2, ['w'], after);
          if (!page.length) break;
          pages.push(page.map((r) => r.id));
          const last = page[page.length - 1] as RunRecord;
          after = { wakeAt: last.wakeAt as number, id: last.id };
        }
        expect(pages).toEqual([['c', 'b'], ['k', 'x'], ['z', 'a'], ['m']]);
        expect(await store.listRunsToWake(2_000, 10, ['w'], { wakeAt: 1_000, id: 'k' })).toEqual(
          (await store.listRunsToWake(2_000, 10, ['w'])).slice(3),
        );
        // A run moved behind the cursor is not read past it: a read from the start finds it.
        await commit({ runUpdates: [{ ...updateOf(due[6] as RunRecord), wakeAt: 950 }] });
        expect((await store.listRunsToWake(2_000, 10, ['w'], { wakeAt: 1_000, id: 'k' })).map((r) => r.id)).toEqual([
          'x',
          'z',
          'a',
        ]);
        expect((await store.listRunsToWake(2_000, 2, ['w'])).map((r) => r.id)).toEqual(['c', 'm']);
      });
    });

    describe('listRuns and countRuns', () => {
      // 3 workflows x several statuses; two trees; created_at 1000 + i, with ties every few rows.
      const statuses: RunStatus[] = ['queued', 'running', 'succeeded', 'failed', 'paused'];
      const seedRuns = () =>
        Array.from({ length: 30 }, (_, i) =>
          makeRun({
            id: `run-${String(i).padStart(2, '0')}`,
            workflow: ['alpha', 'beta', 'gamma'][i % 3]!,
            status: statuses[i % 5]!,
            createdAt: 1000 + Math.floor(i / 2) * 10,
            rootRunId: i < 10 ? 'tree-1' : 'tree-2',
            parentRunId: i >= 20 ? 'run-00' : null,
            parentStep: i >= 20 ? (i % 2 ? 'odd' : 'even') : null,
            spawnKey: i >= 20 ? `k${i}` : null,
          }),
        );

      const ids = (runs: RunRecord[]) => runs.map((r) => r.id);
      const expected = (all: RunRecord[], keep: (r: RunRecord) => boolean, order: 'asc' | 'desc' = 'desc') => {
        const sorted = all.filter(keep).sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
        return ids(order === 'desc' ? sorted.reverse() : sorted);
      };

      it('filters by workflow, status (one or a list), parent, root, top level, since and until', async () => {
        const all = seedRuns();
        await commit({ newRuns: all });
        const list = async (filter: Parameters<Store['listRuns']>[0]) => ids((await store.listRuns(filter)).runs);

        expect(await list({})).toEqual(expected(all, () => true));
        expect(await list({ workflow: 'beta' })).toEqual(expected(all, (r) => r.workflow === 'beta'));
        expect(await list({ status: 'failed' })).toEqual(expected(all, (r) => r.status === 'failed'));
        expect(await list({ status: ['queued', 'running'] })).toEqual(
          expected(all, (r) => r.status === 'queued' || r.status === 'running'),
        );
        expect(await list({ status: ['paused'] })).toEqual(expected(all, (r) => r.status === 'paused'));
        expect(await list({ status: [] })).toEqual([]);
        expect(await list({ parentRunId: 'run-00' })).toEqual(expected(all, (r) => r.parentRunId === 'run-00'));
        expect(await list({ parentRunId: 'run-00', parentStep: 'odd', order: 'asc' })).toEqual(
          expected(all, (r) => r.parentStep === 'odd', 'asc'),
        );
        expect(await list({ rootRunId: 'tree-1' })).toEqual(expected(all, (r) => r.rootRunId === 'tree-1'));
        expect(await list({ topLevel: true })).toEqual(expected(all, (r) => r.parentRunId === null));
        expect(await list({ topLevel: true, workflow: 'beta' })).toEqual(
          expected(all, (r) => r.parentRunId === null && r.workflow === 'beta'),
        );
        expect(await list({ since: 1050 })).toEqual(expected(all, (r) => r.createdAt >= 1050));
        expect(await list({ until: 1050 })).toEqual(expected(all, (r) => r.createdAt < 1050));
        expect(await list({ since: 1020, until: 1100, workflow: 'alpha', status: ['queued', 'succeeded'] })).toEqual(
          expected(
            all,
            (r) =>
              r.createdAt >= 1020 &&
              r.createdAt < 1100 &&
              r.workflow === 'alpha' &&
              (r.status === 'queued' || r.status === 'succeeded'),
          ),
        );
        expect(await list({ workflow: 'nope' })).toEqual([]);
      });

      it('returns full records, a default page of 50, and at most 1000', async () => {
        const all = Array.from({ length: 1005 }, (_, i) => makeRun({ id: `r${i}`, createdAt: i }));
        await commit({ newRuns: all });
        const first = await store.listRuns({});
        expect(first.runs).toHaveLength(50);
        expect(first.runs[0]).toEqual(all[1004]);
        expect(first.nextCursor).not.toBeNull();
        expect((await store.listRuns({ limit: 5000 })).runs).toHaveLength(1000);
        expect((await store.listRuns({ limit: 2000, order: 'asc', since: 10 })).nextCursor).toBeNull();
      });

      for (const order of ['asc', 'desc'] as const) {
        it(`pages through 120 runs ${order} with no duplicates or gaps`, async () => {
          // Ties on created_at (4 runs per millisecond) so the id part of the cursor matters.
          const all = Array.from({ length: 120 }, (_, i) =>
            makeRun({
              id: `p-${(i * 37) % 120}`,
              workflow: i % 2 ? 'odd' : 'even',
              createdAt: 5000 + Math.floor(i / 4),
            }),
          );
          await commit({ newRuns: all });
          const seen: string[] = [];
          let cursor: string | undefined;
          let pages = 0;
          do {
            const page = await store.listRuns({ limit: 7, order, ...(cursor ? { cursor } : {}) });
            seen.push(...ids(page.runs));
            cursor = page.nextCursor ?? undefined;
            pages++;
          } while (cursor);
          expect(pages).toBe(Math.ceil(120 / 7));
          expect(seen).toEqual(expected(all, () => true, order));

          const odd: string[] = [];
          cursor = undefined;
          do {
            const page = await store.listRuns({ workflow: 'odd', limit: 10, order, ...(cursor ? { cursor } : {}) });
            odd.push(...ids(page.runs));
            cursor = page.nextCursor ?? undefined;
          } while (cursor);
          expect(odd).toEqual(expected(all, (r) => r.workflow === 'odd', order));
        });
      }

      it('the last full page has no next cursor', async () => {
        await commit({ newRuns: Array.from({ length: 10 }, (_, i) => makeRun({ id: `e${i}`, createdAt: i })) });
        const page = await store.listRuns({ limit: 10 });
        expect(page.runs).toHaveLength(10);
        expect(page.nextCursor).toBeNull();
      });

      it('rejects a cursor it did not make', async () => {
        await expect(store.listRuns({ cursor: 'not-a-cursor' })).rejects.toThrow(/cursor/);
      });

      it('countRuns counts by status for a filter', async () => {
        const all = seedRuns();
        await commit({ newRuns: all });
        const count = (keep: (r: RunRecord) => boolean) => {
          const counts: Partial<Record<RunStatus, number>> = {};
          for (const r of all.filter(keep)) counts[r.status] = (counts[r.status] ?? 0) + 1;
          return counts;
        };
        expect(await store.countRuns({})).toEqual(count(() => true));
        expect(await store.countRuns({ workflow: 'gamma' })).toEqual(count((r) => r.workflow === 'gamma'));
        expect(await store.countRuns({ rootRunId: 'tree-1', since: 1020 })).toEqual(
          count((r) => r.rootRunId === 'tree-1' && r.createdAt >= 1020),
        );
        expect(await store.countRuns({ parentRunId: 'run-00', parentStep: 'even' })).toEqual(
          count((r) => r.parentStep === 'even'),
        );
        expect(await store.countRuns({ workflow: 'nope' })).toEqual({});
      });
    });

    describe('listUnfinishedRuns', () => {
      it('returns queued and running runs, oldest first, optionally of some workflows', async () => {
        const runs = [
          makeRun({ id: 'r-late', workflow: 'a', status: 'running', createdAt: 30 }),
          makeRun({ id: 'q-early', workflow: 'b', status: 'queued', createdAt: 10 }),
          makeRun({ id: 'q-tie-b', workflow: 'a', status: 'queued', createdAt: 20 }),
          makeRun({ id: 'q-tie-a', workflow: 'c', status: 'queued', createdAt: 20 }),
          makeRun({ id: 'paused', workflow: 'a', status: 'paused', createdAt: 1 }),
          makeRun({ id: 'done', workflow: 'a', status: 'succeeded', createdAt: 2 }),
          makeRun({ id: 'failed', workflow: 'b', status: 'failed', createdAt: 3 }),
        ];
        await commit({ newRuns: runs });
        const ids = (list: RunRecord[]) => list.map((r) => r.id);
        expect(ids(await store.listUnfinishedRuns())).toEqual(['q-early', 'q-tie-a', 'q-tie-b', 'r-late']);
        expect(ids(await store.listUnfinishedRuns(['a', 'b']))).toEqual(['q-early', 'q-tie-b', 'r-late']);
        expect(ids(await store.listUnfinishedRuns([]))).toEqual([]);
        expect((await store.listUnfinishedRuns(['b']))[0]).toEqual(runs[1]);
      });
    });

    describe('listEvents', () => {
      it('lists events after a seq, for one run or for all, with a limit', async () => {
        const first = [
          makeEvent({ runId: 'a', at: 1 }),
          makeEvent({ runId: 'b', at: 2 }),
          makeEvent({ runId: 'a', at: 3 }),
        ];
        const second = [makeEvent({ runId: 'b', at: 4 }), makeEvent({ runId: 'a', at: 5 })];
        await commit({ events: first });
        await commit({ events: second });
        const all = [...first, ...second];
        const seqs = all.map((e) => e.seq!);
        for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]!);

        expect(await store.listEvents({})).toEqual(all);
        expect(await store.listEvents({ afterSeq: seqs[1] })).toEqual(all.slice(2));
        expect(await store.listEvents({ afterSeq: seqs[1], limit: 2 })).toEqual(all.slice(2, 4));
        expect(await store.listEvents({ afterSeq: seqs[4] })).toEqual([]);
        const ofA = all.filter((e) => e.runId === 'a');
        expect(await store.listEvents({ runId: 'a' })).toEqual(ofA);
        expect(await store.listEvents({ runId: 'a', afterSeq: ofA[0]!.seq })).toEqual(ofA.slice(1));
        expect(await store.listEvents({ runId: 'a', limit: 1 })).toEqual(ofA.slice(0, 1));
      });

      it('returns at most 1000 events by default', async () => {
        await commit({ events: Array.from({ length: 1010 }, (_, i) => makeEvent({ runId: 'many', at: i })) });
        expect(await store.listEvents({ runId: 'many' })).toHaveLength(1000);
        expect(await store.listEvents({})).toHaveLength(1000);
      });

      it('seq increases strictly across commits', async () => {
        const seen: number[] = [];
        for (let i = 0; i < 5; i++) {
          const events = Array.from({ length: i * 20 + 1 }, () => makeEvent({ runId: `r${i}` }));
          await commit({ events });
          seen.push(...events.map((e) => e.seq!));
        }
        for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1]!);
        expect(new Set(seen).size).toBe(seen.length);
      });
    });

    describe('cache', () => {
      it('returns an entry until it expires, and never one that has', async () => {
        await commit({
          cache: [
            { key: 'short', output: '1', createdAt: 100, expiresAt: 200 },
            { key: 'forever', output: '2', createdAt: 100, expiresAt: null },
          ],
        });
        expect((await store.getCache('short', 199))?.output).toBe('1');
        expect(await store.getCache('short', 200)).toBeUndefined();
        expect(await store.getCache('short', 10_000)).toBeUndefined();
        expect((await store.getCache('forever', Number.MAX_SAFE_INTEGER))?.output).toBe('2');
      });
    });

    describe('waits', () => {
      const paid = (overrides: Partial<InboxEvent> = {}): InboxEvent => ({
        name: 'order.paid',
        key: null,
        payload: '{"order":{"id":7},"amount":10}',
        idempotencyKey: null,
        createdAt: 1_700_000_000_500,
        ...overrides,
      });
      const runIdsOf = (waits: readonly WaitRecord[] | undefined) =>
        (waits ?? []).map((w) => `${w.runId}/${w.step}/${w.key}:${w.status}`).sort();

      it('upserts a wait by (run, step, key) and reads a run’s waits in creation order', async () => {
        const input = makeWait({
          runId: 'r',
          step: 'ask',
          key: 'input:approval#0',
          kind: 'input',
          name: 'approval',
          request: '{"payload":{"amount":10},"schema":{"type":"boolean"}}',
          dueAt: 1_700_000_900_000,
          createdAt: 20,
        });
        const event = makeWait({
          runId: 'r',
          step: 'hear',
          key: 'event:order.paid#0',
          kind: 'event',
          name: 'order.paid',
          eventKey: 'k',
          match: '{"order.id":7}',
          since: 5,
          createdAt: 10,
        });
        const sleep = makeWait({ runId: 'r', step: 'ask', key: 'sleep#0', dueAt: 1_700_000_100_000, createdAt: 20 });
        const other = makeWait({ runId: 'other', step: 'ask', key: 'sleep#0' });
        expect(await commit({ waits: [input, event, sleep, other] })).toEqual({ duplicateRunIds: [] });
        expect(await store.getWaits('r')).toEqual([event, input, sleep]);

        // Written again while pending: the same row, with what changed.
        const later = { ...sleep, dueAt: 1_700_000_200_000 };
        expect(await commit({ waits: [later] })).toEqual({ duplicateRunIds: [] });
        expect(await store.getWaits('r')).toEqual([event, input, later]);
        expect(await store.getWaits('other')).toEqual([other]);
        expect(await store.getWaits('nope')).toEqual([]);
      });

      it('never changes a settled wait again: the commit returns the stored one in settledWaits', async () => {
        const pending = makeWait({
          runId: 'r',
          step: 's',
          key: 'event:order.paid#0',
          kind: 'event',
          name: 'order.paid',
        });
        const resolved = { ...pending, status: 'resolved' as const, value: '{"first":true}', resolvedAt: 50 };
        // The engine settling a pending wait itself lands, and is not reported back.
        await commit({ waits: [pending] });
        expect(await commit({ waits: [resolved] })).toEqual({ duplicateRunIds: [] });
        // A later write of any outcome loses: the first one stands.
        for (const late of [
          { ...pending, status: 'timed_out' as const, resolvedAt: 60 },
          { ...pending, status: 'cancelled' as const, resolvedAt: 60 },
          pending,
        ]) {
          const result = await commit({ waits: [late] });
          expect(result.settledWaits).toEqual([resolved]);
          expect(await store.getWaits('r')).toEqual([resolved]);
        }
      });

      it('an event resolves the pending waits it matches (name, key, fields, since) in the commit that records it, cancels the rest of their group, and wakes a sleeping run', async () => {
        await commit({
          newRuns: [
            makeRun({ id: 'asleep', status: 'waiting', wakeAt: 8_000_000_000_000 }),
            makeRun({ id: 'awake', status: 'waiting' }),
          ],
        });
        const first = makeWait({
          runId: 'asleep',
          step: 's',
          key: 'first#0/paid',
          group: 'first#0',
          kind: 'event',
          name: 'order.paid',
          match: '{"order.id":7}',
        });
        const loser = makeWait({
          runId: 'asleep',
          step: 's',
          key: 'first#0/later',
          group: 'first#0',
          kind: 'sleep',
          dueAt: 8_000_000_000_000,
        });
        const keyed = makeWait({
          runId: 'awake',
          step: 's',
          key: 'event:order.paid#0',
          kind: 'event',
          name: 'order.paid',
          eventKey: 'k1',
        });
        const otherKey = makeWait({
          runId: 'awake',
          step: 't',
          key: 'event:order.paid#0',
          kind: 'event',
          name: 'order.paid',
          eventKey: 'k2',
        });
        const otherField = makeWait({
          runId: 'awake',
          step: 'u',
          key: 'event:order.paid#0',
          kind: 'event',
          name: 'order.paid',
          match: '{"order":{"id":8}}',
        });
        const tooLate = makeWait({
          runId: 'awake',
          step: 'v',
          key: 'event:order.paid#0',
          kind: 'event',
          name: 'order.paid',
          since: 1_700_000_000_501,
        });
        const otherName = makeWait({
          runId: 'awake',
          step: 'w',
          key: 'event:order.shipped#0',
          kind: 'event',
          name: 'order.shipped',
        });
        const waits = [first, loser, keyed, otherKey, otherField, tooLate, otherName];
        expect(await commit({ waits })).toEqual({ duplicateRunIds: [] });

        const before = Date.now();
        const event = paid({ key: 'k1' });
        const result = await commit({ inbox: [event] });
        const after = Date.now();
        expect(typeof event.seq).toBe('number');
        const value = eventValue(event);
        expect(JSON.parse(value)).toMatchObject({
          name: 'order.paid',
          key: 'k1',
          seq: event.seq,
          payload: { amount: 10 },
        });
        expect(runIdsOf(result.settledWaits)).toEqual([
          'asleep/s/first#0/later:cancelled',
          'asleep/s/first#0/paid:resolved',
          'awake/s/event:order.paid#0:resolved',
        ]);
        for (const w of result.settledWaits ?? []) {
          expect(w.resolvedAt).toBeGreaterThanOrEqual(before - 1000);
          expect(w.resolvedAt).toBeLessThanOrEqual(after + 1000);
          expect(w.value).toBe(w.status === 'resolved' ? value : null);
        }
        expect(result.duplicateEvents).toBeUndefined();
        const stored = [...(await store.getWaits('asleep')), ...(await store.getWaits('awake'))];
        expect(runIdsOf(stored.filter((w) => w.status !== 'pending'))).toEqual(runIdsOf(result.settledWaits));
        expect(stored.find((w) => w.key === 'first#0/paid' && w.runId === 'asleep')).toEqual(
          result.settledWaits?.find((w) => w.key === 'first#0/paid'),
        );

        // The run asleep in the store is due now; the one in memory (no wakeAt) is left as it is.
        const woken = (await store.getRun('asleep'))?.wakeAt as number;
        expect(woken).toBeGreaterThanOrEqual(before - 1000);
        expect(woken).toBeLessThanOrEqual(Date.now() + 1000);
        expect((await store.getRun('awake'))?.wakeAt).toBeNull();

        // Each waiter once: the same event again resolves nothing more.
        const again = await commit({ inbox: [paid({ key: 'k1' })] });
        expect(again.settledWaits).toBeUndefined();
        expect(await store.listInbox({})).toHaveLength(2);
      });

      it('one event resolves every waiter it matches, on any run', async () => {
        const waiters = Array.from({ length: 5 }, (_, i) =>
          makeWait({ runId: `r${i}`, step: 's', key: 'event:order.paid#0', kind: 'event', name: 'order.paid' }),
        );
        await commit({ waits: waiters });
        const result = await commit({ inbox: [paid()] });
        expect(runIdsOf(result.settledWaits)).toEqual(waiters.map((w) => `${w.runId}/s/event:order.paid#0:resolved`));
      });

      it('a new pending event wait finds an event already in the inbox (lookback) in its own commit', async () => {
        const early = paid({ key: 'k', createdAt: 100 });
        const late = paid({ key: 'k', createdAt: 200, payload: '{"n":2}' });
        await commit({ inbox: [early] });
        await commit({ inbox: [late, paid({ key: 'other', createdAt: 300 })] });
        const wait = (step: string, since: number) =>
          makeWait({
            runId: 'r',
            step,
            key: 'event:order.paid#0',
            kind: 'event',
            name: 'order.paid',
            eventKey: 'k',
            since,
          });
        const result = await commit({ waits: [wait('all', 50), wait('recent', 150), wait('future', 250)] });
        const byStep = new Map((result.settledWaits ?? []).map((w) => [w.step, w]));
        expect([...byStep.keys()].sort()).toEqual(['all', 'recent']);
        // The oldest event the look-back allows.
        expect(byStep.get('all')).toMatchObject({ status: 'resolved', value: eventValue(early) });
        expect(byStep.get('recent')).toMatchObject({ status: 'resolved', value: eventValue(late) });
        expect((await store.getWaits('r')).map((w) => `${w.step}:${w.status}`)).toEqual([
          'all:resolved',
          'future:pending',
          'recent:resolved',
        ]);

        // Behind many events of its name that do not match (more than a store may read at once).
        await commit({
          inbox: Array.from({ length: 130 }, (_, i) =>
            paid({ name: 'busy', createdAt: 1000 + i, payload: `{"n":${i}}` }),
          ),
        });
        const deep = await commit({
          waits: [
            makeWait({
              runId: 'r',
              step: 'deep',
              key: 'event:busy#0',
              kind: 'event',
              name: 'busy',
              match: '{"n":117}',
            }),
          ],
        });
        expect(deep.settledWaits?.map((w) => JSON.parse(w.value as string).payload)).toEqual([{ n: 117 }]);

        // A wait and its event in one batch find each other too.
        const both = await commit({
          waits: [makeWait({ runId: 'r2', step: 's', key: 'event:x#0', kind: 'event', name: 'x' })],
          inbox: [paid({ name: 'x' })],
        });
        expect(runIdsOf(both.settledWaits)).toEqual(['r2/s/event:x#0:resolved']);
      });

      it('an event whose idempotency key is already recorded delivers nothing: duplicateEvents, with its seq', async () => {
        const first = paid({ idempotencyKey: 'once' });
        await commit({ inbox: [first] });
        await commit({
          waits: [
            makeWait({
              runId: 'r',
              step: 's',
              key: 'event:order.paid#0',
              kind: 'event',
              name: 'order.paid',
              since: 1_700_000_000_501,
            }),
          ],
        });
        const again = paid({ idempotencyKey: 'once', createdAt: 1_700_000_000_900 });
        const twiceInOne = paid({ idempotencyKey: 'twice', createdAt: 1_700_000_000_900 });
        const twiceAgain = paid({ idempotencyKey: 'twice', createdAt: 1_700_000_000_900 });
        const result = await commit({ inbox: [again, twiceInOne, twiceAgain] });
        expect(result.duplicateEvents).toHaveLength(2);
        expect(result.duplicateEvents?.[0]).toBe(again);
        expect(result.duplicateEvents?.[1]).toBe(twiceAgain);
        expect(again.seq).toBe(first.seq);
        expect(twiceAgain.seq).toBe(twiceInOne.seq);
        // Only the new event was delivered, once.
        expect(result.settledWaits?.map((w) => JSON.parse(w.value as string).seq)).toEqual([twiceInOne.seq]);
        expect((await store.listInbox({})).map((e) => e.idempotencyKey)).toEqual(['twice', 'once']);
      });

      it('an input resolves the oldest pending input of that name on its run, or comes back in unmatchedInputs', async () => {
        const ask = (step: string, createdAt: number, name = 'approval') =>
          makeWait({
            runId: 'r',
            step,
            key: `input:${name}#0`,
            kind: 'input',
            name,
            createdAt,
            request: '{"payload":null}',
          });
        const older = ask('b', 10);
        const newer = ask('a', 20);
        await commit({ waits: [newer, older, ask('c', 5, 'other')] });
        const first = { runId: 'r', name: 'approval', value: '{"ok":true}', at: 1_700_000_000_700 };
        const second = { runId: 'r', name: 'approval', value: '{"ok":false}', at: 1_700_000_000_800 };
        const third = { runId: 'r', name: 'approval', value: '1', at: 1_700_000_000_900 };
        const unknown = { runId: 'ghost', name: 'approval', value: '1', at: 1_700_000_000_900 };
        const result = await commit({ inputs: [first, second, third, unknown] });
        expect(result.settledWaits).toEqual([
          { ...older, status: 'resolved', value: '{"ok":true}', resolvedAt: first.at },
          { ...newer, status: 'resolved', value: '{"ok":false}', resolvedAt: second.at },
        ]);
        expect(result.unmatchedInputs).toHaveLength(2);
        expect(result.unmatchedInputs?.[0]).toBe(third);
        expect(result.unmatchedInputs?.[1]).toBe(unknown);
        expect((await store.getWaits('r')).map((w) => `${w.step}:${w.status}`)).toEqual([
          'c:pending',
          'b:resolved',
          'a:resolved',
        ]);
      });

      it('lists the inbox newest first, optionally of one name, with a limit', async () => {
        const events = [
          paid({ createdAt: 1 }),
          paid({ name: 'other', createdAt: 2 }),
          paid({ key: 'k', createdAt: 3 }),
        ];
        await commit({ inbox: events });
        const all = await store.listInbox({});
        expect(all).toEqual([...events].reverse());
        expect(all.map((e) => e.seq)).toEqual([events[2]!.seq, events[1]!.seq, events[0]!.seq]);
        expect(await store.listInbox({ name: 'order.paid' })).toEqual([events[2], events[0]]);
        expect(await store.listInbox({ limit: 1 })).toEqual([events[2]]);
        expect(await store.listInbox({ name: 'nothing' })).toEqual([]);
      });

      it('the waits of a run that had ended do not land', async () => {
        const over = makeRun({ id: 'over', status: 'cancelled', finishedAt: 5 });
        await commit({ newRuns: [over, makeRun({ id: 'live', status: 'running' })] });
        const late = makeWait({ runId: 'over', step: 's', key: 'sleep#0', dueAt: 100 });
        const fine = makeWait({ runId: 'live', step: 's', key: 'sleep#0', dueAt: 100 });
        const result = await commit({
          runUpdates: [{ ...updateOf(over), status: 'running' }],
          waits: [late, fine],
        });
        expect(result).toEqual({ duplicateRunIds: [], staleRunIds: ['over'] });
        expect(await store.getWaits('over')).toEqual([]);
        expect(await store.getWaits('live')).toEqual([fine]);
      });

      it('stamps the waits a batch settles, and wakes their run, at the batch’s time (the engine’s clock); a store on the database’s clock uses its own', async () => {
        // Years from the real time either way, so the store's own clock would show.
        const at = 1_000_000;
        await commit({ newRuns: [makeRun({ id: 'asleep', status: 'waiting', wakeAt: 8_000_000_000_000 })] });
        const wait = makeWait({
          runId: 'asleep',
          step: 's',
          key: 'event:order.paid#0',
          kind: 'event',
          name: 'order.paid',
        });
        await commit({ waits: [wait] });
        const before = Date.now();
        const result = await commit({ inbox: [paid({ createdAt: at })], at });
        const after = Date.now();
        const [settled] = result.settledWaits ?? [];
        const stored = (await store.getWaits('asleep'))[0];
        const wakeAt = (await store.getRun('asleep'))?.wakeAt;
        expect(settled?.status).toBe('resolved');
        if (store.usesDatabaseClock) {
          expect(stored?.resolvedAt).toBeGreaterThanOrEqual(before - 1000); // the database's clock, near the real time
          expect(stored?.resolvedAt).toBeLessThanOrEqual(after + 1000);
        } else {
          expect([settled?.resolvedAt, stored?.resolvedAt, wakeAt]).toEqual([at, at, at]);
        }
      });
    });

    describe('forks', () => {
      const forkOf = (overrides: Partial<ForkRecord> & Pick<ForkRecord, 'runId'>): ForkRecord => ({
        forkedFrom: 'original',
        fromStep: 'b',
        reusedSteps: ['a', 'd'],
        overriddenSteps: ['a'],
        createdAt: 1_700_000_000_000,
        ...overrides,
      });

      it('writes a fork link with its run and reused steps, and reads it both ways', async () => {
        await commit({ newRuns: [makeRun({ id: 'original', status: 'succeeded' })] });
        const link = forkOf({ runId: 'fork-1' });
        const reused = makeStep({ runId: 'fork-1', name: 'a', status: 'succeeded', output: '100' });
        await commit({ newRuns: [makeRun({ id: 'fork-1' })], steps: [reused], forks: [link] });
        expect(await store.getFork('fork-1')).toEqual(link);
        expect(await store.getSteps('fork-1')).toEqual([reused]);
        expect(await store.listForks('original')).toEqual([link]);
        expect(await store.getFork('original')).toBeUndefined();
        expect(await store.listForks('fork-1')).toEqual([]);
        expect(await store.getFork('nope')).toBeUndefined();
        expect(await store.listForks('nope')).toEqual([]);
      });

      it('lists a run’s forks oldest first, up to the limit, and keeps empty step lists', async () => {
        const links = [3, 1, 2].map((i) =>
          forkOf({ runId: `f${i}`, createdAt: 1_000 + i, reusedSteps: [], overriddenSteps: [] }),
        );
        await commit({ newRuns: links.map((l) => makeRun({ id: l.runId })), forks: links });
        expect((await store.listForks('original')).map((f) => f.runId)).toEqual(['f1', 'f2', 'f3']);
        expect((await store.listForks('original', 2)).map((f) => f.runId)).toEqual(['f1', 'f2']);
        expect(await store.getFork('f1')).toEqual(links[1]);
      });

      it('a batch that fails writes no fork link, and a link whose run was not inserted is not written', async () => {
        const bad = makeRun({ id: null as unknown as string });
        await expect(
          store.commit({
            ...emptyBatch(),
            newRuns: [makeRun({ id: 'fork-bad' }), bad],
            steps: [makeStep({ runId: 'fork-bad', name: 'a', status: 'succeeded' })],
            forks: [forkOf({ runId: 'fork-bad' })],
          }),
        ).rejects.toThrow();
        expect(await store.getRun('fork-bad')).toBeUndefined();
        expect(await store.getSteps('fork-bad')).toEqual([]);
        expect(await store.getFork('fork-bad')).toBeUndefined();
        expect(await store.listForks('original')).toEqual([]);

        // A duplicate run (its idempotency key is taken): neither it nor its link lands.
        await commit({ newRuns: [makeRun({ id: 'first', idempotencyKey: 'same' })] });
        const result = await commit({
          newRuns: [makeRun({ id: 'second', idempotencyKey: 'same' })],
          forks: [forkOf({ runId: 'second' })],
        });
        expect(result.duplicateRunIds).toEqual(['second']);
        expect(await store.getFork('second')).toBeUndefined();
      });
    });

    describe('stream chunks', () => {
      const chunk = (overrides: Partial<StreamChunk> = {}): StreamChunk => ({
        runId: 'r',
        step: 's',
        stream: 'default',
        attempt: 1,
        data: '"text"',
        at: 1_700_000_000_000,
        ...overrides,
      });
      const withoutSeq = ({ seq: _seq, ...rest }: StreamChunk) => rest;

      it('appends chunks in batch order, gives each an increasing seq, and reads them back', async () => {
        const written = [chunk({ data: '"a"' }), chunk({ data: '{"n":1}' }), chunk({ data: '"b"', stream: 'log' })];
        await commit({ newRuns: [makeRun({ id: 'r', status: 'running' })], chunks: written });
        const seqs = written.map((c) => c.seq as number);
        expect(seqs.every((seq) => Number.isInteger(seq) && seq > 0)).toBe(true);
        expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
        expect(new Set(seqs).size).toBe(3);
        const later = [chunk({ data: '"c"', attempt: 2 })];
        await commit({ chunks: later });
        expect(later[0]!.seq).toBeGreaterThan(seqs[2]!);

        const all = await store.listChunks({ runId: 'r', step: 's' });
        expect(all).toEqual([...written, ...later]);
        expect(await store.listChunks({ runId: 'r', step: 's', stream: 'default' })).toEqual([
          written[0],
          written[1],
          later[0],
        ]);
        expect(await store.listChunks({ runId: 'r', step: 's', stream: 'log' })).toEqual([written[2]]);
      });

      it('reads after a seq, by attempt, a page at a time, and nothing of other steps or runs', async () => {
        const written = Array.from({ length: 10 }, (_, i) => chunk({ data: String(i), attempt: i < 4 ? 1 : 2 }));
        const others = [chunk({ step: 't', data: '"other step"' }), chunk({ runId: 'q', data: '"other run"' })];
        await commit({ chunks: [...written.slice(0, 5), ...others, ...written.slice(5)] });
        const read = (q: Partial<Parameters<Store['listChunks']>[0]> = {}) =>
          store.listChunks({ runId: 'r', step: 's', stream: 'default', ...q });
        expect((await read()).map((c) => c.data)).toEqual(written.map((c) => c.data));
        expect((await read({ afterSeq: written[6]!.seq })).map((c) => c.data)).toEqual(['7', '8', '9']);
        expect((await read({ attempt: 1 })).map((c) => c.data)).toEqual(['0', '1', '2', '3']);
        expect((await read({ attempt: 2, afterSeq: written[7]!.seq })).map((c) => c.data)).toEqual(['8', '9']);
        expect((await read({ limit: 3 })).map((c) => c.data)).toEqual(['0', '1', '2']);
        expect(await read({ stream: 'none' })).toEqual([]);
        expect(await store.listChunks({ runId: 'nope', step: 's' })).toEqual([]);
        expect((await store.listChunks({ runId: 'r', step: 't' })).map(withoutSeq)).toEqual([withoutSeq(others[0]!)]);
        // Every step of the run, in seq order (what a run handle's stream reads).
        expect((await store.listChunks({ runId: 'r' })).map((c) => c.data)).toEqual([
          ...written.slice(0, 5).map((c) => c.data),
          '"other step"',
          ...written.slice(5).map((c) => c.data),
        ]);
        expect((await store.listChunks({ runId: 'r', stream: 'default', attempt: 1, limit: 2 })).length).toBe(2);
      });

      it('keeps the chunks of an ended run out, with the rest of its writes', async () => {
        const over = makeRun({ id: 'over', status: 'succeeded', finishedAt: 1_700_000_001_000 });
        await commit({ newRuns: [over, makeRun({ id: 'live', status: 'running' })] });
        const late = chunk({ runId: 'over' });
        const fine = chunk({ runId: 'live' });
        const result = await commit({ runUpdates: [{ ...updateOf(over), status: 'running' }], chunks: [late, fine] });
        expect(result).toEqual({ duplicateRunIds: [], staleRunIds: ['over'] });
        expect(late.seq).toBeUndefined();
        expect(await store.listChunks({ runId: 'over', step: 's' })).toEqual([]);
        expect(await store.listChunks({ runId: 'live', step: 's' })).toEqual([fine]);
      });

      it('writes no chunk of a batch that fails', async () => {
        const bad = { ...chunk(), data: null } as unknown as StreamChunk;
        await expect(commit({ chunks: [chunk({ data: '"ok"' }), bad] })).rejects.toThrow();
        expect(await store.listChunks({ runId: 'r', step: 's' })).toEqual([]);
      });

      it('reads 20,000 chunks of one stream back in order, a page at a time', async () => {
        const written = Array.from({ length: 20_000 }, (_, i) => chunk({ data: JSON.stringify(`token ${i} `) }));
        await commit({ chunks: written });
        const read: StreamChunk[] = [];
        for (let after = 0; ; ) {
          const page = await store.listChunks({
            runId: 'r',
            step: 's',
            stream: 'default',
            afterSeq: after,
            limit: 10_000,
          });
          read.push(...page);
          if (page.length < 10_000) break;
          after = page.at(-1)!.seq!;
        }
        expect(read.map((c) => c.data)).toEqual(written.map((c) => c.data));
      });
    });

    describe('scale', () => {
      it('commits 10,000 child runs in one batch and reads them back in spawn order', async () => {
        const parent = makeRun({ id: 'big-parent', status: 'running' });
        const children = Array.from({ length: 10_000 }, (_, i) =>
          makeRun({
            id: `big-${i}`,
            workflow: 'child',
            parentRunId: 'big-parent',
            parentStep: 'fan',
            spawnKey: String(i),
            rootRunId: 'big-parent',
            createdAt: 1_000_000 + i,
          }),
        );
        const steps = children.map((c) => makeStep({ runId: c.id, name: 'only' }));
        const events = children.map((c) => makeEvent({ runId: c.id, type: 'run_created' }));
        const result = await commit({ newRuns: [parent, ...children], steps, events });
        expect(result.duplicateRunIds).toEqual([]);
        expect(new Set(events.map((e) => e.seq)).size).toBe(10_000);

        const links = await store.getChildLinks('big-parent', 'fan');
        expect(links).toHaveLength(10_000);
        expect(links[0]!.runId).toBe('big-0');
        expect(links[9_999]!.runId).toBe('big-9999');
        expect(await store.getRun('big-5000')).toEqual(children[5000]);
        expect(await store.countRuns({ parentRunId: 'big-parent' })).toEqual({ queued: 10_000 });

        const again = await commit({ newRuns: children.slice(0, 50).map((c) => ({ ...c, id: `${c.id}-retry` })) });
        expect(again.duplicateRunIds).toHaveLength(50);
      });
    });

    describe('priority', () => {
      it("keeps each run's priority through every read, and through updates that do not name it", async () => {
        const runs = [-100, 0, 55, 100].map((priority, i) =>
          makeRun({ id: `prio-${i}`, priority, idempotencyKey: `prio-key-${i}`, wakeAt: i === 3 ? 5 : null }),
        );
        await commit({ newRuns: runs });
        await commit({ runUpdates: [updateOf({ ...(runs[1] as RunRecord), status: 'running', startedAt: 1 })] });
        const expected = new Map(runs.map((r) => [r.id, r.priority]));
        for (const run of runs) {
          expect((await store.getRun(run.id))?.priority).toBe(run.priority);
          expect((await store.findRunByIdempotencyKey(run.idempotencyKey as string))?.priority).toBe(run.priority);
        }
        const listed = (await store.listRuns({ workflow: 'wf' })).runs;
        expect(new Map(listed.map((r) => [r.id, r.priority]))).toEqual(expected);
        const unfinished = await store.listUnfinishedRuns(['wf']);
        expect(new Map(unfinished.map((r) => [r.id, r.priority]))).toEqual(expected);
        expect((await store.listRunsToWake(10, 10, ['wf'])).map((r) => r.priority)).toEqual([100]);
      });
    });

    describe('debounce', () => {
      const trigger = (id: string, input: string, windowMs: number, maxWaitMs: number | null = null) =>
        store.debounce({
          run: makeRun({ id, workflow: 'deb', input, rootRunId: id }),
          key: 'k',
          windowMs,
          maxWaitMs,
          now: Date.now(),
        });

      it('inserts a pending run for a new key, due a window later, and joins later triggers to it', async () => {
        const before = Date.now();
        const first = await trigger('deb-1', '{"n":1}', 10_000, 15_000);
        expect(first).toMatchObject({ runId: 'deb-1', isNew: true, triggers: 1 });
        expect(first.dueAt).toBeGreaterThanOrEqual(before + 10_000 - 1_000);
        expect(first.dueAt).toBeLessThanOrEqual(Date.now() + 10_000 + 1_000);
        const run = await store.getRun('deb-1');
        expect(run).toMatchObject({ status: 'queued', input: '{"n":1}', wakeAt: first.dueAt });

        // A later trigger (its own candidate id is not used): the last input wins, the due time is
        // now + window, but never past firstAt + maxWait.
        const second = await trigger('deb-2', '{"n":2}', 60_000, 15_000);
        expect(second).toMatchObject({ runId: 'deb-1', isNew: false, triggers: 2 });
        expect(second.dueAt).toBeGreaterThanOrEqual(first.dueAt + 5_000 - 1_000);
        expect(second.dueAt).toBeLessThanOrEqual(first.dueAt + 5_000 + 1_000);
        expect(await store.getRun('deb-2')).toBeUndefined();
        expect(await store.getRun('deb-1')).toMatchObject({ input: '{"n":2}', wakeAt: second.dueAt });

        const pending = await store.listDebounces({ workflow: 'deb' });
        expect(pending).toEqual([
          {
            workflow: 'deb',
            key: 'k',
            runId: 'deb-1',
            input: '{"n":2}',
            firstAt: expect.any(Number),
            lastAt: expect.any(Number),
            dueAt: second.dueAt,
            triggers: 2,
          },
        ]);
        const events = await store.listEvents({ runId: 'deb-1' });
        expect(events.map((e) => [e.type, JSON.parse(e.data ?? 'null')])).toEqual([
          ['run_queued', { reason: 'debounce', key: 'k', trigger: 1 }],
          ['run_queued', { reason: 'debounce', key: 'k', trigger: 2 }],
        ]);
      });

      it('starts a new run for the key once the pending one has started', async () => {
        await trigger('deb-a', '{"n":1}', 10_000);
        const run = (await store.getRun('deb-a')) as RunRecord;
        await commit({ runUpdates: [updateOf({ ...run, status: 'running', startedAt: Date.now(), wakeAt: null })] });
        expect(await store.listDebounces({})).toEqual([]);
        const next = await trigger('deb-b', '{"n":2}', 10_000);
        expect(next).toMatchObject({ runId: 'deb-b', isNew: true, triggers: 1 });
        expect((await store.getRun('deb-a'))?.input).toBe('{"n":1}');
        expect((await store.listDebounces({ workflow: 'deb' })).map((p) => p.runId)).toEqual(['deb-b']);
      });

      it('starts a new run for the key once the pending one is due', async () => {
        await trigger('deb-x', '{"n":1}', 1);
        await new Promise((resolve) => setTimeout(resolve, 20));
        const next = await trigger('deb-y', '{"n":2}', 10_000);
        expect(next).toMatchObject({ runId: 'deb-y', isNew: true });
        expect((await store.getRun('deb-x'))?.input).toBe('{"n":1}');
      });
    });

    describePruneConformance(() => store);
    describeScheduleConformance(() => store);
    describeRateLimitConformance(() => store);
    describeLimitSettingsConformance(() => store);
  });
}

/** A run record with every field set to a plain value; tests override what they check. */
export function makeRun(overrides: Partial<RunRecord> = {}): RunRecord {
  const id = overrides.id ?? 'run';
  return {
    id,
    workflow: 'wf',
    version: '1',
    status: 'queued',
    input: '{"a":1}',
    output: null,
    error: null,
    globals: '{}',
    idempotencyKey: null,
    parentRunId: null,
    parentStep: null,
    spawnKey: null,
    rootRunId: id,
    concurrencyKey: null,
    replayOf: null,
    createdAt: 1_700_000_000_000,
    startedAt: null,
    finishedAt: null,
    deadlineAt: null,
    checkpointSeq: 0,
    wakeAt: null,
    pausedAt: null,
    priority: 0,
    ...overrides,
  };
}

function updateOf(run: RunRecord): RunUpdate {
  const { id, status, output, error, startedAt, finishedAt, deadlineAt, globals, checkpointSeq, wakeAt, pausedAt } =
    run;
  return { id, status, output, error, startedAt, finishedAt, deadlineAt, globals, checkpointSeq, wakeAt, pausedAt };
}

/** A pending sleep of step `s` of run `r`; tests override what they check. */
export function makeWait(overrides: Partial<WaitRecord> = {}): WaitRecord {
  const key = overrides.key ?? 'sleep#0';
  return {
    runId: 'r',
    step: 's',
    key,
    group: key,
    kind: 'sleep',
    status: 'pending',
    dueAt: null,
    name: null,
    eventKey: null,
    match: null,
    since: null,
    afterSeq: null,
    request: null,
    value: null,
    createdAt: 1_700_000_000_000,
    resolvedAt: null,
    ...overrides,
  };
}

export function makeStep(overrides: Partial<StepRecord> & Pick<StepRecord, 'runId' | 'name'>): StepRecord {
  return {
    status: 'pending',
    attempts: 0,
    output: null,
    error: null,
    startedAt: null,
    finishedAt: null,
    nextAttemptAt: null,
    route: null,
    cacheHit: false,
    fallbackUsed: false,
    ...overrides,
  };
}

export function makeEvent(overrides: Partial<EventRecord> & Pick<EventRecord, 'runId'>): EventRecord {
  return { step: null, type: 'run_created', at: 1_700_000_000_000, attempt: null, data: null, ...overrides };
}

function byName(steps: StepRecord[]): StepRecord[] {
  return [...steps].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
