import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ManualClock, schedule, workflow } from '../../src/index.js';
import { serverFixture } from './helpers.js';

const T0 = Date.parse('2026-01-05T10:00:00.000Z');
const report = workflow('api-report', { input: z.object({ team: z.string() }) }).step('send', (ctx) => ({
  team: ctx.input.team,
  scheduledAt: ctx.schedule?.scheduledAt.getTime() ?? null,
}));

describe('/api/schedules', () => {
  const fixture = serverFixture();

  it('creates, lists, gets, pauses, resumes, triggers, backfills and deletes a schedule', async () => {
    const clock = new ManualClock(T0);
    const { executor, app, api } = fixture.setup({ clock, workflows: [report] });
    const created = await api.post('/api/schedules', {
      workflow: 'api-report',
      id: 'daily',
      cron: '0 9 * * *',
      timezone: 'Europe/Berlin',
      input: { team: 'core' },
      overlap: 'buffer_one',
      jitter: '10s',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: 'daily',
      overlap: 'buffer_one',
      jitterMs: 10_000,
      paused: false,
      input: { team: 'core' },
      nextFireAt: Date.parse('2026-01-06T08:00:00.000Z'),
    });
    expect((await api.get('/api/schedules')).body.schedules.map((s: { id: string }) => s.id)).toEqual(['daily']);
    expect((await api.post('/api/schedules/daily/pause')).body.paused).toBe(true);
    expect((await api.post('/api/schedules/daily/resume')).body.paused).toBe(false);

    const triggered = await api.post('/api/schedules/daily/trigger');
    expect(triggered.status).toBe(201);
    const run = await executor.getHandle(triggered.body.runId);
    expect((await run.result()).output).toEqual({ team: 'core', scheduledAt: T0 });
    // The run record says which schedule and tick started it.
    const runJson = await api.get(`/api/runs/${triggered.body.runId}`);
    expect(runJson.body.run.schedule).toEqual({
      id: 'daily',
      scheduledAt: T0,
      previousScheduledAt: null,
    });

    const backfill = await api.post('/api/schedules/daily/backfill', {
      from: '2026-01-01T00:00:00Z',
      to: '2026-01-03T23:59:59Z',
    });
    expect(backfill.status).toBe(201);
    expect(backfill.body.runIds).toHaveLength(3);
    await Promise.all(backfill.body.runIds.map(async (id: string) => (await executor.getHandle(id)).result()));
    const detail = await api.get('/api/schedules/daily');
    expect(detail.status).toBe(200);
    expect(detail.body.ticks.map((t: { source: string }) => t.source)).toEqual([
      'trigger',
      'backfill',
      'backfill',
      'backfill',
    ]);

    const deleted = await app.request('/api/schedules/daily', { method: 'DELETE' });
    expect(deleted.status).toBe(204);
    expect((await api.get('/api/schedules/daily')).status).toBe(404);
  });

  it('answers 404, 409 and 422 for bad requests, naming what is wrong', async () => {
    const wf = workflow('api-other').step('one', () => 1);
    const { api } = fixture.setup({
      workflows: [report, wf],
      schedules: [schedule(wf, { id: 'taken', cron: '* * * * *' })],
    });
    const missing = await api.get('/api/schedules/nope');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('schedule_not_found');
    for (const path of ['pause', 'resume', 'trigger']) {
      expect((await api.post(`/api/schedules/nope/${path}`)).status).toBe(404);
    }
    expect((await api.post('/api/schedules', { workflow: 'ghost', cron: '* * * * *' })).status).toBe(404);
    const taken = await api.post('/api/schedules', { workflow: 'api-other', id: 'taken', cron: '* * * * *' });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('schedule_exists');
    const cron = await api.post('/api/schedules', { workflow: 'api-report', cron: '99 * * * *', input: { team: 'x' } });
    expect(cron.status).toBe(422);
    expect(cron.body.error).toMatchObject({ code: 'invalid_cron' });
    expect(cron.body.error.message).toContain('`cron`');
    const tz = await api.post('/api/schedules', {
      workflow: 'api-report',
      cron: '* * * * *',
      timezone: 'Nowhere/City',
    });
    expect(tz.status).toBe(422);
    expect(tz.body.error.code).toBe('invalid_timezone');
    const window = await api.post('/api/schedules', {
      workflow: 'api-report',
      cron: '* * * * *',
      catchupWindow: 'soon',
      input: { team: 'x' },
    });
    expect(window.status).toBe(422);
    expect(window.body.error.message).toContain('catchupWindow');
    const overlap = await api.post('/api/schedules', { workflow: 'api-report', cron: '* * * * *', overlap: 'queue' });
    expect(overlap.status).toBe(400);
    const backfill = await api.post('/api/schedules/taken/backfill', { from: 5, to: 1 });
    expect(backfill.status).toBe(422);
    expect((await api.get('/api/schedules')).body.schedules).toHaveLength(1);
  });

  it('documents the schedule routes in the OpenAPI document', async () => {
    const { api } = fixture.setup();
    const doc = await api.get('/openapi.json');
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/api/schedules',
        '/api/schedules/{id}',
        '/api/schedules/{id}/pause',
        '/api/schedules/{id}/resume',
        '/api/schedules/{id}/trigger',
        '/api/schedules/{id}/backfill',
      ]),
    );
    expect(doc.body.components.schemas.Schedule).toBeDefined();
  });
});
