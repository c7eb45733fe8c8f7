import { describe, expect, it } from 'vitest';
import { InvalidWorkflowError, workflow } from '../../src/index.js';
import { sleep, useEngineFixture } from './helpers.js';

interface Save {
  user: string;
  text: string;
}

/** Saves a user's draft: what ran, with which input, and when. */
function saver(name: string, debounce: { window: number; maxWait?: number }) {
  const ran: Array<{ runId: string; input: Save; at: number }> = [];
  const wf = workflow(name, {
    debounce: { key: (input: Save) => input.user, ...debounce },
  }).step('save', (ctx) => {
    ran.push({ runId: ctx.runId, input: ctx.input as Save, at: Date.now() });
    return (ctx.input as Save).text;
  });
  return { wf, ran };
}

describe('debounce', () => {
  const fx = useEngineFixture();

  it('collapses triggers with the same key into one run of the last input, once the window passes', async () => {
    const { wf, ran } = saver('debounce-collapse', { window: 150 });
    const executor = fx.executor({ workflows: [wf] });
    const first = await executor.start(wf, { user: 'ann', text: 'h' });
    const second = await executor.start(wf, { user: 'ann', text: 'he' });
    const other = await executor.start(wf, { user: 'bob', text: 'x' });
    const third = await executor.start(wf, { user: 'ann', text: 'hello' });
    // start() returns at once a handle to the run that will carry the trigger.
    expect(second.runId).toBe(first.runId);
    expect(third.runId).toBe(first.runId);
    expect(other.runId).not.toBe(first.runId);
    expect(ran).toEqual([]);
    expect((await executor.store.getRun(first.runId))?.status).toBe('queued');

    const result = await third.result();
    expect(result.output).toBe('hello');
    expect((await other.result()).output).toBe('x');
    expect(ran.filter((r) => r.input.user === 'ann')).toHaveLength(1);
    // Every trigger is recorded on the run: the later ones superseded the earlier.
    const events = await executor.store.listEvents({ runId: first.runId });
    const triggers = events.filter((e) => e.type === 'run_queued').map((e) => JSON.parse(e.data ?? '{}'));
    expect(triggers).toEqual([1, 2, 3].map((trigger) => ({ reason: 'debounce', key: 'ann', trigger })));

    // After the run started, the next trigger of the key makes a new run.
    const later = await executor.start(wf, { user: 'ann', text: 'bye' });
    expect(later.runId).not.toBe(first.runId);
    expect((await later.result()).output).toBe('bye');
  });

  it('waits for quiet: each trigger within the window moves the start on', async () => {
    const { wf, ran } = saver('debounce-quiet', { window: 200 });
    const executor = fx.executor({ workflows: [wf] });
    const firstAt = Date.now();
    const first = await executor.start(wf, { user: 'ann', text: '1' });
    for (const text of ['2', '3']) {
      await sleep(120);
      await executor.start(wf, { user: 'ann', text });
    }
    const lastAt = Date.now();
    await first.result();
    expect(ran).toHaveLength(1);
    expect(ran[0]?.input.text).toBe('3');
    expect(ran[0]!.at - lastAt).toBeGreaterThanOrEqual(150);
    expect(ran[0]!.at - firstAt).toBeGreaterThanOrEqual(400);
  });

  it('starts the run at maxWait after the first trigger, however many keep coming', async () => {
    const { wf, ran } = saver('debounce-max-wait', { window: 150, maxWait: 400 });
    const executor = fx.executor({ workflows: [wf] });
    const firstAt = Date.now();
    const first = await executor.start(wf, { user: 'ann', text: '0' });
    const ids = new Set<string>();
    for (let i = 1; i <= 12 && ran.length === 0; i++) {
      await sleep(60);
      ids.add((await executor.start(wf, { user: 'ann', text: String(i) })).runId);
    }
    await first.result();
    expect(ran.length).toBeGreaterThanOrEqual(1);
    const startedAfter = ran[0]!.at - firstAt;
    expect(startedAfter).toBeGreaterThanOrEqual(390);
    expect(startedAfter).toBeLessThan(900);
    expect(ids.has(first.runId)).toBe(true);
  });

  it('lists the pending debounced runs with their trigger counts', async () => {
    const { wf } = saver('debounce-list', { window: 60_000 });
    const executor = fx.executor({ workflows: [wf] });
    const a = await executor.start(wf, { user: 'ann', text: '1' });
    await executor.start(wf, { user: 'ann', text: '2' });
    const b = await executor.start(wf, { user: 'bob', text: '1' });
    const pending = await executor.store.listDebounces({ workflow: 'debounce-list' });
    expect(pending.map((p) => [p.key, p.runId, p.triggers, JSON.parse(p.input).text])).toEqual([
      ['ann', a.runId, 2, '2'],
      ['bob', b.runId, 1, '1'],
    ]);
    expect(pending[0]!.dueAt).toBeGreaterThan(Date.now() + 50_000);
  });

  it('survives a restart (SQLite): the pending run starts once, when due, with the last input', async () => {
    const file = fx.sqlitePath();
    const { wf, ran } = saver('debounce-restart', { window: 400 });
    const first = fx.executor({ store: fx.sqliteStore(file), workflows: [wf] });
    const handle = await first.start(wf, { user: 'ann', text: 'a' });
    await first.start(wf, { user: 'ann', text: 'ab' });
    await first.cleanup();
    expect(ran).toEqual([]);

    const second = fx.executor({ store: fx.sqliteStore(file), workflows: [wf] });
    const result = await (await second.getHandle(handle.runId)).result();
    expect(result.output).toBe('ab');
    expect(ran).toHaveLength(1);
  });

  it('refuses a bad debounce at definition, naming the field', () => {
    expect(() => workflow('d1', { debounce: { window: 0 } })).toThrow(InvalidWorkflowError);
    expect(() => workflow('d1', { debounce: { window: 0 } })).toThrow(/`debounce.window` must be a duration/);
    expect(() => workflow('d2', { debounce: { window: '1m', maxWait: '10s' } })).toThrow(/`debounce.maxWait`/);
    expect(() => workflow('d3', { debounce: { window: 'soon' } })).toThrow(/`debounce.window`/);
    expect(() => workflow('d4', { debounce: { window: 10, key: 'user' as never } })).toThrow(/`debounce.key`/);
  });
});
