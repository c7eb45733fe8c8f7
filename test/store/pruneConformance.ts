import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import {
  type EventRecord,
  emptyBatch,
  type PruneSelection,
  type RunRecord,
  type RunStatus,
  type StepRecord,
  type WaitRecord,
  type WriteBatch,
} from '../../src/store/types.js';
import { makeEvent, makeRun, makeStep, makeWait } from './conformance.js';

const T0 = 1_700_000_000_000;
const DAY = 86_400_000;
/** Prune everything finished before this. */
const CUTOFF = T0 + 10 * DAY;

/** Pruning and event compaction, run for every store inside describeStoreConformance. */
export function describePruneConformance(getStore: () => Store): void {
  const commit = (parts: Partial<WriteBatch>) => getStore().commit({ ...emptyBatch(), ...parts });

  const select = (over: Partial<PruneSelection> = {}): PruneSelection => ({
    statuses: ['succeeded', 'failed', 'cancelled', 'timed_out'],
    finishedBefore: CUTOFF,
    workflow: null,
    excludeWorkflows: [],
    limit: 100,
    ...over,
  });

  /**
   * A root with `children` children, one of which has a grandchild; each run has a step, two
   * events and a wait. Statuses are given per level; every run was created at `createdAt`.
   */
  async function commitTree(
    id: string,
    o: { status?: RunStatus; childStatus?: RunStatus; children?: number; workflow?: string; createdAt?: number } = {},
  ): Promise<string[]> {
    const createdAt = o.createdAt ?? T0;
    const status = o.status ?? 'succeeded';
    const childStatus = o.childStatus ?? 'succeeded';
    const ended = (s: RunStatus) => s === 'succeeded' || s === 'failed' || s === 'cancelled' || s === 'timed_out';
    const run = (rid: string, s: RunStatus, parent: RunRecord | null, key: string | null): RunRecord =>
      makeRun({
        id: rid,
        workflow: o.workflow ?? 'wf',
        status: s,
        rootRunId: id,
        parentRunId: parent?.id ?? null,
        parentStep: parent ? 'fan' : null,
        spawnKey: key,
        idempotencyKey: parent ? null : `idem-${rid}`,
        createdAt,
        startedAt: createdAt,
        finishedAt: ended(s) ? createdAt + 1000 : null,
      });
    const root = run(id, status, null, null);
    const runs = [root];
    for (let i = 0; i < (o.children ?? 2); i++) runs.push(run(`${id}.c${i}`, childStatus, root, `k${i}`));
    if (runs[1]) runs.push(run(`${id}.c0.g`, childStatus, runs[1], 'g'));
    await commit({
      newRuns: runs,
      steps: runs.map((r) => step(r.id)),
      events: runs.flatMap((r) => [event(r.id, null, 'run_created'), event(r.id, 'fan', 'step_started')]),
      waits: runs.map((r) => wait(r.id)),
    });
    return runs.map((r) => r.id);
  }

  async function isWhollyGone(ids: string[]): Promise<boolean> {
    const store = getStore();
    for (const id of ids) {
      if (await store.getRun(id)) return false;
      if ((await store.getSteps(id)).length) return false;
      if ((await store.listEvents({ runId: id })).length) return false;
      if ((await store.getWaits(id)).length) return false;
    }
    return true;
  }

  async function isWhollyThere(ids: string[]): Promise<boolean> {
    const store = getStore();
    for (const id of ids) {
      if (!(await store.getRun(id))) return false;
      if ((await store.getSteps(id)).length !== 1) return false;
      if ((await store.listEvents({ runId: id })).length !== 2) return false;
      if ((await store.getWaits(id)).length !== 1) return false;
    }
    return true;
  }

  describe('pruneRuns', () => {
    it('removes a finished run tree whole: runs, steps, events, waits and child links', async () => {
      const tree = await commitTree('done');
      const counts = await getStore().pruneRuns(select(), CUTOFF);
      expect(counts).toEqual({ roots: 1, runs: 4, steps: 4, events: 8, waits: 4, cache: 0 });
      expect(await isWhollyGone(tree)).toBe(true);
      expect(await getStore().getChildLinks('done', 'fan')).toEqual([]);
      expect(await getStore().findRunByIdempotencyKey('idem-done')).toBeUndefined();
      expect(await getStore().countRuns({})).toEqual({});
    });

    it('removes the stream chunks and the fork link of a pruned tree, and leaves those of others', async () => {
      const pruned = await commitTree('gone');
      const kept = await commitTree('live', { status: 'running', childStatus: 'running' });
      const chunk = (runId: string) => ({ runId, step: 'fan', stream: 'default', attempt: 1, data: '"x"', at: T0 });
      const fork = (runId: string) => ({
        runId,
        forkedFrom: 'original',
        fromStep: 'fan',
        reusedSteps: [],
        overriddenSteps: [],
        createdAt: T0,
      });
      await commit({ chunks: [chunk('gone'), chunk('gone.c0'), chunk('live')] });
      // A fork's link is written with its run: one fork that has ended, one still running.
      const forkRun = (id: string, status: RunStatus) =>
        makeRun({
          id,
          status,
          rootRunId: id,
          createdAt: T0,
          startedAt: T0,
          finishedAt: status === 'succeeded' ? T0 + 1 : null,
        });
      await commit({
        newRuns: [forkRun('gone-fork', 'succeeded'), forkRun('live-fork', 'running')],
        forks: [fork('gone-fork'), fork('live-fork')],
      });
      await getStore().pruneRuns(select(), CUTOFF);
      expect(await isWhollyGone(pruned)).toBe(true);
      for (const runId of pruned) expect(await getStore().listChunks({ runId })).toEqual([]);
      expect(await getStore().getFork('gone-fork')).toBeUndefined();
      expect(await isWhollyThere(kept)).toBe(true);
      expect((await getStore().listChunks({ runId: 'live' })).map((c) => c.data)).toEqual(['"x"']);
      expect((await getStore().getFork('live-fork'))?.forkedFrom).toBe('original');
    });

    it('leaves unfinished runs, and a whole tree whose root has ended while a child still runs', async () => {
      const running = await commitTree('running', { status: 'running', childStatus: 'running' });
      const waiting = await commitTree('waiting', { status: 'waiting' });
      const paused = await commitTree('paused', { status: 'paused' });
      const childRuns = await commitTree('child-runs', { status: 'failed', childStatus: 'running' });
      const done = await commitTree('done');
      const counts = await getStore().pruneRuns(select(), CUTOFF);
      expect(counts.roots).toBe(1);
      expect(await isWhollyGone(done)).toBe(true);
      for (const tree of [running, waiting, paused, childRuns]) expect(await isWhollyThere(tree)).toBe(true);
    });

    it('never prunes a child whose root is still running, even when the child has ended long ago', async () => {
      const tree = await commitTree('root-runs', { status: 'running', childStatus: 'succeeded' });
      expect((await getStore().pruneRuns(select(), CUTOFF)).runs).toBe(0);
      expect(await isWhollyThere(tree)).toBe(true);
    });

    it('keeps runs that finished at or after the cutoff, and filters by status and workflow', async () => {
      const recent = await commitTree('recent', { createdAt: CUTOFF });
      const failed = await commitTree('failed', { status: 'failed' });
      const timedOut = await commitTree('timed-out', { status: 'timed_out' });
      const other = await commitTree('other', { workflow: 'other' });
      const done = await commitTree('done');

      const onlyFailed = await getStore().pruneRuns(select({ statuses: ['failed', 'timed_out'] }), CUTOFF);
      expect(onlyFailed.roots).toBe(2);
      expect(await isWhollyGone([...failed, ...timedOut])).toBe(true);

      const notOther = await getStore().pruneRuns(select({ excludeWorkflows: ['other'] }), CUTOFF);
      expect(notOther.roots).toBe(1);
      expect(await isWhollyGone(done)).toBe(true);
      expect(await isWhollyThere(other)).toBe(true);

      const onlyOther = await getStore().pruneRuns(select({ workflow: 'other' }), CUTOFF);
      expect(onlyOther.roots).toBe(1);
      expect(await isWhollyThere(recent)).toBe(true);
    });

    it('removes at most `limit` trees per batch, oldest first, and finds the rest in later batches', async () => {
      const trees: string[][] = [];
      for (let i = 0; i < 5; i++) trees.push(await commitTree(`t${i}`, { createdAt: T0 + i, children: 1 }));
      const first = await getStore().pruneRuns(select({ limit: 2 }), CUTOFF);
      expect(first.roots).toBe(2);
      expect(await isWhollyGone([...trees[0]!, ...trees[1]!])).toBe(true);
      expect(await isWhollyThere(trees.slice(2).flat())).toBe(true);
      expect((await getStore().pruneRuns(select({ limit: 2 }), CUTOFF)).roots).toBe(2);
      expect((await getStore().pruneRuns(select({ limit: 2 }), CUTOFF)).roots).toBe(1);
      expect((await getStore().pruneRuns(select({ limit: 2 }), CUTOFF)).roots).toBe(0);
      expect(await isWhollyGone(trees.flat())).toBe(true);
    });

    it('counts what it would prune without changing anything (dry run)', async () => {
      const done = await commitTree('done');
      const running = await commitTree('running', { status: 'running' });
      await commit({ cache: [{ key: 'old', output: '1', createdAt: T0, expiresAt: T0 + 1 }] });
      const { limit: _, ...all } = select();
      expect(await getStore().countPrunable(all, CUTOFF)).toEqual({
        roots: 1,
        runs: 4,
        steps: 4,
        events: 8,
        waits: 4,
        cache: 1,
      });
      expect(await isWhollyThere([...done, ...running])).toBe(true);
      expect(await getStore().getCache('old', T0)).toBeDefined();
    });

    it('deletes cache entries that have expired, and keeps live and unexpiring ones', async () => {
      await commit({
        cache: [
          { key: 'expired', output: '1', createdAt: T0, expiresAt: T0 + 1 },
          { key: 'live', output: '2', createdAt: T0, expiresAt: CUTOFF + DAY },
          { key: 'forever', output: '3', createdAt: T0, expiresAt: null },
        ],
      });
      expect((await getStore().pruneRuns(select(), CUTOFF)).cache).toBe(1);
      expect(await getStore().getCache('expired', T0)).toBeUndefined();
      expect(await getStore().getCache('live', T0)).toBeDefined();
      expect(await getStore().getCache('forever', T0)).toBeDefined();
    });

    it('assigns new event seqs above every pruned one', async () => {
      await commitTree('done');
      const before = await getStore().listEvents({});
      const highest = Math.max(...before.map((e) => e.seq!));
      await getStore().pruneRuns(select(), CUTOFF);
      const next = [event('later', null, 'run_created')];
      await commit({ newRuns: [makeRun({ id: 'later' })], events: next });
      expect(next[0]!.seq).toBeGreaterThan(highest);
    });
  });

  describe('compactEvents', () => {
    /** A running run whose step `s` waited and woke many times, and retried once half way. */
    async function commitLongRun(id: string, status: RunStatus, wakeUps: number): Promise<void> {
      const events: EventRecord[] = [event(id, null, 'run_created'), event(id, null, 'run_started')];
      events.push(event(id, 's', 'step_started'));
      for (let i = 0; i < wakeUps; i++) {
        events.push(event(id, 's', 'step_waiting'), event(id, 's', 'step_woken'));
        if (i === Math.floor(wakeUps / 2)) events.push(event(id, 's', 'step_retrying'), event(id, 's', 'step_started'));
      }
      events.push(event(id, 'other', 'step_started'));
      await commit({ newRuns: [makeRun({ id, status })], steps: [step(id)], events });
    }

    it('drops the oldest superseded events of an unfinished run over the cap, never an attempt event', async () => {
      await commitLongRun('long', 'running', 20);
      const before = await getStore().listEvents({ runId: 'long', limit: 1000 });
      expect(before).toHaveLength(46);
      expect(await getStore().compactEvents(10, 100)).toEqual({ runs: 1, events: 36 });
      const after = await getStore().listEvents({ runId: 'long', limit: 1000 });
      expect(after).toHaveLength(10);
      const kept = (e: EventRecord) => after.some((a) => a.seq === e.seq);
      // Attempt events, the run's own, and each step's first and last stay.
      for (const e of before) {
        const isWait = e.type === 'step_waiting' || e.type === 'step_woken';
        if (!isWait) expect(kept(e), `${e.type} #${e.seq}`).toBe(true);
      }
      expect(kept(before.findLast((e) => e.step === 's')!)).toBe(true);
      // Of the waits, the newest stay.
      const waitsLeft = after.filter((e) => e.type === 'step_waiting' || e.type === 'step_woken');
      const allWaits = before.filter((e) => e.type === 'step_waiting' || e.type === 'step_woken');
      expect(waitsLeft.map((e) => e.seq)).toEqual(allWaits.slice(-4).map((e) => e.seq));
      const seqs = after.map((e) => e.seq!);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    });

    it('leaves runs at or under the cap and finished runs alone', async () => {
      await commitLongRun('short', 'running', 2);
      await commitLongRun('ended', 'succeeded', 20);
      expect(await getStore().compactEvents(10, 100)).toEqual({ runs: 0, events: 0 });
      expect(await getStore().listEvents({ runId: 'ended', limit: 1000 })).toHaveLength(46);
    });
  });
}

/** A step of run `runId` that has succeeded. */
function step(runId: string): StepRecord {
  return makeStep({
    runId,
    name: 'fan',
    status: 'succeeded',
    attempts: 1,
    output: '1',
    startedAt: T0,
    finishedAt: T0 + 1,
  });
}

function event(runId: string, s: string | null, type: EventRecord['type']): EventRecord {
  return makeEvent({ runId, step: s, type, at: T0 });
}

/** A sleep of run `runId` that has ended. */
function wait(runId: string): WaitRecord {
  return makeWait({ runId, step: 'fan', status: 'resolved', dueAt: T0 + 5, createdAt: T0, resolvedAt: T0 + 5 });
}
