import { describe, expect, it } from 'vitest';
import { defineWorkflow, workflow } from '../../src/index.js';
import { serverFixture } from './helpers.js';

const fixture = serverFixture();
const names = (steps: Array<{ name: string }>) => steps.map((s) => s.name);

describe('GET /api/runs/:id lists the steps in DAG order', () => {
  it('parents before children, also when the definition lists them in another order', async () => {
    // The data form takes steps in any order: here each step comes before its parent.
    const shuffled = defineWorkflow('shuffled', {}, [
      { name: 'publish', parents: ['review'], run: () => 'published' },
      { name: 'review', parents: ['draft', 'art'], run: () => 'reviewed' },
      { name: 'art', parents: ['brief'], run: () => 'drawn' },
      { name: 'draft', parents: ['brief'], run: () => 'written' },
      { name: 'brief', run: () => 'briefed' },
    ]);
    const { api, executor } = fixture.setup({ workflows: [shuffled] });
    const { runId } = await executor.execute(shuffled, {});
    const { body } = await api.get(`/api/runs/${runId}`);
    // Independent steps keep their declared order (art before draft).
    expect(names(body.steps)).toEqual(['brief', 'art', 'draft', 'review', 'publish']);
  });

  it('keeps the declared order of a builder definition, steps never reached included', async () => {
    const chain = workflow('chain')
      .step('zeta', () => 1)
      .step('alpha', { parents: ['zeta'] }, () => {
        throw new Error('stop here');
      })
      .step('mid', { parents: ['alpha'] }, () => 3);
    const { api, executor } = fixture.setup({ workflows: [chain] });
    const { runId } = await executor.execute(chain, {});
    const { body } = await api.get(`/api/runs/${runId}`);
    expect(body.steps.map((s: { name: string; status: string }) => [s.name, s.status])).toEqual([
      ['zeta', 'succeeded'],
      ['alpha', 'failed'],
      ['mid', 'cancelled'],
    ]);
  });
});
