/** The processes that hold the database: `braid dev` and `braid worker`, started, stopped, killed. */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { braid, FIXTURE, fetchRun, finished, gate, parseJson, spawnBraid, startDev, tempDb, until } from './harness.js';

describe('braid dev', () => {
  it('serves the API with its token, keeps other executors off its file, and exits 0 on SIGTERM', async () => {
    const dev = await startDev(tempDb(), ['--token', 's3cret']);
    expect(dev.stdout()).toContain('workflows  broken, greet, leaf, save-note, fan, gated');
    const run = ['run', 'greet', '--input', '{"name": "fay"}', '--wait', '--url', dev.url];
    const [withoutToken, withToken, worker] = await Promise.all([
      braid(run),
      braid(run, { env: { BRAID_TOKEN: 's3cret' } }),
      braid(['worker', FIXTURE, '--db', dev.db, '--drain']),
    ]);
    expect(withoutToken.code).toBe(1);
    expect(withoutToken.stderr).toContain('--token');
    expect(withToken.code, withToken.stderr).toBe(0);
    expect(worker.code).toBe(1);
    expect(worker.stderr).toContain('is in use by another Braid executor');
    expect(fs.existsSync(`${dev.db}.lock`)).toBe(true);

    dev.child.kill('SIGTERM');
    const result = await dev.exited;
    expect(result.signal).toBeNull();
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/✔ greet \S+ succeeded in/);
    expect(result.stdout).toContain('SIGTERM: stopping');
    expect(fs.existsSync(`${dev.db}.lock`)).toBe(false);
  });
});

describe('braid worker', () => {
  it('finishes a run that a killed `braid dev` left unfinished', async () => {
    const dev = await startDev();
    const g = gate();
    const input = JSON.stringify({ gate: g.path });
    const { runId } = parseJson(await braid(['run', 'gated', '--input', input, '--json', '--url', dev.url]));
    await until(
      () => fetchRun(dev.url, runId),
      (r) => r.steps.find((s: { name: string }) => s.name === 'wait').status === 'running',
    );
    dev.child.kill('SIGKILL');
    expect((await dev.exited).signal).toBe('SIGKILL');
    g.open();

    const worker = await braid(['worker', FIXTURE, '--db', dev.db, '--drain']);
    expect(worker.code, worker.stderr).toBe(0);
    expect(worker.stdout).toContain('resumed    1 unfinished run');
    expect(worker.stdout).toContain(`${runId} (gated)`);
    expect(worker.stdout).toMatch(new RegExp(`✔ gated ${runId} succeeded in`));
    expect(worker.stdout).toContain('give them a PostgreSQL database');

    const report = parseJson(await braid(['show', runId, '--json', '--db', dev.db]));
    expect(report.run).toMatchObject({ status: 'succeeded', output: 'the gate was open' });
    // The step the kill interrupted ran again; the one that had finished did not.
    const attempts = Object.fromEntries(
      report.steps.map((s: { name: string; attempts: number }) => [s.name, s.attempts]),
    );
    expect(attempts).toEqual({ begin: 1, wait: 2, end: 1 });
  });

  it('waits for SIGTERM without --drain, then exits 0', async () => {
    const child = spawnBraid(['worker', FIXTURE, '--db', tempDb()]);
    const result = finished(child);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await until(
      async () => out,
      (text) => text.includes('Note: One executor runs a SQLite file at a time'),
    );
    child.kill('SIGTERM');
    const { code, stdout } = await result;
    expect(code).toBe(0);
    expect(stdout).toContain('resumed    0 unfinished runs');
  });
});
