import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { RunNotEndedError, workflow } from '../../src/index.js';
import { postgresWorkers } from '../support/postgresWorkers.js';

const WORKER = { leaseMs: 3_000, heartbeatMs: 500, shutdownGraceMs: 2_000 };

const { executor, sql } = postgresWorkers(WORKER, { poolSize: 4 });

/** fetch -> summarise -> publish; each step says which process ran it, and counts its executions. */
function article(label: string, ran: string[]) {
  return workflow('article', { input: z.object({ words: z.number().int() }) })
    .step('fetch', (ctx) => {
      ran.push(`${label}:fetch`);
      return { text: 'one two three four five six', by: label, runId: ctx.runId };
    })
    .step('summarise', { parents: ['fetch'] }, (ctx) => {
      ran.push(`${label}:summarise`);
      const text = (ctx.parent('fetch') as { text: string }).text;
      return text.split(' ').slice(0, ctx.input.words).join(' ');
    })
    .step('publish', { parents: ['summarise'] }, (ctx) => {
      ran.push(`${label}:publish`);
      return { published: ctx.parent('summarise') as string, by: label };
    });
}

describe('fork on PostgreSQL with workers', { timeout: 20_000 }, () => {
  it('a fork made by a process with no worker is claimed and run by a worker, reused steps never executed', async () => {
    const ran: string[] = [];
    const worker = executor({ workflows: [article('w', ran)] });
    await worker.open();
    const client = executor({ worker: false, workflows: [article('client', ran)] });
    const original = await client.execute(article('client', ran), { words: 2 });
    expect(original.output).toEqual({ published: 'one two', by: 'w' });
    const originalId = original.context.runId as string;
    expect(ran).toEqual(['w:fetch', 'w:summarise', 'w:publish']);

    const fork = await client.fork(originalId, { from: 'summarise', input: { words: 4 } });
    const result = await fork.result();
    expect(result.output).toEqual({ published: 'one two three four', by: 'w' });
    expect(ran).toEqual(['w:fetch', 'w:summarise', 'w:publish', 'w:summarise', 'w:publish']);

    const [link] = await sql('SELECT forked_from, from_step, reused_steps FROM braid.forks WHERE run_id = $1', [
      fork.runId,
    ]);
    expect(link).toEqual({ forked_from: originalId, from_step: 'summarise', reused_steps: ['fetch'] });
    const steps = await sql<{ name: string; attempts: number; output: string }>(
      'SELECT name, attempts, output FROM braid.steps WHERE run_id = $1 ORDER BY name',
      [fork.runId],
    );
    const fetch = steps.find((s) => s.name === 'fetch');
    expect(fetch?.attempts).toBe(0);
    expect(JSON.parse(fetch?.output ?? 'null')).toMatchObject({ by: 'w', runId: originalId });
    expect((await client.forksOf(originalId)).map((f) => f.runId)).toEqual([fork.runId]);
    expect((await worker.forkOf(fork.runId))?.forkedFrom).toBe(originalId);
    const owned = await sql('SELECT id FROM braid.runs WHERE owner_id IS NOT NULL');
    expect(owned).toEqual([]);
  });

  it('a worker forks locally too; a run still going is refused and nothing is written', async () => {
    const ran: string[] = [];
    let release = () => {};
    const hold = workflow('hold').step('wait', () => new Promise<void>((resolve) => (release = resolve)));
    const worker = executor({ workflows: [article('w', ran), hold] });
    const original = await worker.execute(article('w', ran), { words: 1 });
    const fork = await worker.fork(original.context.runId as string, { from: 'publish' });
    expect((await fork.result()).output).toEqual({ published: 'one', by: 'w' });
    expect(ran.filter((r) => r === 'w:summarise')).toHaveLength(1);

    const running = await worker.start(hold, null);
    await expect(worker.fork(running.runId, { from: 'wait' })).rejects.toBeInstanceOf(RunNotEndedError);
    expect(await sql('SELECT run_id FROM braid.forks WHERE forked_from = $1', [running.runId])).toEqual([]);
    release();
    await running.result();
  });
});
