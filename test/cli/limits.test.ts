/**
 * `braid limits ...` as real processes against one real `braid dev` serving fixtures/limits.ts
 * with a pool `llm` of 2.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { braid, type DevServer, parseJson, startDev, tempDb } from './harness.js';

const LIMITS_FIXTURE = path.join(import.meta.dirname, 'fixtures', 'limits.ts');
let dev: DevServer;
const api = () => ['--url', dev.url];

beforeAll(async () => {
  dev = await startDev(tempDb(), [LIMITS_FIXTURE, '--pool', 'llm=2']);
});

afterAll(async () => {
  dev.child.kill('SIGTERM');
  await dev.exited;
});

describe('braid limits', { timeout: 90_000 }, () => {
  it('lists maxRuns and pools, sets them at run time and resets them', async () => {
    const listed = await braid(['limits', ...api()]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain('max-runs send-invoice  2 per key');
    expect(listed.stdout).toContain('pool llm  busy 0/2  waiting 0');

    const set = await braid(['limits', 'set', 'max-runs', 'send-invoice', '5', ...api()]);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain('Set maxRuns of send-invoice to 5.');
    const pool = parseJson(await braid(['limits', 'set', 'pool', 'llm', '4', '--json', ...api()]));
    expect(pool).toMatchObject({ pool: 'llm', size: 4, defined: 2, setting: { value: 4 } });

    const json = parseJson(await braid(['limits', 'list', '--json', ...api()]));
    expect(json.maxRuns[0]).toMatchObject({ workflow: 'send-invoice', maxRuns: 5, defined: 2 });
    expect((await braid(['limits', ...api()])).stdout).toContain(
      'max-runs send-invoice  5 per key  (set at run time; defined 2)',
    );

    const reset = await braid(['limits', 'reset', 'max-runs', 'send-invoice', ...api()]);
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.stdout).toContain('Reset maxRuns of send-invoice to its value in code.');
    expect((await braid(['limits', 'reset', 'pool', 'llm', ...api()])).code).toBe(0);
    const after = parseJson(await braid(['limits', '--json', ...api()]));
    expect(after.maxRuns[0].setting).toBeNull();
    expect(after.pools[0]).toMatchObject({ size: 2, setting: null });
  });

  it('refuses a value that is not a whole number >= 1 (usage, exit 2), an unknown kind, workflow or pool', async () => {
    const zero = await braid(['limits', 'set', 'max-runs', 'send-invoice', '0', ...api()]);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain('must be a whole number >= 1');
    const kind = await braid(['limits', 'set', 'threads', 'x', '2', ...api()]);
    expect(kind.code).toBe(2);
    expect(kind.stderr).toMatch(/max-runs.*pool/);
    const workflow = await braid(['limits', 'set', 'max-runs', 'nope', '2', ...api()]);
    expect(workflow.code).toBe(4);
    expect(workflow.stderr).toContain('"nope" is not registered');
    const pool = await braid(['limits', 'reset', 'pool', 'gpu', ...api()]);
    expect(pool.code).not.toBe(0);
    expect(pool.stderr).toContain('No resource pool "gpu"');
  });
});
