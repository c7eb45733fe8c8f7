import { describe, expect, it } from 'vitest';
import { type ChildEntry, ChildRegistry, type JoinWaiter } from './children.js';

const entry = (runId: string, key = runId): ChildEntry => ({
  key,
  runId,
  workflow: 'child',
  status: 'queued',
  output: null,
  error: null,
});

function join(pending: string[]) {
  const done: string[] = [];
  const aborted: unknown[] = [];
  const waiter: JoinWaiter = {
    pending: new Set(pending),
    onChildDone: (e) => done.push(`${e.runId}:${e.status}`),
    abort: (reason) => aborted.push(reason),
  };
  return { waiter, done, aborted };
}

describe('ChildRegistry', () => {
  it('finds children by key and by run id, and indexes them for the engine', () => {
    const index = new Map<string, ChildRegistry>();
    const registry = new ChildRegistry(true, index);
    registry.add(entry('r1', 'k1'));
    expect(registry.byKey.get('k1')?.runId).toBe('r1');
    expect(registry.byRunId.get('r1')?.key).toBe('k1');
    expect(index.get('r1')).toBe(registry);
    registry.unindex();
    expect(index.size).toBe(0);
  });

  it('counts identical inputs per attempt: the same ordinals again after a reset', () => {
    const registry = new ChildRegistry(true);
    expect([registry.nextOrdinal('h'), registry.nextOrdinal('h'), registry.nextOrdinal('other')]).toEqual([0, 1, 0]);
    registry.resetOrdinals();
    expect(registry.nextOrdinal('h')).toBe(0);
  });

  it('settles a child once, and tells each join that waits on it', () => {
    const registry = new ChildRegistry(true);
    registry.add(entry('a'));
    registry.add(entry('b'));
    const j = join(['a', 'b']);
    registry.addJoin(j.waiter);
    registry.settle('a', 'succeeded', '1', null);
    registry.settle('a', 'failed', null, '{}'); // already final: ignored
    expect(j.done).toEqual(['a:succeeded']);
    expect([...j.waiter.pending]).toEqual(['b']);
    expect(registry.statusCounts()).toEqual({ succeeded: 1, queued: 1 });
    expect([...registry.unfinished()].map((e) => e.runId)).toEqual(['b']);
  });

  it('keeps an outcome that arrives before the links are read, and applies it when the child is added', () => {
    const registry = new ChildRegistry(false);
    registry.settle('early', 'succeeded', '"out"', null);
    registry.add(entry('early'));
    expect(registry.byRunId.get('early')).toMatchObject({ status: 'succeeded', output: '"out"' });
  });

  it('points an entry and the joins waiting on it at the run that really holds its identity', () => {
    const index = new Map<string, ChildRegistry>();
    const registry = new ChildRegistry(true, index);
    registry.add(entry('phantom', 'k'));
    const j = join(['phantom']);
    registry.addJoin(j.waiter);
    registry.rename('phantom', 'real');
    expect(registry.byKey.get('k')?.runId).toBe('real');
    expect(index.has('phantom')).toBe(false);
    expect(index.get('real')).toBe(registry);
    registry.settle('real', 'succeeded', '1', null);
    expect(j.done).toEqual(['real:succeeded']);
  });

  it('aborts every join with the reason, once', () => {
    const registry = new ChildRegistry(true);
    const j = join(['x']);
    registry.addJoin(j.waiter);
    registry.abortJoins('stopped');
    registry.abortJoins('again');
    expect(j.aborted).toEqual(['stopped']);
  });
});
