/**
 * `braid send-event`, `braid input`, and waits in `braid runs` and `braid show`, against one real
 * `braid dev` serving the waiting workflows of fixtures/waits.ts. Runs start through the API;
 * only the commands under test are processes.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { braid, type DevServer, fetchRun, parseJson, startDev, tempDb, until } from './harness.js';

const WAITS_FIXTURE = path.join(import.meta.dirname, 'fixtures', 'waits.ts');

let dev: DevServer;
const api = () => ['--url', dev.url];

beforeAll(async () => {
  dev = await startDev(tempDb(), [WAITS_FIXTURE]);
});

afterAll(async () => {
  dev.child.kill('SIGTERM');
  await dev.exited;
});

async function start(workflow: string, input: unknown): Promise<string> {
  const res = await fetch(`${dev.url}/api/workflows/${workflow}/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ input }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { runId: string }).runId;
}

const untilStatus = (runId: string, status: string) =>
  until(
    () => fetchRun(dev.url, runId),
    (r) => r.run.status === status,
    30_000,
  );

describe.concurrent('braid send-event', { timeout: 90_000 }, () => {
  it('sends an event: the step waiting for it goes on; --json prints what it did', async () => {
    const runId = await start('payment', { orderId: 'cli-1' });
    await until(
      () => fetchRun(dev.url, runId),
      (r) => r.waits.some((w: { kind: string; status: string }) => w.kind === 'event' && w.status === 'pending'),
    );
    const result = await braid(['send-event', 'order.paid', '--key', 'cli-1', '--data', '{"total": 42}', ...api()]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Sent order\.paid \(seq \d+\): 1 waiting step resolved\.$/m);
    const done = await untilStatus(runId, 'succeeded');
    expect(done.run.output).toEqual({ total: 42 });
  });

  it('with an idempotency key delivers once: the second send says so, and --json has duplicate: true', async () => {
    const args = ['send-event', 'order.paid', '--key', 'nobody', '--idempotency-key', 'cli-once', ...api()];
    const first = parseJson(await braid([...args, '--json']));
    expect(first).toEqual({ seq: expect.any(Number), duplicate: false, delivered: 0, started: [] });
    const again = await braid(args);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`order.paid with idempotency key "cli-once" was sent before (seq ${first.seq})`);
  });

  it('says which runs an event started, and that it waits in the inbox when no step waits for it', async () => {
    const result = await braid(['send-event', 'order.shipped', '--data', '{"orderId": "S-1"}', ...api()]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('no step waits for it now; a step that waits for it later gets it');
    const started = /^Started on-shipped (\S+)\. Follow it: braid show \1$/m.exec(result.stdout);
    expect(started, result.stdout).not.toBeNull();
    expect((await untilStatus(started![1]!, 'succeeded')).run.output).toBe('shipped S-1');
  });

  it('refuses --data with a number JSON cannot carry (it was sent as null), and a payload the trigger refuses', async () => {
    const [infinite, refused] = await Promise.all([
      braid(['send-event', 'order.paid', '--data', '{"total": 1e999}', '--json', ...api()]),
      braid(['send-event', 'order.shipped', '--data', '{"orderId": 7}', ...api()]),
    ]);
    expect(infinite.code).toBe(2);
    expect(parseJson(infinite).error.code).toBe('invalid_argument');
    expect(parseJson(infinite).error.message).toContain('Infinity');
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/- orderId: .*expected string/);
  });
});

describe.concurrent('braid input', { timeout: 90_000 }, () => {
  it('gives the value the run waits for: the run goes on', async () => {
    const runId = await start('approval', { amount: 10 });
    await untilStatus(runId, 'waiting');
    const result = await braid(['input', runId, 'approve', '--data', '{"approved": true, "by": "Ada"}', ...api()]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Gave input approve to run ${runId}`);
    expect((await untilStatus(runId, 'succeeded')).run.output).toBe('paid by Ada');
  });

  it('exits 5 with the issues for a value the schema refuses, and changes nothing', async () => {
    const runId = await start('approval', { amount: 11 });
    await untilStatus(runId, 'waiting');
    const data = '{"approved": "yes", "by": "A"}';
    const [text, json] = await Promise.all([
      braid(['input', runId, 'approve', '--data', data, ...api()]),
      braid(['input', runId, 'approve', '--data', data, '--json', ...api()]),
    ]);
    expect(text.code).toBe(5);
    expect(text.stderr).toContain('does not match its schema');
    // The step's own schema (zod here) checks the value, so its messages are the ones shown.
    expect(text.stderr).toContain('- approved: Invalid input: expected boolean, received string');
    expect(json.code).toBe(5);
    const { error } = parseJson(json);
    expect(error.code).toBe('invalid_input_value');
    expect(error.issues).toEqual(
      expect.arrayContaining([{ path: ['approved'], message: 'Invalid input: expected boolean, received string' }]),
    );
    const after = await fetchRun(dev.url, runId);
    expect(after.run.status).toBe('waiting');
    expect(after.waits[0].status).toBe('pending');

    const json2 = parseJson(
      await braid(['input', runId, 'approve', '--data', '{"approved":false,"by":"Bo"}', '--json', ...api()]),
    );
    expect(json2).toEqual({ runId, name: 'approve', key: 'input:approve#0' });
  });

  it('exits 4 for an unknown run, 1 for an input the run does not wait for', async () => {
    const runId = await start('approval', { amount: 12 });
    await untilStatus(runId, 'waiting');
    const [unknownRun, unknownInput] = await Promise.all([
      braid(['input', 'no-such-run', 'approve', '--data', '1', ...api()]),
      braid(['input', runId, 'approval', '--data', '1', '--json', ...api()]),
    ]);
    expect(unknownRun.code).toBe(4);
    expect(unknownRun.stderr).toContain('No run with id "no-such-run"');
    expect(unknownInput.code).toBe(1);
    expect(parseJson(unknownInput).error).toMatchObject({
      code: 'input_not_awaited',
      message: expect.stringContaining('it waits for "approve"'),
    });
    await fetch(`${dev.url}/api/runs/${runId}/cancel`, { method: 'POST' });
  });
});

describe.concurrent('waits in runs and show', { timeout: 90_000 }, () => {
  it('runs --status waiting lists the waiting runs, through the server and from the file', async () => {
    const waiting = await start('napper', {});
    await untilStatus(waiting, 'waiting');
    const [file, table] = await Promise.all([
      braid(['runs', '--status', 'waiting', '--workflow', 'napper', '--json', '--db', dev.db]),
      braid(['runs', '--status', 'waiting', '--workflow', 'napper', ...api()]),
    ]);
    expect(file.code, file.stderr).toBe(0);
    const { runs } = parseJson(file);
    expect(runs.map((r: { id: string }) => r.id)).toContain(waiting);
    expect(runs.every((r: { status: string }) => r.status === 'waiting')).toBe(true);
    expect(table.stdout).toMatch(new RegExp(`^${waiting}\\s+napper\\s+◷ waiting`, 'm'));
    await fetch(`${dev.url}/api/runs/${waiting}/cancel`, { method: 'POST' });
  });

  it('show prints what a run waits for, the request and how to answer; then the settled wait in a line', async () => {
    const runId = await start('approval', { amount: 30 });
    await untilStatus(runId, 'waiting');
    const [text, fromFile, json] = await Promise.all([
      braid(['show', runId, ...api()]),
      braid(['show', runId, '--db', dev.db]),
      braid(['show', runId, '--json', ...api()]),
    ]);
    for (const result of [text, fromFile]) {
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/^ask\s+◷ waiting\s+1/m);
      expect(result.stdout).toContain('waiting for:');
      expect(result.stdout).toMatch(
        /^ {2}ask: input "approve", until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(in 59m \d\ds\)$/m,
      );
      expect(result.stdout).toContain('    request: {"question":"Pay this?","amount":30}');
      expect(result.stdout).toContain('    value:   { approved: boolean, by: string }');
      expect(result.stdout).toContain(`    answer:  braid input ${runId} approve --data '<json>'`);
    }
    expect(parseJson(json).waits).toEqual([
      expect.objectContaining({ step: 'ask', kind: 'input', name: 'approve', status: 'pending' }),
    ]);

    await braid(['input', runId, 'approve', '--data', '{"approved": true, "by": "Cy"}', ...api()]);
    await untilStatus(runId, 'succeeded');
    const after = await braid(['show', runId, ...api()]);
    expect(after.stdout).not.toContain('waiting for:');
    expect(after.stdout).toContain('settled waits:');
    expect(after.stdout).toMatch(/^ {2}✔ ask: input "approve" resolved \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/m);
  });

  it('show lists sleeps and event waits with their deadline, and the finished sleep of a step', async () => {
    const [napping, paying] = await Promise.all([start('napper', {}), start('payment', { orderId: 'show-1' })]);
    await untilStatus(napping, 'waiting');
    await until(
      () => fetchRun(dev.url, paying),
      (r) => r.waits.some((w: { kind: string }) => w.kind === 'event'),
    );
    const [nap, pay] = await Promise.all([braid(['show', napping, ...api()]), braid(['show', paying, ...api()])]);
    expect(nap.stdout).toMatch(/^ {2}nap: sleep, until \S+ \S+ \(in 23h 59m\)$/m);
    expect(pay.stdout).toContain('  confirm: event "order.paid" with key "show-1", no time limit');
    expect(pay.stdout).toMatch(/^ {2}✔ settle: sleep resolved /m);
    await Promise.all([napping, paying].map((id) => fetch(`${dev.url}/api/runs/${id}/cancel`, { method: 'POST' })));
  });

  it('run --wait follows a run that waits for an input to its end', async () => {
    const args = ['run', 'approval', '--input', '{"amount": 5}', '--wait', '--json', ...api()];
    const waiter = braid(args);
    // The run is the newest approval run waiting: answer it.
    const runId = await until(
      async () => {
        const res = await fetch(`${dev.url}/api/runs?workflow=approval&status=waiting&limit=100`);
        const { runs } = (await res.json()) as { runs: Array<{ id: string; input: { amount: number } }> };
        return runs.find((r) => r.input.amount === 5)?.id;
      },
      (id) => id !== undefined,
      30_000,
    );
    const answered = await braid([
      'input',
      runId!,
      'approve',
      '--data',
      '{"approved": false, "by": "Di"}',
      '--json',
      ...api(),
    ]);
    expect(answered.code, answered.stderr).toBe(0);
    expect(parseJson(answered)).toEqual({ runId, name: 'approve', key: 'input:approve#0' });
    const result = await waiter;
    expect(result.code, result.stderr).toBe(0);
    const report = parseJson(result);
    expect(report.run).toMatchObject({ id: runId, status: 'succeeded', output: 'refused' });
    expect(report.waits).toEqual([expect.objectContaining({ name: 'approve', status: 'resolved' })]);
  });
});
