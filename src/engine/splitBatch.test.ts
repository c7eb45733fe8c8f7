import { describe, expect, it } from 'vitest';
import type { WriteBatch } from '../store/types.js';
import { CACHE_GROUP, splitBatch } from './splitBatch.js';

describe('splitBatch', () => {
  it('groups every record by its run tree, keeps order, and puts cache entries apart', () => {
    const batch = {
      newRuns: [{ id: 'child', rootRunId: 'root' }],
      runUpdates: [{ id: 'root' }, { id: 'lone' }],
      steps: [
        { runId: 'child', name: 's1' },
        { runId: 'lone', name: 's' },
        { runId: 'child', name: 's2' },
      ],
      events: [{ runId: 'root' }, { runId: 'lone' }],
      cache: [{ key: 'k' }],
      controls: [{ runId: 'elsewhere', action: 'cancel', reason: null }],
      localRuns: new Set(['child']),
    } as unknown as WriteBatch;
    const groups = splitBatch(batch, (id) => (id === 'root' ? 'root' : id));
    const byRoot = new Map(
      groups.map((g) => [
        g.newRuns[0]?.rootRunId ??
          g.runUpdates[0]?.id ??
          g.controls?.[0]?.runId ??
          (g.cache.length ? CACHE_GROUP : '?'),
        g,
      ]),
    );
    expect([...byRoot.keys()].sort()).toEqual([CACHE_GROUP, 'elsewhere', 'lone', 'root'].sort());
    const tree = byRoot.get('root') as WriteBatch;
    expect(tree.steps.map((s) => s.name)).toEqual(['s1', 's2']);
    expect(tree.events).toHaveLength(1);
    expect(tree.localRuns?.has('child')).toBe(true);
    expect(byRoot.get(CACHE_GROUP)?.cache).toEqual([{ key: 'k' }]);
  });
});
