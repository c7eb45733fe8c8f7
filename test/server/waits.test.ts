/** The HTTP surfaces of durable waits: events in, inputs in, and waits shown on runs. */
import { describe, expect, it } from 'vitest';
import type { WorkflowExecutor } from '../../src/index.js';
import { serverFixture, until } from './helpers.js';
import { approval, napper, onShipped, payment } from './waits.fixtures.js';

const fixture = serverFixture();

function setup() {
  return fixture.setup({ workflows: [approval, payment, napper, onShipped] });
}

async function untilWaiting(executor: WorkflowExecutor, runId: string): Promise<void> {
  await until(async () => (await executor.store.getRun(runId))?.status === 'waiting');
}

const inbox = (executor: WorkflowExecutor) => executor.store.listInbox({ limit: 1000 });

describe('POST /api/events', () => {
  it('records the event, resolves the step waiting for it, and answers 201 with what it did', async () => {
    const { api, executor } = setup();
    const run = await executor.start(payment, { orderId: 'A-1' });
    await untilWaiting(executor, run.runId);

    const res = await api.post('/api/events', { name: 'order.paid', payload: { total: 42 }, key: 'A-1' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ seq: expect.any(Number), duplicate: false, delivered: 1, started: [] });
    const result = await run.result();
    expect(result.output).toEqual({ total: 42 });
  });

  it('delivers an event with an idempotency key once: a second send answers 200, duplicate, delivered 0', async () => {
    const { api, executor } = setup();
    const run = await executor.start(payment, { orderId: 'B-2' });
    await untilWaiting(executor, run.runId);
    const first = await api.post('/api/events', { name: 'order.paid', key: 'B-2', idempotencyKey: 'webhook-7' });
    expect((await run.result()).output).toBeNull(); // no payload: null
    const again = await api.post('/api/events', { name: 'order.paid', key: 'B-2', idempotencyKey: 'webhook-7' });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ duplicate: false, delivered: 1 });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ seq: first.body.seq, duplicate: true, delivered: 0, started: [] });
    expect(await inbox(executor)).toHaveLength(1);
  });

  it('starts the workflows the event triggers, and lists them', async () => {
    const { api, executor } = setup();
    const res = await api.post('/api/events', { name: 'order.shipped', payload: { orderId: 'C-3' } });
    expect(res.status).toBe(201);
    expect(res.body.started).toEqual([{ workflow: 'on-shipped', runId: expect.any(String) }]);
    const result = await (await executor.getHandle(res.body.started[0].runId)).result();
    expect(result.output).toBe('shipped C-3');
  });

  it.each([
    ['no name', {}, 400, 'invalid_request'],
    ['an empty name', { name: '' }, 400, 'invalid_request'],
    ['a name that is not a string', { name: 7 }, 400, 'invalid_request'],
    ['a name over 200 characters', { name: 'n'.repeat(201) }, 400, 'invalid_request'],
    ['an empty key', { name: 'order.paid', key: '' }, 400, 'invalid_request'],
    ['an idempotency key that is not a string', { name: 'order.paid', idempotencyKey: 1 }, 400, 'invalid_request'],
    [
      'a payload JSON cannot hold (1e999 reads as Infinity)',
      '{"name":"order.paid","payload":1e999}',
      422,
      'invalid_event',
    ],
    [
      'a payload a triggered workflow refuses',
      { name: 'order.shipped', payload: { orderId: 5 } },
      422,
      'invalid_input',
    ],
    ['a body that is not an object', '[1]', 400, 'invalid_request'],
  ])('refuses %s, and records nothing', async (_what, body, status, code) => {
    const { api, executor } = setup();
    const res = await api.post('/api/events', body);
    expect(res.status).toBe(status);
    expect(res.body.error).toMatchObject({ code, message: expect.any(String) });
    expect(await inbox(executor)).toEqual([]);
    expect((await executor.store.listRuns({})).runs).toEqual([]);
  });

  it('says what the event was for when its payload cannot be stored', async () => {
    const { api } = setup();
    const res = await api.post('/api/events', '{"name":"order.paid","payload":{"total":1e999}}');
    expect(res.status).toBe(422);
    expect(res.body.error.message).toContain('order.paid');
    expect(res.body.error.message).toContain('Infinity');
  });
});

describe('GET /api/events as JSON: the inbox', () => {
  it('lists the events sent, newest first, by name, with a limit', async () => {
    const { executor, app } = setup();
    await executor.sendEvent('order.paid', { n: 1 }, { key: 'k1' });
    await executor.sendEvent('order.refunded', { n: 2 });
    await executor.sendEvent('order.paid', { n: 3 }, { idempotencyKey: 'once' });
    const read = async (query: string) => {
      const res = await app.request(`/api/events${query}`, { headers: { accept: 'application/json' } });
      expect(res.headers.get('content-type')).toContain('application/json');
      return { status: res.status, body: (await res.json()) as any };
    };

    const all = await read('');
    expect(all.status).toBe(200);
    expect(all.body.events.map((e: { payload: { n: number } }) => e.payload.n)).toEqual([3, 2, 1]);
    expect(all.body.events[0]).toEqual({
      seq: expect.any(Number),
      name: 'order.paid',
      key: null,
      payload: { n: 3 },
      idempotencyKey: 'once',
      createdAt: expect.any(Number),
    });
    const paid = await read('?name=order.paid');
    expect(paid.body.events.map((e: { key: string | null }) => e.key)).toEqual([null, 'k1']);
    const last = await read('?limit=1');
    expect(last.body.events.map((e: { payload: { n: number } }) => e.payload.n)).toEqual([3]);
    expect((await read('?name=nothing')).body).toEqual({ events: [] });
  });

  it('refuses the stream-only parameters on the list, and the list-only ones on the stream (400)', async () => {
    const { app } = setup();
    const asJson = { headers: { accept: 'application/json' } };
    const refusal = async (query: string, init: RequestInit) => {
      const res = await app.request(`/api/events${query}`, init);
      expect(res.status).toBe(400);
      return ((await res.json()) as { error: { code: string; message: string } }).error;
    };
    expect(await refusal('?runId=x', asJson)).toMatchObject({
      code: 'invalid_request',
      message: '`runId` is for the event stream: send Accept: text/event-stream.',
    });
    expect((await refusal('?after=3', { headers: { ...asJson.headers, 'last-event-id': '4' } })).message).toBe(
      '`after` and `Last-Event-ID` are for the event stream: send Accept: text/event-stream.',
    );
    const asStream = { headers: { accept: 'text/event-stream' } };
    expect((await refusal('?name=order.paid', asStream)).message).toBe(
      '`name` is for the inbox list, which is JSON: send Accept: application/json.',
    );
    expect((await refusal('?name=order.paid&limit=5', asStream)).message).toBe(
      '`name` and `limit` are for the inbox list, which is JSON: send Accept: application/json.',
    );
    expect((await app.request('/api/events?limit=0', asJson)).status).toBe(400);
  });

  it('still streams without an Accept header, or with */*, as before', async () => {
    const { app } = setup();
    const cases: Array<Record<string, string>> = [{}, { accept: '*/*' }, { accept: 'text/event-stream' }];
    for (const headers of cases) {
      const res = await app.request('/api/events', { headers });
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      await res.body?.cancel();
    }
  });
});

describe('POST /api/runs/:id/inputs/:name', () => {
  it('gives the value the run waits for: 200 with the wait it resolved, and the run goes on', async () => {
    const { api, executor } = setup();
    const run = await executor.start(approval, { amount: 30 });
    await untilWaiting(executor, run.runId);
    const res = await api.post(`/api/runs/${run.runId}/inputs/approve`, { value: { approved: true, by: 'Ada' } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ runId: run.runId, name: 'approve', key: 'input:approve#0' });
    expect((await run.result()).output).toBe('paid by Ada');
  });

  it('refuses a value that fails the schema with 422 and its issues, and changes nothing', async () => {
    const { api, executor } = setup();
    const run = await executor.start(approval, { amount: 30 });
    await untilWaiting(executor, run.runId);
    const before = JSON.stringify(await executor.store.getWaits(run.runId));

    const res = await api.post(`/api/runs/${run.runId}/inputs/approve`, { value: { approved: 'yes', by: 'A' } });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('invalid_input_value');
    expect(res.body.error.message).toContain('Nothing was changed');
    expect(res.body.error.issues).toEqual(
      expect.arrayContaining([
        { path: ['approved'], message: 'Invalid input: expected boolean, received string' },
        { path: ['by'], message: expect.stringContaining('2') },
      ]),
    );
    expect(JSON.stringify(await executor.store.getWaits(run.runId))).toBe(before);
    expect((await executor.store.getRun(run.runId))?.status).toBe('waiting');
    await executor.cancel(run.runId);
  });

  it('answers 404 for an unknown run, 409 for an input the run does not wait for, 409 once it has ended', async () => {
    const { api, executor } = setup();
    const missing = await api.post('/api/runs/no-such-run/inputs/approve', { value: 1 });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('run_not_found');

    const run = await executor.start(approval, { amount: 1 });
    await untilWaiting(executor, run.runId);
    const wrongName = await api.post(`/api/runs/${run.runId}/inputs/approval`, { value: 1 });
    expect(wrongName.status).toBe(409);
    expect(wrongName.body.error).toMatchObject({
      code: 'input_not_awaited',
      message: expect.stringContaining('it waits for "approve"'),
    });

    await api.post(`/api/runs/${run.runId}/inputs/approve`, { value: { approved: false, by: 'Bo' } });
    await run.result();
    const again = await api.post(`/api/runs/${run.runId}/inputs/approve`, { value: { approved: true, by: 'Bo' } });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('invalid_state');
  });

  it('needs a value (null is one): a body without it is a 400', async () => {
    const { api, executor } = setup();
    const run = await executor.start(approval, { amount: 1 });
    await untilWaiting(executor, run.runId);
    const res = await api.post(`/api/runs/${run.runId}/inputs/approve`, {});
    expect(res.status).toBe(400);
    expect(res.body.error.issues[0]).toMatchObject({ path: ['value'], message: expect.stringContaining('required') });
    const nullValue = await api.post(`/api/runs/${run.runId}/inputs/approve`, { value: null });
    expect(nullValue.status).toBe(422); // null is a value, and the schema wants an object
    await executor.cancel(run.runId);
  });
});

describe('waits on runs', () => {
  it('GET /api/runs/:id lists a pending input with its request (payload and JSON Schema) and deadline', async () => {
    const { api, executor } = setup();
    const run = await executor.start(approval, { amount: 12 });
    await untilWaiting(executor, run.runId);
    const { body } = await api.get(`/api/runs/${run.runId}`);
    expect(body.run.status).toBe('waiting');
    expect(body.steps.find((s: { name: string }) => s.name === 'ask').status).toBe('waiting');
    expect(body.waits).toEqual([
      {
        step: 'ask',
        key: 'input:approve#0',
        group: 'input:approve#0',
        kind: 'input',
        status: 'pending',
        name: 'approve',
        dueAt: expect.any(Number),
        eventKey: null,
        match: null,
        request: {
          payload: { question: 'Pay this?', amount: 12 },
          schema: expect.objectContaining({
            type: 'object',
            properties: { approved: { type: 'boolean' }, by: { type: 'string', minLength: 2 } },
            required: ['approved', 'by'],
          }),
        },
        value: null,
        createdAt: expect.any(Number),
        resolvedAt: null,
      },
    ]);
    const wait = body.waits[0];
    // The deadline is taken when the call is made, a moment before the wait row is.
    expect(wait.dueAt - wait.createdAt).toBeGreaterThan(3_599_000);
    expect(wait.dueAt - wait.createdAt).toBeLessThanOrEqual(3_600_000);

    await api.post(`/api/runs/${run.runId}/inputs/approve`, { value: { approved: true, by: 'Cy' } });
    await run.result();
    const after = (await api.get(`/api/runs/${run.runId}`)).body.waits[0];
    expect(after).toMatchObject({
      status: 'resolved',
      value: { approved: true, by: 'Cy' },
      resolvedAt: expect.any(Number),
    });
  });

  it('shows sleeps and event waits with what they wait for and until when', async () => {
    const { api, executor } = setup();
    const sleeping = await executor.start(napper, {});
    const paying = await executor.start(payment, { orderId: 'D-4' });
    await untilWaiting(executor, sleeping.runId);
    await untilWaiting(executor, paying.runId);
    const [nap] = (await api.get(`/api/runs/${sleeping.runId}`)).body.waits;
    expect(nap).toMatchObject({
      step: 'nap',
      kind: 'sleep',
      key: 'sleep#0',
      status: 'pending',
      name: null,
      request: null,
    });
    expect(nap.dueAt - nap.createdAt).toBeGreaterThan(3_599_000);
    expect(nap.dueAt - nap.createdAt).toBeLessThanOrEqual(3_600_000);
    const [event] = (await api.get(`/api/runs/${paying.runId}`)).body.waits;
    expect(event).toMatchObject({
      step: 'confirm',
      kind: 'event',
      name: 'order.paid',
      eventKey: 'D-4',
      status: 'pending',
    });

    await api.post('/api/events', { name: 'order.paid', key: 'D-4', payload: { total: 9 } });
    await paying.result();
    const [settled] = (await api.get(`/api/runs/${paying.runId}`)).body.waits;
    expect(settled).toMatchObject({
      status: 'resolved',
      value: { name: 'order.paid', key: 'D-4', payload: { total: 9 } },
    });
    await executor.cancel(sleeping.runId);
  });

  it('GET /api/runs?status=waiting lists the waiting runs only', async () => {
    const { api, executor } = setup();
    const sleeping = await executor.start(napper, {});
    await untilWaiting(executor, sleeping.runId);
    const done = await executor.sendEvent('order.shipped', { orderId: 'E-5' });
    await (await executor.getHandle(done.started[0]!.runId)).result();

    const waiting = await api.get('/api/runs?status=waiting');
    expect(waiting.status).toBe(200);
    expect(waiting.body.runs.map((r: { id: string }) => r.id)).toEqual([sleeping.runId]);
    expect((await api.get('/api/runs')).body.runs).toHaveLength(2);
    await executor.cancel(sleeping.runId);
  });

  it('pauses, resumes and cancels a waiting run', async () => {
    const { api, executor } = setup();
    const run = await executor.start(approval, { amount: 3 });
    await untilWaiting(executor, run.runId);
    expect((await api.post(`/api/runs/${run.runId}/pause`)).body).toEqual({ runId: run.runId, status: 'paused' });
    expect((await api.post(`/api/runs/${run.runId}/resume`)).status).toBe(200);
    await untilWaiting(executor, run.runId);
    const cancelled = await api.post(`/api/runs/${run.runId}/cancel`);
    expect(cancelled.body).toEqual({ runId: run.runId, status: 'cancelled' });
    const [wait] = (await api.get(`/api/runs/${run.runId}`)).body.waits;
    expect(wait.status).toBe('cancelled');
  });
});
