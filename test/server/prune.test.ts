import { describe, expect, it } from 'vitest';
import { workflow } from '../../src/index.js';
import { serverFixture } from './helpers.js';

const fan = workflow('api-prune-child').step('one', () => 1);
const parent = workflow('api-prune').step('fan', (ctx) => ctx.join([ctx.spawnWorkflow(fan, {}, { key: 'a' })]));
const failing = workflow('api-prune-failing').step('boom', () => {
  throw new Error('boom');
});

describe('POST /api/prune', () => {
  const fixture = serverFixture();

  it('counts with dryRun, then deletes finished run trees and answers with the counts', async () => {
    const { executor, api } = fixture.setup({ workflows: [parent, failing] });
    const ok = await executor.execute(parent, {});
    await executor.execute(failing, {});
    const dry = await api.post('/api/prune', { dryRun: true });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ dryRun: true, roots: 2, runs: 3, batches: 0 });
    expect((await api.get(`/api/runs/${ok.context.runId}`)).status).toBe(200);

    const some = await api.post('/api/prune', { status: ['failed'], workflow: 'api-prune-failing' });
    expect(some.body).toMatchObject({ dryRun: false, roots: 1, runs: 1 });
    const rest = await api.post('/api/prune', { olderThan: 0, batchSize: 1 });
    expect(rest.body).toMatchObject({ roots: 1, runs: 2 });
    expect((await api.get(`/api/runs/${ok.context.runId}`)).status).toBe(404);
  });

  it('refuses bad fields with a 400 that names them, and deletes nothing', async () => {
    const { executor, api } = fixture.setup({ workflows: [parent] });
    const ok = await executor.execute(parent, {});
    const soon = await api.post('/api/prune', { olderThan: 'soon' });
    expect(soon.status).toBe(400);
    expect(soon.body.error).toMatchObject({ code: 'invalid_duration' });
    expect(soon.body.error.message).toContain('`olderThan`');
    const negative = await api.post('/api/prune', { olderThan: '-3d' });
    expect(negative.status).toBe(400);
    expect(negative.body.error.message).toContain('`olderThan`');
    for (const body of [{ status: 'timed_out' }, { batchSize: 0 }, { dryRun: 'yes' }, { everything: true }]) {
      const res = await api.post('/api/prune', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    expect((await api.get(`/api/runs/${ok.context.runId}`)).status).toBe(200);
  });
});
