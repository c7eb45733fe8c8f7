import { describe, expect, it } from 'vitest';
import { ManualClock, workflow } from '../../src/index.js';
import { serverFixture, until } from './helpers.js';

const fixture = serverFixture();
const DAY = 86_400_000;
const START = Date.UTC(2030, 0, 1);

/** The API measures an unfinished run's duration up to the executor's "now", on its clock. */
describe('the API over an executor on a ManualClock', () => {
  it('shows a sleeping run’s and step’s durations in virtual time', async () => {
    const clock = new ManualClock(START);
    const sleeper = workflow('vc-api-sleeper', { timeoutSeconds: 0 }).step('nap', (ctx) => ctx.sleep('3d'));
    const { api, executor } = fixture.setup({ clock, workflows: [sleeper] });
    const { runId } = await executor.start(sleeper, null);
    await until(async () => (await api.get(`/api/runs/${runId}`)).body.run?.status === 'waiting');
    await clock.advance(DAY);

    const detail = (await api.get(`/api/runs/${runId}`)).body;
    expect(detail.run).toMatchObject({ startedAt: START, durationMs: DAY });
    expect(detail.steps.find((s: { name: string }) => s.name === 'nap')).toMatchObject({ durationMs: DAY });
    expect((await api.get('/api/runs')).body.runs[0]).toMatchObject({ id: runId, durationMs: DAY });
  });
});
