/** `braid debounces` against a real `braid dev`: the pending debounced triggers, as a table or JSON. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { braid, type DevServer, parseJson, startDev } from './harness.js';

let dev: DevServer;
const api = () => ['--url', dev.url];
const HOUR = 3_600_000;

beforeAll(async () => {
  dev = await startDev();
});

afterAll(async () => {
  dev.child.kill('SIGTERM');
  await dev.exited;
});

async function trigger(user: string, n: number): Promise<string> {
  const result = await braid(['run', 'save-note', '--input', JSON.stringify({ user, n }), '--json', ...api()]);
  expect(result.code, result.stderr).toBe(0);
  return parseJson(result).runId;
}

describe('braid debounces', () => {
  it('lists each pending key with its run, triggers, due time and maxWait deadline; filters by workflow', async () => {
    const empty = await braid(['debounces', ...api()]);
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stdout.trim()).toBe('No pending debounces.');

    const ann = await trigger('ann', 1);
    expect(await trigger('ann', 2)).toBe(ann);
    const bob = await trigger('bob', 1);

    const json = await braid(['debounces', '--json', ...api()]);
    expect(json.code, json.stderr).toBe(0);
    const listed = parseJson<Array<Record<string, any>>>(json);
    expect(listed.map((d) => [d.key, d.runId, d.triggers])).toEqual([
      ['ann', ann, 2],
      ['bob', bob, 1],
    ]);
    const [annRow] = listed;
    expect(annRow).toMatchObject({ workflow: 'save-note', input: { user: 'ann', n: 2 }, windowMs: HOUR });
    expect(annRow?.maxWaitAt).toBe(annRow?.firstAt + 24 * HOUR);
    expect(annRow?.dueAt).toBe(annRow?.lastAt + HOUR);

    const text = await braid(['debounces', ...api()]);
    expect(text.code, text.stderr).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines[0]?.split(/\s{2,}/)).toEqual([
      'WORKFLOW',
      'KEY',
      'RUN',
      'TRIGGERS',
      'FIRST',
      'LAST',
      'DUE',
      'MAX WAIT',
    ]);
    expect(lines[1]).toMatch(new RegExp(`^save-note\\s+ann\\s+${ann}\\s+2 \\(1 superseded\\)`));
    expect(lines[2]).toMatch(new RegExp(`^save-note\\s+bob\\s+${bob}\\s+1\\s`));

    const other = await braid(['debounces', '--workflow', 'greet', '--json', ...api()]);
    expect(parseJson(other)).toEqual([]);
    const limited = await braid(['debounces', '--limit', '1', '--json', ...api()]);
    expect(parseJson<unknown[]>(limited)).toHaveLength(1);
  });

  it('a bad --limit exits 2 and says what is valid', async () => {
    const result = await braid(['debounces', '--limit', '0', ...api()]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('must be a whole number >= 1');
  });
});
