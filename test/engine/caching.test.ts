import { describe, expect, it } from 'vitest';
import { MemoryStore, workflow } from '../../src/index.js';
import { sleep, useEngineFixture } from './helpers.js';

function cachedLookup(name: string, cache: boolean | { ttlSeconds: number } = true) {
  const calls = { lookup: 0, after: 0 };
  const wf = workflow(name)
    .step('lookup', { cache }, (ctx) => {
      calls.lookup++;
      return { upper: String(ctx.input).toUpperCase() };
    })
    .step('after', { parents: ['lookup'] }, (ctx) => {
      calls.after++;
      return `${ctx.parent('lookup').upper}!`;
    });
  return { wf, calls };
}

describe('step result caching', () => {
  const fx = useEngineFixture();

  it('reuses a stored success for the same input without calling the step again', async () => {
    const { wf, calls } = cachedLookup('cache-hit');
    const executor = fx.executor();
    const first = await executor.execute(wf, 'abc');
    const second = await executor.execute(wf, 'abc');

    expect(calls).toEqual({ lookup: 1, after: 2 });
    expect(first.context.nodeResults.lookup?.cacheHit).toBe(false);
    const hit = second.context.nodeResults.lookup;
    expect(hit?.cacheHit).toBe(true);
    expect(hit?.status).toBe('succeeded');
    expect(hit?.attempts).toBe(0);
    expect(hit?.output).toEqual({ upper: 'ABC' });
    expect(second.output).toBe('ABC!');
    expect(second.metrics.cacheHits).toBe(1);
    expect(executor.metrics.cacheHits).toBe(1);

    const events = await executor.store.listEvents({ runId: second.runId });
    expect(events.filter((e) => e.type === 'step_cache_hit').map((e) => e.step)).toEqual(['lookup']);
    expect(events.filter((e) => e.type === 'step_started').map((e) => e.step)).toEqual(['after']);
  });

  it('misses for a different input', async () => {
    const { wf, calls } = cachedLookup('cache-miss');
    const executor = fx.executor();
    await executor.execute(wf, 'abc');
    const other = await executor.execute(wf, 'xyz');

    expect(calls.lookup).toBe(2);
    expect(other.context.nodeResults.lookup?.cacheHit).toBe(false);
    expect(other.output).toBe('XYZ!');
  });

  it('treats inputs equal up to key order as the same input', async () => {
    let calls = 0;
    const wf = workflow('cache-canonical').step('s', { cache: true }, () => ++calls);
    const executor = fx.executor();
    await executor.execute(wf, { a: 1, b: 2 });
    const second = await executor.execute(wf, { b: 2, a: 1 });
    expect(calls).toBe(1);
    expect(second.output).toBe(1);
  });

  it('keys a step on its parents outputs too', async () => {
    let seed = 0;
    let calls = 0;
    const wf = workflow('cache-parents')
      .step('seed', () => seed)
      .step('derived', { parents: ['seed'], cache: true }, (ctx) => {
        calls++;
        return ctx.parent('seed') * 10;
      });
    const executor = fx.executor();
    await executor.execute(wf, null);
    seed = 1;
    const second = await executor.execute(wf, null);
    expect(calls).toBe(2);
    expect(second.output).toBe(10);
  });

  it('does not cache failures', async () => {
    let calls = 0;
    const wf = workflow('cache-failure').step('s', { cache: true }, () => {
      calls++;
      if (calls === 1) throw new Error('transient');
      return 'recovered';
    });
    const executor = fx.executor();
    const first = await executor.execute(wf, 'in');
    const second = await executor.execute(wf, 'in');
    const third = await executor.execute(wf, 'in');

    expect(first.status).toBe('failed');
    expect(second.output).toBe('recovered');
    expect(second.context.nodeResults.s?.cacheHit).toBe(false);
    expect(third.context.nodeResults.s?.cacheHit).toBe(true);
    expect(calls).toBe(2);
  });

  it('expires an entry after its ttlSeconds', async () => {
    const { wf, calls } = cachedLookup('cache-ttl', { ttlSeconds: 0.05 });
    const executor = fx.executor();
    await executor.execute(wf, 'abc');
    const fresh = await executor.execute(wf, 'abc');
    await sleep(80);
    const expired = await executor.execute(wf, 'abc');

    expect(fresh.context.nodeResults.lookup?.cacheHit).toBe(true);
    expect(expired.context.nodeResults.lookup?.cacheHit).toBe(false);
    expect(calls.lookup).toBe(2);
  });

  it('survives a restart on the SQLite store', async () => {
    const file = fx.sqlitePath();
    const { wf, calls } = cachedLookup('cache-restart');
    const first = fx.executor({ store: fx.sqliteStore(file) });
    await first.execute(wf, 'abc');
    await first.cleanup();

    const second = fx.executor({ store: fx.sqliteStore(file) });
    const result = await second.execute(wf, 'abc');
    expect(result.context.nodeResults.lookup?.cacheHit).toBe(true);
    expect(calls.lookup).toBe(1);
  });

  it('caches every step of a workflow with workflow-level cache, except steps that opt out', async () => {
    const calls = { a: 0, b: 0, c: 0 };
    const wf = workflow('cache-workflow', { cache: true })
      .step('a', () => ++calls.a)
      .step('b', { parents: ['a'] }, (ctx) => ctx.parent('a') + ++calls.b)
      .step('c', { parents: ['b'], cache: false }, (ctx) => ctx.parent('b') + ++calls.c);
    const executor = fx.executor();
    await executor.execute(wf, 'same');
    const second = await executor.execute(wf, 'same');

    expect(calls).toEqual({ a: 1, b: 1, c: 2 });
    expect(second.metrics.cacheHits).toBe(2);
    expect(second.context.nodeResults.c?.cacheHit).toBe(false);
  });

  it('separates entries by workflow version', async () => {
    let calls = 0;
    const v1 = workflow('cache-versioned', { version: '1' }).step('s', { cache: true }, () => ++calls);
    const v2 = workflow('cache-versioned', { version: '2' }).step('s', { cache: true }, () => ++calls);
    const store = new MemoryStore();
    await fx.executor({ store }).execute(v1, 'x');
    await fx.executor({ store }).execute(v2, 'x');
    expect(calls).toBe(2);
    const again = await fx.executor({ store }).execute(v1, 'x');
    expect(again.context.nodeResults.s?.cacheHit).toBe(true);
    expect(calls).toBe(2);
  });

  it("keeps a cached step's routing decision on a cache hit", async () => {
    const ran: string[] = [];
    const wf = workflow('cache-route')
      .step('decide', { cache: true, routes: ['left', 'right'] }, (ctx) => {
        ran.push('decide');
        return ctx.route(ctx.input === 'l' ? 'left' : 'right', 'decided');
      })
      .step('left', { parents: ['decide'] }, () => void ran.push('left'))
      .step('right', { parents: ['decide'] }, () => void ran.push('right'));
    const executor = fx.executor();
    await executor.execute(wf, 'l');
    const second = await executor.execute(wf, 'l');

    expect(ran).toEqual(['decide', 'left', 'left']);
    expect(second.context.nodeResults.decide?.cacheHit).toBe(true);
    expect(second.context.nodeResults.decide?.output).toBe('decided');
    expect(second.context.nodeResults.decide?.nextNodeId).toEqual(['left']);
    expect(second.context.nodeResults.right?.status).toBe('skipped');
  });
});
