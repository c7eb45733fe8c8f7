/**
 * `braid run | runs | show | pause | resume | cancel | replay` against one real `braid dev`. The
 * tests run concurrently (each has its own runs and keys): most of their time is process start-up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { braid, type DevServer, fetchRun, finished, gate, parseJson, spawnBraid, startDev, until } from './harness.js';

let dev: DevServer;
const api = () => ['--url', dev.url];

beforeAll(async () => {
  dev = await startDev();
});

afterAll(async () => {
  dev.child.kill('SIGTERM');
  await dev.exited;
});

interface RunList {
  runs: Array<{ id: string }>;
}

/** Runs a workflow to its end through the API (no `braid` process); returns the run id. */
async function runToEnd(workflow: string, input: unknown): Promise<string> {
  const res = await fetch(`${dev.url}/api/workflows/${workflow}/runs?wait=true`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ input }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { runId: string }).runId;
}

/** Starts a run without waiting; returns its id. */
async function start(workflow: string, input: unknown, extra: string[] = []): Promise<string> {
  const result = await braid(['run', workflow, '--input', JSON.stringify(input), '--json', ...api(), ...extra]);
  expect(result.code, result.stderr).toBe(0);
  return parseJson(result).runId;
}

const show = async (runId: string) => parseJson(await braid(['show', runId, '--json', ...api()]));

describe.concurrent('braid run', () => {
  it('--wait on a succeeding workflow exits 0 and prints the output', async () => {
    const result = await braid(['run', 'greet', '--input', '{"name": "ada"}', '--wait', ...api()]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('succeeded');
    expect(result.stdout).toContain('"hello ADA"');
  });

  it('--wait --json prints the run, its steps and its output as JSON', async () => {
    const result = await braid(['run', 'greet', '--input', '{"name": "bo"}', '--wait', '--json', ...api()]);
    expect(result.code, result.stderr).toBe(0);
    const report = parseJson(result);
    expect(report.run).toMatchObject({ workflow: 'greet', status: 'succeeded', output: 'hello BO' });
    expect(report.steps.map((s: { name: string; status: string }) => [s.name, s.status])).toEqual([
      ['shout', 'succeeded'],
      ['say', 'succeeded'],
    ]);
  });

  it('without --wait prints the run id; an idempotency key names the same run again', async () => {
    const args = ['run', 'greet', '--input', '{"name": "cy"}', '--idempotency-key', 'cli-test-key', '--json', ...api()];
    const first = parseJson(await braid(args));
    const second = parseJson(await braid(args));
    expect(first).toMatchObject({ workflow: 'greet', created: true });
    expect(second).toEqual({ runId: first.runId, workflow: 'greet', created: false });
  });

  it('a failing workflow exits 1 with its error', async () => {
    const [text, json] = await Promise.all([
      braid(['run', 'broken', '--wait', ...api()]),
      braid(['run', 'broken', '--wait', '--json', ...api()]),
    ]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('failed');
    expect(text.stdout).toContain('boom: this step always fails');
    expect(json.code).toBe(1);
    expect(parseJson(json).run).toMatchObject({
      status: 'failed',
      error: { message: expect.stringContaining('boom') },
    });
  });

  it('input the schema refuses exits 5 with the issues, and starts no run', async () => {
    const [text, json] = await Promise.all([
      braid(['run', 'greet', '--input', '{"name": 42}', '--wait', ...api()]),
      braid(['run', 'greet', '--input', '{"name": 42}', '--json', ...api()]),
    ]);
    expect(text.code).toBe(5);
    expect(text.stderr).toContain('does not match its schema');
    expect(text.stderr).toMatch(/- name: .*expected string/);
    expect(json.code).toBe(5);
    const { error } = parseJson(json);
    expect(error.code).toBe('invalid_input');
    expect(error.issues[0].path).toEqual(['name']);
  });

  it('--priority gives the run its priority; without it the run has the default, 0', async () => {
    const [high, low, plain] = await Promise.all([
      start('greet', { name: 'pri' }, ['--priority', '42']),
      start('greet', { name: 'pri' }, ['--priority', '-100']),
      start('greet', { name: 'pri' }),
    ]);
    const runs = await Promise.all([high, low, plain].map(show));
    expect(runs.map((r) => r.run.priority)).toEqual([42, -100, 0]);
  });

  it('a --priority that is not a whole number from -100 to 100 exits 2, says what is valid, starts nothing', async () => {
    const bad = ['101', '-101', '1.5', 'high', '', '0x10'];
    const results = await Promise.all(
      bad.map((value) => braid(['run', 'greet', '--input', '{"name": "no"}', '--priority', value, ...api()])),
    );
    for (const [i, result] of results.entries()) {
      expect(result.code, `--priority ${bad[i]}`).toBe(2);
      expect(result.stderr).toContain('must be a whole number from -100 to 100');
    }
    const json = await braid(['run', 'greet', '--priority', '500', '--json', ...api()]);
    expect(json.code).toBe(2);
    expect(parseJson(json).error).toMatchObject({
      code: 'invalid_argument',
      message: expect.stringContaining('--priority'),
    });
    await start('greet', { name: 'yes' }, ['--priority', '+5']);
    // Through the API, not a `braid show` per run: nothing started with a refused priority.
    const res = await fetch(`${dev.url}/api/runs?workflow=greet&limit=1000`);
    const { runs } = (await res.json()) as { runs: Array<{ input: { name?: string } | null }> };
    expect(runs.filter((r) => r.input?.name === 'no')).toEqual([]);
    expect(runs.filter((r) => r.input?.name === 'yes')).toHaveLength(1);
  });

  it('an unknown workflow exits 4 and says how to register it', async () => {
    const result = await braid(['run', 'no-such-workflow', ...api()]);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('"no-such-workflow" is not registered');
    expect(result.stderr).toContain('braid dev');
  });
});

describe.concurrent('braid runs and show', () => {
  it('an unknown run exits 4 from every command that takes one', async () => {
    const results = await Promise.all(
      ['show', 'cancel', 'pause', 'resume', 'replay'].map((command) => braid([command, 'no-such-run', ...api()])),
    );
    for (const result of results) {
      expect(result.code, result.stderr).toBe(4);
      expect(result.stderr).toContain('No run with id "no-such-run"');
    }
  });

  it('runs --json lists the runs, with filters, through the server or the file', async () => {
    const runId = await start('greet', { name: 'dee' });
    await until(
      () => fetchRun(dev.url, runId),
      (r) => r.run.status === 'succeeded',
    );
    const [all, filtered, none, fromFile] = await Promise.all([
      braid(['runs', '--json', ...api()]),
      braid(['runs', '--json', '--workflow', 'greet', '--status', 'succeeded,failed', '--limit', '100', ...api()]),
      braid(['runs', '--json', '--workflow', 'broken', '--status', 'succeeded', ...api()]),
      braid(['runs', '--json', '--workflow', 'greet', '--limit', '100', '--db', dev.db]),
    ]);
    const ids = (result: typeof all) => parseJson(result).runs.map((r: { id: string }) => r.id);
    expect(ids(all)).toContain(runId);
    expect(ids(filtered)).toContain(runId);
    expect(parseJson(filtered).runs.every((r: { workflow: string }) => r.workflow === 'greet')).toBe(true);
    expect(parseJson(none)).toEqual({ runs: [], nextCursor: null });
    expect(ids(fromFile)).toContain(runId);

    const table = await braid(['runs', '--workflow', 'greet', ...api()]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^RUN\s+WORKFLOW\s+STATUS\s+CREATED\s+DURATION\s+PARENT$/m);
    expect(table.stdout).toContain(runId);
  });

  // These start their runs through the API and check the server's view with fetch: only the
  // commands under test are processes, which keeps the file's start-ups few on a busy machine.
  it('the "More:" hint under a full page repeats the filters: following it pages through the same runs', async () => {
    const parent = await runToEnd('fan', { n: 3 });
    const seen: string[] = [];
    let args = ['runs', '--parent', parent, '--limit', '2', ...api()];
    for (let page = 0; page < 3; page++) {
      const result = await braid(args);
      expect(result.code, result.stderr).toBe(0);
      seen.push(...(result.stdout.match(/^\S+(?=\s+leaf\s)/gm) ?? []));
      const hint = /^More: braid (.+)$/m.exec(result.stdout);
      if (!hint) break;
      expect(hint[1]).toContain(`--parent ${parent} --limit 2 --url ${dev.url} --cursor `);
      args = hint[1]!.split(' ');
    }
    const children = (await (await fetch(`${dev.url}/api/runs?parentRunId=${parent}`)).json()) as RunList;
    expect(seen.sort()).toEqual(children.runs.map((r) => r.id).sort());
    expect(seen).toHaveLength(3);
  });

  it('the hint keeps every filter, with times as ISO 8601', async () => {
    const since = Date.now() - 1;
    await Promise.all([runToEnd('greet', { name: 'hint one' }), runToEnd('greet', { name: 'hint two' })]);
    // Runs other tests start from now on are outside the window: both reads see the same runs.
    const until = new Date(Date.now() + 1).toISOString();
    const filters = ['--workflow', 'greet', '--status', 'queued,running,succeeded', '--since', String(since)];
    const args = ['runs', ...filters, '--until', until, '--limit', '1', ...api()];
    const [table, json] = await Promise.all([braid(args), braid([...args, '--json'])]);
    expect(table!.code, table!.stderr).toBe(0);
    const { nextCursor } = parseJson(json!);
    expect(nextCursor).toEqual(expect.any(String));
    expect(table!.stdout).toContain(
      `More: braid runs --workflow greet --status queued,running,succeeded --since ${new Date(since).toISOString()} ` +
        `--until ${until} --limit 1 --url ${dev.url} --cursor ${nextCursor}`,
    );
  });

  it('show from the database file lists the steps in DAG order, as the server does', async () => {
    const g = gate();
    g.open();
    const runIds = await Promise.all([runToEnd('gated', { gate: g.path }), runToEnd('fan', { n: 1 })]);
    const names = (report: { steps: Array<{ name: string }> }) => report.steps.map((s) => s.name);
    const servers = await Promise.all(runIds.map((runId) => fetchRun(dev.url, runId)));
    expect(servers.map(names)).toEqual([
      ['begin', 'wait', 'end'],
      ['spawn', 'report'],
    ]);
    const [gatedFile, fanFile, gatedText] = await Promise.all([
      ...runIds.map((runId) => braid(['show', runId, '--json', '--db', dev.db]).then((r) => parseJson(r))),
      braid(['show', runIds[0]!, '--db', dev.db]),
    ]);
    expect([names(gatedFile), names(fanFile)]).toEqual(servers.map(names));
    const rows = gatedText.stdout.split('\n').filter((line: string) => /^\w+\s+✔ succeeded/.test(line));
    expect(rows.map((line: string) => line.split(/\s+/)[0])).toEqual(['begin', 'wait', 'end']);
  });

  it('show --json has the steps and the children counts, per run and per step', async () => {
    const result = await braid(['run', 'fan', '--input', '{"n": 5}', '--wait', '--json', ...api()]);
    expect(result.code, result.stderr).toBe(0);
    const runId = parseJson(result).run.id;
    const report = await show(runId);
    expect(report.run).toMatchObject({ status: 'succeeded', output: { total: 20 } });
    expect(report.steps.map((s: { name: string }) => s.name)).toEqual(['spawn', 'report']);
    expect(report.children).toEqual({
      total: 5,
      counts: { succeeded: 5 },
      byStep: { spawn: { total: 5, counts: { succeeded: 5 } } },
    });
    expect(parseJson(await braid(['show', runId, '--json', '--db', dev.db])).children).toEqual(report.children);

    const child = parseJson(await braid(['runs', '--json', '--parent', runId, ...api()])).runs[0];
    expect((await show(child.id)).parent).toEqual({ runId, step: 'spawn' });

    const text = await braid(['show', runId, ...api()]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/spawn\s+✔ succeeded\s+1\s+.*5\/5 succeeded/);
    expect(text.stdout).toContain('"total": 20');
    expect((await braid(['show', child.id, ...api()])).stdout).toContain(`spawned by ${runId} (step spawn)`);
  });
});

describe.concurrent('steering a run', () => {
  it('pause stops the run after its running step; resume --wait finishes it', async () => {
    const g = gate();
    const runId = await start('gated', { gate: g.path });
    const paused = await braid(['pause', runId, ...api()]);
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toContain(`Paused ${runId}: now paused`);
    g.open();
    const stopped = await until(
      () => fetchRun(dev.url, runId),
      (r) => r.steps.every((s: { status: string }) => s.status !== 'running'),
    );
    expect(stopped.run.status).toBe('paused');
    const statuses = Object.fromEntries(stopped.steps.map((s: { name: string; status: string }) => [s.name, s.status]));
    expect(statuses).toEqual({ begin: 'succeeded', wait: 'succeeded', end: 'pending' });
    // Its duration stops at the pause, through the server and read from the file alone.
    const fromFile = parseJson(await braid(['show', runId, '--json', '--db', dev.db]));
    for (const report of [await fetchRun(dev.url, runId), fromFile]) {
      expect(report.run.pausedAt).toEqual(expect.any(Number));
      expect(report.run.durationMs).toBe(report.run.pausedAt - report.run.startedAt);
    }

    const resumed = await braid(['resume', runId, '--wait', '--json', ...api()]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(parseJson(resumed).run).toMatchObject({ status: 'succeeded', output: 'the gate was open' });
  });

  it('cancel ends a run that someone waits for: the waiter exits 1; cancelling again is refused', async () => {
    const input = JSON.stringify({ gate: gate().path });
    const waiter = finished(
      spawnBraid(['run', 'gated', '--input', input, '--idempotency-key', 'cancel-me', '--wait', ...api()]),
    );
    // The same key names the run the waiter started (or starts it, if this comes first).
    const runId = await start('gated', JSON.parse(input), ['--idempotency-key', 'cancel-me']);
    const cancelled = await braid(['cancel', runId, '--reason', 'test', '--json', ...api()]);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(parseJson(cancelled)).toEqual({ runId, status: 'cancelled' });

    const waited = await waiter;
    expect(waited.code).toBe(1);
    expect(waited.stdout).toContain('cancelled');
    expect((await show(runId)).run.status).toBe('cancelled');

    const again = await braid(['cancel', runId, ...api()]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('it is cancelled');
  });

  it('replay starts a new run with the same input', async () => {
    const original = await start('greet', { name: 'eve' });
    const result = await braid(['replay', original, '--wait', '--json', ...api()]);
    expect(result.code, result.stderr).toBe(0);
    const report = parseJson(result);
    expect(report.run.id).not.toBe(original);
    expect(report.replayOf).toBe(original);
    expect(report.run).toMatchObject({ status: 'succeeded', output: 'hello EVE' });
  });
});

describe.concurrent('braid fork', () => {
  it('--from a step with a new --input --wait: the steps before it are reused, the rest run with the new input', async () => {
    const original = await runToEnd('greet', { name: 'fay' });
    const result = await braid([
      'fork',
      original,
      '--from',
      'say',
      '--input',
      '{"name": "gus"}',
      '--wait',
      '--json',
      ...api(),
    ]);
    expect(result.code, result.stderr).toBe(0);
    const report = parseJson(result);
    expect(report.run.id).not.toBe(original);
    // `shout` kept the original's output (FAY); `say` ran again.
    expect(report.run).toMatchObject({ status: 'succeeded', output: 'hello FAY', input: { name: 'gus' } });
    const detail = (await (await fetch(`${dev.url}/api/runs/${report.run.id}`)).json()) as {
      forkedFrom: { runId: string; step: string };
      steps: Array<{ name: string; reusedFrom?: string | null }>;
    };
    expect(detail.forkedFrom).toMatchObject({ runId: original, step: 'say' });
    expect(detail.steps.find((s) => s.name === 'shout')?.reusedFrom).toBe(original);

    const plain = await braid(['fork', original, '--from', 'shout', ...api()]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(/^Forked .* from step "shout" as \S+\./);
  });

  it('bad requests: unknown run exits 4, input the schema refuses or an unknown step exits 5; nothing starts', async () => {
    const original = await runToEnd('greet', { name: 'hal' });
    const before = (await (await fetch(`${dev.url}/api/runs/${original}`)).json()) as { forks: unknown[] };
    expect(before.forks).toEqual([]);
    const [missing, invalid, unknownStep, noFrom] = await Promise.all([
      braid(['fork', 'no-such-run', '--from', 'say', '--json', ...api()]),
      braid(['fork', original, '--from', 'say', '--input', '{"name": 1}', '--json', ...api()]),
      braid(['fork', original, '--from', 'nope', ...api()]),
      braid(['fork', original, ...api()]),
    ]);
    expect(missing.code).toBe(4);
    expect(parseJson(missing).error.code).toBe('run_not_found');
    expect(invalid.code).toBe(5);
    expect(parseJson(invalid).error.code).toBe('invalid_input');
    expect(unknownStep.code).toBe(5);
    expect(unknownStep.stderr).toContain('has no step of that name');
    expect(noFrom.code).toBe(2);
    expect(noFrom.stderr).toContain('--from');
    const after = (await (await fetch(`${dev.url}/api/runs/${original}`)).json()) as { forks: unknown[] };
    expect(after.forks).toEqual([]);
  });
});
