import { describe, expect, it } from 'vitest';
import { makeRun } from '../../test/store/conformance.js';
import { workflow } from '../model/workflow.js';
import type { ChildLink, RunRecord, StepRecord } from '../store/types.js';
import { WorkflowRegistry } from './registry.js';
import { RunTable } from './runTable.js';

const plan = new WorkflowRegistry({}, () => true).register(
  workflow('sleeper')
    .step('first', () => 1)
    .step('nap', { parents: ['first'] }, () => 2),
);

const run: RunRecord = makeRun({
  id: 'run-1',
  workflow: 'sleeper',
  status: 'waiting',
  input: '{}',
  createdAt: 1,
  startedAt: 2,
  wakeAt: 10,
});

const step = (name: string, status: StepRecord['status']): StepRecord => ({
  runId: 'run-1',
  name,
  status,
  attempts: 1,
  output: status === 'succeeded' ? '1' : null,
  error: null,
  startedAt: 3,
  finishedAt: status === 'succeeded' ? 4 : null,
  nextAttemptAt: null,
  route: null,
  cacheHit: false,
  fallbackUsed: false,
});

const stored = [step('first', 'succeeded'), step('nap', 'waiting')];

describe('RunTable.restore: child registries', () => {
  it('gives no registry to an unfinished step whose links were read and are none', () => {
    const restored = new RunTable().restore(run, plan, stored, [], () => []);
    expect(restored.steps.get('nap')?.children).toBeUndefined();
    // A step that ended keeps an unread registry: a cancelled parent looks its children up.
    expect(restored.steps.get('first')?.children?.loaded).toBe(false);
  });

  it('attaches the links read for an unfinished step', () => {
    const link: ChildLink = {
      spawnKey: 'k',
      runId: 'child-1',
      workflow: 'child',
      status: 'running',
      output: null,
      error: null,
    };
    const table = new RunTable();
    const restored = table.restore(run, plan, stored, [], (name) => (name === 'nap' ? [link] : []));
    const registry = restored.steps.get('nap')?.children;
    expect(registry?.loaded).toBe(true);
    expect(registry?.byKey.get('k')?.runId).toBe('child-1');
    expect(table.childIndex.get('child-1')).toBe(registry);
  });

  it('without links read (a claimed run), every step that ran gets a registry to attach later', () => {
    const restored = new RunTable().restore(run, plan, stored);
    expect(restored.steps.get('nap')?.children?.loaded).toBe(false);
    expect(restored.steps.get('first')?.children?.loaded).toBe(false);
  });

  it('finds stored steps by name and keeps their start order', () => {
    const restored = new RunTable().restore(run, plan, [
      { ...step('nap', 'waiting'), startedAt: 5 },
      step('first', 'succeeded'),
    ]);
    expect(restored.steps.get('nap')?.rec.startedAt).toBe(5);
    expect(restored.steps.get('first')?.value).toBe(1);
    expect(restored.startOrder).toEqual(['first', 'nap']);
  });
});
