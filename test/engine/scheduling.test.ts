import { describe, expect, it } from 'vitest';
import { defineWorkflow, workflow } from '../../src/index.js';
import { ConcurrencyGauge, useEngineFixture } from './helpers.js';

function independentSteps(name: string, count: number, gauge: ConcurrencyGauge, ms = 30) {
  return defineWorkflow(
    name,
    {},
    Array.from({ length: count }, (_, i) => ({ name: `s${i}`, run: () => gauge.hold(ms, i) })),
  );
}

describe('a chain runs sequentially', () => {
  const fx = useEngineFixture();

  it('runs each step after its parent, reading the parent output through ctx.parent', async () => {
    const order: string[] = [];
    const gauge = new ConcurrencyGauge();
    const wf = workflow('chain')
      .step('a', async () => {
        order.push('a');
        await gauge.hold(5);
        return 1;
      })
      .step('b', { parents: ['a'] }, async (ctx) => {
        order.push('b');
        await gauge.hold(5);
        return ctx.parent('a') + 1;
      })
      .step('c', { parents: ['b'] }, async (ctx) => {
        order.push('c');
        await gauge.hold(5);
        return ctx.parent('b') * 10;
      });

    const result = await fx.executor().execute(wf, null);

    expect(result.success).toBe(true);
    expect(order).toEqual(['a', 'b', 'c']);
    expect(result.nodeExecutionOrder).toEqual(['a', 'b', 'c']);
    expect(gauge.max).toBe(1);
    expect(result.output).toBe(20);
    expect(result.context.nodeResults.b?.output).toBe(2);
  });
});

describe('independent steps run in parallel up to maxParallelNodes', () => {
  const fx = useEngineFixture();

  it('never runs more than 2 of 6 independent steps at once under maxParallelNodes 2', async () => {
    const gauge = new ConcurrencyGauge();
    const result = await fx.executor({ maxParallelNodes: 2 }).execute(independentSteps('six-of-two', 6, gauge), null);

    expect(result.success).toBe(true);
    expect(gauge.max).toBe(2);
    expect([...result.nodeExecutionOrder].sort()).toEqual(['s0', 's1', 's2', 's3', 's4', 's5']);
  });

  it('runs all 6 independent steps at once under maxParallelNodes 6', async () => {
    const gauge = new ConcurrencyGauge();
    const result = await fx.executor({ maxParallelNodes: 6 }).execute(independentSteps('six-of-six', 6, gauge), null);

    expect(result.success).toBe(true);
    expect(gauge.max).toBe(6);
  });

  it("caps one run's steps at its workflow's maxParallelNodes below the executor's", async () => {
    const gauge = new ConcurrencyGauge();
    const wf = defineWorkflow(
      'workflow-cap',
      { maxParallelNodes: 3 },
      Array.from({ length: 6 }, (_, i) => ({ name: `s${i}`, run: () => gauge.hold(30) })),
    );
    const result = await fx.executor({ maxParallelNodes: 10 }).execute(wf, null);

    expect(result.success).toBe(true);
    expect(gauge.max).toBe(3);
  });
});

describe('conditional routing with ctx.route', () => {
  const fx = useEngineFixture();

  function routed(requireAllParents: boolean) {
    const ran: string[] = [];
    const wf = workflow(`route-${requireAllParents}`)
      .step('decide', { routes: ['left', 'right'] }, (ctx) => ctx.route('left', 'L'))
      .step('left', { parents: ['decide'] }, (ctx) => {
        ran.push('left');
        return `${ctx.parent('decide')}!`;
      })
      .step('right', { parents: ['decide'] }, () => {
        ran.push('right');
        return 'R';
      })
      .step('rightOnly', { parents: ['right'] }, () => {
        ran.push('rightOnly');
        return 'RR';
      })
      .step('join', { parents: ['left', 'right'], requireAllParents }, (ctx) => {
        ran.push('join');
        return { left: ctx.parent('left'), right: ctx.parent('right') ?? null };
      });
    return { wf, ran };
  }

  it('skips the unchosen branch and what only it leads to, and still runs a join after both branches', async () => {
    const { wf, ran } = routed(false);
    const result = await fx.executor().execute(wf, null);

    expect(result.success).toBe(true);
    expect(ran).toEqual(['left', 'join']);
    const nodes = result.context.nodeResults;
    expect(nodes.decide?.nextNodeId).toEqual(['left']);
    expect(nodes.decide?.output).toBe('L');
    expect(nodes.left?.output).toBe('L!');
    expect(nodes.right?.status).toBe('skipped');
    expect(nodes.rightOnly?.status).toBe('skipped');
    expect(nodes.join?.status).toBe('succeeded');
    expect(result.output).toEqual({ left: 'L!', right: null });
    expect(result.nodeExecutionOrder).toEqual(['decide', 'left', 'join']);
  });

  it('skips a join with requireAllParents when one of its parents was skipped', async () => {
    const { wf, ran } = routed(true);
    const result = await fx.executor().execute(wf, null);

    expect(result.success).toBe(true);
    expect(ran).toEqual(['left']);
    expect(result.context.nodeResults.join?.status).toBe('skipped');
    expect(result.metrics.skipped).toBe(3);
  });

  it('runs every chosen child when a step routes to several', async () => {
    const wf = workflow('route-many')
      .step('decide', { routes: ['x', 'y', 'z'] }, (ctx) => ctx.route(['x', 'z']))
      .step('x', { parents: ['decide'] }, () => 'x')
      .step('y', { parents: ['decide'] }, () => 'y')
      .step('z', { parents: ['decide'] }, () => 'z');
    const result = await fx.executor().execute(wf, null);

    expect(result.context.nodeResults.y?.status).toBe('skipped');
    expect(result.output).toEqual({ x: 'x', z: 'z' });
  });
});

describe('conditional routing with a when predicate', () => {
  const fx = useEngineFixture();

  function gated(requireAllParents: boolean) {
    const ran: string[] = [];
    const wf = workflow(`when-${requireAllParents}`)
      .step('start', (ctx) => ({ premium: ctx.input === 'premium' }))
      .step('upsell', { parents: ['start'], when: (ctx) => ctx.parent('start').premium }, () => {
        ran.push('upsell');
        return 'offer';
      })
      .step('upsellMail', { parents: ['upsell'] }, () => {
        ran.push('upsellMail');
        return 'mail';
      })
      .step('standard', { parents: ['start'], when: (ctx) => !ctx.parent('start').premium }, () => {
        ran.push('standard');
        return 'plain';
      })
      .step('done', { parents: ['upsell', 'standard'], requireAllParents }, () => {
        ran.push('done');
        return 'done';
      });
    return { wf, ran };
  }

  it('skips a step whose predicate is false and what only it leads to; the join after both branches runs', async () => {
    const { wf, ran } = gated(false);
    const result = await fx.executor().execute(wf, 'basic');

    expect(result.success).toBe(true);
    expect(ran).toEqual(['standard', 'done']);
    expect(result.context.nodeResults.upsell?.status).toBe('skipped');
    expect(result.context.nodeResults.upsellMail?.status).toBe('skipped');
    expect(result.context.nodeResults.done?.status).toBe('succeeded');
  });

  it('takes the other branch when the predicate holds', async () => {
    const { wf, ran } = gated(false);
    const result = await fx.executor().execute(wf, 'premium');

    expect(ran.sort()).toEqual(['done', 'upsell', 'upsellMail']);
    expect(result.context.nodeResults.standard?.status).toBe('skipped');
  });

  it('skips the join after a when-gated branch with requireAllParents', async () => {
    const { wf, ran } = gated(true);
    const result = await fx.executor().execute(wf, 'basic');

    expect(result.success).toBe(true);
    expect(ran).toEqual(['standard']);
    expect(result.context.nodeResults.done?.status).toBe('skipped');
  });

  it('fails the run when a when predicate throws', async () => {
    const wf = workflow('when-throws')
      .step('a', () => 1)
      .step(
        'b',
        {
          parents: ['a'],
          when: () => {
            throw new Error('bad predicate');
          },
        },
        () => 2,
      );
    const result = await fx.executor().execute(wf, null);

    expect(result.status).toBe('failed');
    expect(result.context.nodeResults.b?.status).toBe('failed');
    expect(result.error?.cause?.message).toBe('bad predicate');
  });
});

describe('the output rule', () => {
  const fx = useEngineFixture();

  it("is the single succeeded sink's output", async () => {
    const wf = workflow('one-sink')
      .step('a', () => 'a')
      .step('b', { parents: ['a'] }, () => ({ total: 3 }));
    expect((await fx.executor().execute(wf, null)).output).toEqual({ total: 3 });
  });

  it('is an object keyed by step name when there are several sinks', async () => {
    const wf = workflow('two-sinks')
      .step('root', () => 1)
      .step('double', { parents: ['root'] }, (ctx) => ctx.parent('root') * 2)
      .step('triple', { parents: ['root'] }, (ctx) => ctx.parent('root') * 3);
    expect((await fx.executor().execute(wf, null)).output).toEqual({ double: 2, triple: 3 });
  });

  it('is null for a sink that returns nothing', async () => {
    const wf = workflow('void-sink').step('a', () => undefined);
    const result = await fx.executor().execute(wf, null);
    expect(result.success).toBe(true);
    expect(result.output).toBeNull();
  });

  it('is an empty object for a workflow with no steps', async () => {
    const result = await fx.executor().execute(workflow('no-steps'), null);
    expect(result.success).toBe(true);
    expect(result.output).toEqual({});
    expect(result.nodeExecutionOrder).toEqual([]);
  });
});

describe('ctx.parent', () => {
  const fx = useEngineFixture();

  it('fails the step that reads a parent it does not list, naming both', async () => {
    const wf = defineWorkflow('undeclared-parent', {}, [
      { name: 'a', run: () => 1 },
      { name: 'b', run: () => 2 },
      { name: 'c', parents: ['a'], run: (ctx) => ctx.parent('b') },
    ]);
    const result = await fx.executor().execute(wf, null);
    expect(result.status).toBe('failed');
    const error = result.context.nodeResults.c?.error;
    expect(error?.name).toBe('InvalidWorkflowError');
    expect(error?.message).toContain('step "c"');
    expect(error?.message).toContain('"b"');
  });
});
