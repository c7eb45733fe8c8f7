import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqliteStore.js';
import { type EventRecord, emptyBatch, type RunRecord, type StepRecord } from '../../src/store/types.js';
import { finished, spawnBraid, tempDb } from '../cli/harness.js';
import { makeEvent, makeRun, makeStep } from '../store/conformance.js';

const FINISHED_TREES = 3000;
const UNFINISHED_TREES = 100;
const CHILDREN = 2;
const T0 = Date.now() - 86_400_000;

/** A root and its children (all finished, or the root running, or a child running), each with a step and events. */
function tree(id: string, kind: 'finished' | 'root-running' | 'child-running') {
  const runs: RunRecord[] = [];
  const ended = { status: 'succeeded' as const, finishedAt: T0 + 1 };
  runs.push(
    makeRun({ id, rootRunId: id, createdAt: T0, ...(kind === 'root-running' ? { status: 'running' } : ended) }),
  );
  for (let c = 0; c < CHILDREN; c++) {
    runs.push(
      makeRun({
        id: `${id}.${c}`,
        rootRunId: id,
        parentRunId: id,
        parentStep: 'fan',
        spawnKey: String(c),
        createdAt: T0,
        ...(kind === 'child-running' && c === 0 ? { status: 'running' } : ended),
      }),
    );
  }
  const steps: StepRecord[] = runs.map((r) =>
    makeStep({
      runId: r.id,
      name: 'fan',
      status: 'succeeded',
      attempts: 1,
      output: '"x"',
      startedAt: T0,
      finishedAt: T0 + 1,
    }),
  );
  const events: EventRecord[] = runs.flatMap((r) =>
    (['run_created', 'step_started', 'step_succeeded'] as const).map((type) =>
      makeEvent({ runId: r.id, step: type === 'run_created' ? null : 'fan', type, at: T0 }),
    ),
  );
  return { runs, steps, events };
}

interface Census {
  /** Trees by how many of their runs remain. */
  treeSizes: Map<string, number>;
  orphans: number;
}

function census(db: string): Census {
  const conn = new Database(db, { readonly: true });
  try {
    const rows = conn.prepare('SELECT root_run_id AS root, count(*) AS n FROM runs GROUP BY root_run_id').all() as {
      root: string;
      n: number;
    }[];
    const orphans = ['steps', 'events'].reduce(
      (sum, table) =>
        sum +
        (conn
          .prepare(`SELECT count(*) FROM ${table} WHERE run_id NOT IN (SELECT id FROM runs)`)
          .pluck()
          .get() as number),
      0,
    );
    // A run whose own rows were deleted while it stayed would be half-deleted too.
    const bare = conn
      .prepare('SELECT count(*) FROM runs r WHERE NOT EXISTS (SELECT 1 FROM steps s WHERE s.run_id = r.id)')
      .pluck()
      .get() as number;
    return { treeSizes: new Map(rows.map((r) => [r.root, r.n])), orphans: orphans + bare };
  } finally {
    conn.close();
  }
}

describe('SIGKILL during braid prune (SQLite)', () => {
  it('leaves every run tree wholly there or wholly gone, and loses nothing unfinished', async () => {
    const db = tempDb();
    const store = new SqliteStore({ path: db });
    await store.open();
    const batch = emptyBatch();
    const unfinished: string[] = [];
    for (let i = 0; i < FINISHED_TREES; i++) {
      const t = tree(`f${String(i).padStart(5, '0')}`, 'finished');
      batch.newRuns.push(...t.runs);
      batch.steps.push(...t.steps);
      batch.events.push(...t.events);
    }
    for (let i = 0; i < UNFINISHED_TREES; i++) {
      const id = `u${i}`;
      unfinished.push(id);
      const t = tree(id, i % 2 ? 'root-running' : 'child-running');
      batch.newRuns.push(...t.runs);
      batch.steps.push(...t.steps);
      batch.events.push(...t.events);
    }
    await store.commit(batch);
    await store.close();
    const total = (FINISHED_TREES + UNFINISHED_TREES) * (CHILDREN + 1);

    const child = spawnBraid(['prune', '--db', db, '--batch-size', '25']);
    const exited = finished(child);
    // Kill it once it has deleted some trees but not all.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const remaining = [...census(db).treeSizes.values()].reduce((a, b) => a + b, 0);
      if (remaining < total - 200 * (CHILDREN + 1)) break;
      if (Date.now() > deadline) throw new Error('braid prune deleted nothing within 60 s');
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill('SIGKILL');
    const result = await exited;
    expect(result.signal, result.stderr).toBe('SIGKILL');

    const after = census(db);
    expect(after.orphans).toBe(0);
    const sizes = new Map<number, number>();
    for (const n of after.treeSizes.values()) sizes.set(n, (sizes.get(n) ?? 0) + 1);
    // Wholly there (3 runs) or absent from the map (wholly gone): no tree of 1 or 2 runs.
    expect([...sizes.keys()]).toEqual([CHILDREN + 1]);
    const finishedLeft = [...after.treeSizes.keys()].filter((root) => root.startsWith('f')).length;
    expect(finishedLeft).toBeGreaterThan(0);
    expect(finishedLeft).toBeLessThan(FINISHED_TREES);
    for (const id of unfinished) expect(after.treeSizes.get(id)).toBe(CHILDREN + 1);

    // A second prune finishes the job from where the first one died.
    const rerun = await finished(spawnBraid(['prune', '--db', db, '--json']));
    expect(rerun.code, rerun.stderr).toBe(0);
    const end = census(db);
    expect(end.orphans).toBe(0);
    expect([...end.treeSizes.keys()].sort()).toEqual([...unfinished].sort());
  }, 240_000); // a guard against hangs: with two vitest workers, two crash tests can share the 2 cores
});
