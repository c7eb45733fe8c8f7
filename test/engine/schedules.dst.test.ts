import { describe, expect, it } from 'vitest';
import { ManualClock, type ScheduleInfo, schedule, type WorkflowExecutor, workflow } from '../../src/index.js';
import { useEngineFixture } from './helpers.js';

/**
 * Daylight saving in Europe/Berlin, 2026: on 29 March local time jumps from 02:00 to 03:00 (01:00 UTC),
 * on 25 October from 03:00 back to 02:00 (01:00 UTC), so 02:00-02:59 happens twice.
 */
describe('schedules across a daylight-saving change (Europe/Berlin)', () => {
  const fixture = useEngineFixture();

  async function ticksBetween(cron: string, from: string, to: string): Promise<string[]> {
    const clock = new ManualClock(Date.parse(from));
    const seen: Array<ScheduleInfo | undefined> = [];
    const wf = workflow('dst').step('record', (ctx) => {
      seen.push(ctx.schedule);
    });
    const executor: WorkflowExecutor = fixture.executor({
      clock,
      schedules: [schedule(wf, { id: 'dst', cron, timezone: 'Europe/Berlin' })],
    });
    await executor.open();
    const end = Date.parse(to);
    // Step from one due time to the next, as a live process would.
    for (let due = clock.nextDueAt(); due !== undefined && due <= end; due = clock.nextDueAt()) {
      await clock.advanceTo(due);
      await executor.schedulesIdle();
      await clock.advance(0);
    }
    const ticks = await executor.scheduleTicks('dst');
    expect(ticks.every((t) => t.status === 'started')).toBe(true);
    return seen.map((s) => s?.scheduledAt.toISOString() ?? 'none');
  }

  it('spring gap: a daily 02:30 that does not exist fires once, at 03:00 local (the first instant after the gap)', async () => {
    expect(await ticksBetween('30 2 * * *', '2026-03-27T12:00:00Z', '2026-03-30T12:00:00Z')).toEqual([
      '2026-03-28T01:30:00.000Z', // 02:30 CET
      '2026-03-29T01:00:00.000Z', // 03:00 CEST: 02:30 did not exist
      '2026-03-30T00:30:00.000Z', // 02:30 CEST
    ]);
  });

  it('autumn repeat: a daily 02:30 that happens twice fires once, at its first occurrence', async () => {
    expect(await ticksBetween('30 2 * * *', '2026-10-24T12:00:00Z', '2026-10-26T12:00:00Z')).toEqual([
      '2026-10-25T00:30:00.000Z', // 02:30 CEST (the first 02:30); not again at 02:30 CET
      '2026-10-26T01:30:00.000Z', // 02:30 CET
    ]);
  });

  it('hourly: every real hour fires once, so the repeated 02:00 fires twice and the missing one never', async () => {
    expect(await ticksBetween('0 * * * *', '2026-10-24T23:30:00Z', '2026-10-25T02:30:00Z')).toEqual([
      '2026-10-25T00:00:00.000Z', // 02:00 CEST
      '2026-10-25T01:00:00.000Z', // 02:00 CET
      '2026-10-25T02:00:00.000Z', // 03:00 CET
    ]);
    expect(await ticksBetween('0 * * * *', '2026-03-28T23:30:00Z', '2026-03-29T02:30:00Z')).toEqual([
      '2026-03-29T00:00:00.000Z', // 01:00 CET
      '2026-03-29T01:00:00.000Z', // 03:00 CEST (02:00 does not exist)
      '2026-03-29T02:00:00.000Z', // 04:00 CEST
    ]);
  });
});
