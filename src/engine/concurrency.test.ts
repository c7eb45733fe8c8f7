import { describe, expect, it } from 'vitest';
import { workflow } from '../model/workflow.js';
import type { RunRecord } from '../store/types.js';
import { Concurrency } from './concurrency.js';
import { WorkflowRegistry } from './registry.js';
import type { ActiveRun } from './runState.js';
import { RunTable } from './runTable.js';

function fixture(options: { maxRuns: number; onConcurrencyLimit?: 'queue' | 'cancel-newest' | 'cancel-oldest' }) {
  const wf = workflow('limited', { ...options, concurrencyKey: (input: { k: string }) => input.k }).step('s', () => 1);
  const plan = new WorkflowRegistry({}, () => true).register(wf);
  const runs = new RunTable();
  const concurrency = new Concurrency();
  let n = 0;
  const make = (k: string, parent?: ActiveRun): ActiveRun => {
    const id = `r${++n}`;
    const rec = {
      id,
      workflow: 'limited',
      version: '1',
      status: 'queued',
      parentRunId: parent?.rec.id ?? null,
      concurrencyKey: concurrency.groupOf(wf, { k })?.key ?? null,
    } as RunRecord;
    return runs.hydrate(rec, plan, { k }, {}, []);
  };
  return { concurrency, make, lookup: (id: string) => runs.get(id) };
}

describe('Concurrency (maxRuns per key)', () => {
  it('starts runs up to the limit per key, queues the rest in arrival order, and hands slots on', () => {
    const { concurrency, make, lookup } = fixture({ maxRuns: 1 });
    const a1 = make('a');
    const a2 = make('a');
    const a3 = make('a');
    const b1 = make('b');
    expect(concurrency.admit(a1, undefined, lookup).kind).toBe('start');
    expect(concurrency.admit(a2, undefined, lookup).kind).toBe('queue');
    expect(concurrency.admit(a3, undefined, lookup).kind).toBe('queue');
    expect(concurrency.admit(b1, undefined, lookup).kind).toBe('start');
    expect(concurrency.isQueued(a2)).toBe(true);
    expect(concurrency.release(a1, false)).toBe(a2);
    expect(concurrency.release(a2, false)).toBe(a3);
    expect(concurrency.release(a3, false)).toBeUndefined();
  });

  it('admits a run spawned by a run that holds a slot of the same group without a slot (no deadlock)', () => {
    const { concurrency, make, lookup } = fixture({ maxRuns: 1 });
    const parent = make('a');
    expect(concurrency.admit(parent, undefined, lookup).kind).toBe('start');
    const child = make('a', parent);
    const grandchild = make('a', child);
    expect(concurrency.admit(child, parent, lookup).kind).toBe('start');
    expect(concurrency.admit(grandchild, child, lookup).kind).toBe('start');
  });

  it('cancels the newest or the oldest run over the limit, as the workflow says', () => {
    const newest = fixture({ maxRuns: 1, onConcurrencyLimit: 'cancel-newest' });
    const n1 = newest.make('a');
    newest.concurrency.admit(n1, undefined, newest.lookup);
    expect(newest.concurrency.admit(newest.make('a'), undefined, newest.lookup).kind).toBe('cancel-self');

    const oldest = fixture({ maxRuns: 1, onConcurrencyLimit: 'cancel-oldest' });
    const o1 = oldest.make('a');
    oldest.concurrency.admit(o1, undefined, oldest.lookup);
    expect(oldest.concurrency.admit(oldest.make('a'), undefined, oldest.lookup)).toEqual({
      kind: 'cancel-oldest',
      cancelRunId: o1.rec.id,
    });
  });

  it('after a restart: running runs take their slots back, queued ones line up again and start when they fit', () => {
    const { concurrency, make } = fixture({ maxRuns: 2 });
    const running = make('a');
    running.rec.status = 'running';
    concurrency.occupy(running);
    const q1 = make('a');
    const q2 = make('a');
    concurrency.requeue(q1);
    concurrency.requeue(q2);
    expect(concurrency.startable()).toEqual([q1]);
    expect(q2.waitingForConcurrency).toBe(true);
  });

  it('a limit set at run time admits queued runs that fit at once when raised, and none while over it when lowered', () => {
    const { concurrency, make, lookup } = fixture({ maxRuns: 1 });
    const [a1, a2, a3, a4] = [make('a'), make('a'), make('a'), make('a')] as ActiveRun[];
    for (const run of [a1, a2, a3]) concurrency.admit(run as ActiveRun, undefined, lookup);
    expect(concurrency.setLimit('limited', 3)).toEqual([a2, a3]);
    expect(concurrency.limitOf(a1?.plan.workflow as ActiveRun['plan']['workflow'])).toBe(3);

    expect(concurrency.setLimit('limited', 1)).toEqual([]);
    expect(concurrency.admit(a4 as ActiveRun, undefined, lookup).kind).toBe('queue');
    // Two of the three end: one still holds a slot, which is the new limit.
    expect(concurrency.release(a1 as ActiveRun, false)).toBeUndefined();
    expect(concurrency.release(a2 as ActiveRun, false)).toBeUndefined();
    expect(concurrency.release(a3 as ActiveRun, false)).toBe(a4);
    // Reset: the definition's limit again.
    expect(concurrency.setLimit('limited', undefined)).toEqual([]);
    expect(concurrency.limitOf(a1?.plan.workflow as ActiveRun['plan']['workflow'])).toBe(1);
  });
});
