/**
 * `braid schedules ...` as real processes against one real `braid dev` serving the workflows of
 * fixtures/workflows.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { braid, type DevServer, fetchRun, parseJson, startDev, tempDb, until } from './harness.js';

let dev: DevServer;
const api = () => ['--url', dev.url];

beforeAll(async () => {
  dev = await startDev(tempDb());
});

afterAll(async () => {
  dev.child.kill('SIGTERM');
  await dev.exited;
});

describe('braid schedules', { timeout: 90_000 }, () => {
  it('creates, lists, pauses, resumes, triggers, backfills and deletes a schedule', async () => {
    const created = await braid([
      'schedules',
      'create',
      '--workflow',
      'greet',
      '--id',
      'cli-greet',
      '--cron',
      '0 9 * * *',
      '--timezone',
      'Europe/Berlin',
      '--data',
      '{"name":"cron"}',
      '--overlap',
      'buffer_one',
      ...api(),
    ]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(
      /^Created schedule cli-greet {2}greet {2}"0 9 \* \* \*" Europe\/Berlin {2}next \S+T0[78]:00:00\.000Z/m,
    );

    const list = parseJson(await braid(['schedules', 'list', '--json', ...api()]));
    expect(list.map((s: { id: string }) => s.id)).toEqual(['cli-greet']);
    expect(list[0]).toMatchObject({ overlap: 'buffer_one', input: { name: 'cron' }, paused: false });

    const paused = await braid(['schedules', 'pause', 'cli-greet', ...api()]);
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toContain('Paused schedule cli-greet');
    expect(parseJson(await braid(['schedules', 'resume', 'cli-greet', '--json', ...api()])).paused).toBe(false);

    const triggered = await braid(['schedules', 'trigger', 'cli-greet', '--json', ...api()]);
    expect(triggered.code, triggered.stderr).toBe(0);
    const { runId } = parseJson(triggered);
    const done = await until(
      () => fetchRun(dev.url, runId),
      (r) => r.run.status === 'succeeded',
    );
    expect(done.run.schedule).toMatchObject({ id: 'cli-greet', scheduledAt: expect.any(Number) });

    const backfill = await braid([
      'schedules',
      'backfill',
      'cli-greet',
      '--from',
      '2026-01-01T00:00:00Z',
      '--to',
      '2026-01-02T23:59:59Z',
      ...api(),
    ]);
    expect(backfill.code, backfill.stderr).toBe(0);
    expect(backfill.stdout).toMatch(/^Started 2 run\(s\): \S+ \S+$/m);

    const deleted = await braid(['schedules', 'delete', 'cli-greet', ...api()]);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(parseJson(await braid(['schedules', 'list', '--json', ...api()]))).toEqual([]);
  });

  it('exits 4 for an unknown schedule and 5 for an invalid cron, with the message', async () => {
    const [missing, badCron] = await Promise.all([
      braid(['schedules', 'pause', 'nope', ...api()]),
      braid(['schedules', 'create', '--workflow', 'broken', '--cron', '61 * * * *', ...api()]),
    ]);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('No schedule has the id "nope"');
    expect(badCron.code).toBe(5);
    expect(badCron.stderr).toContain('`cron` "61 * * * *" is not a valid cron expression');
  });
});
