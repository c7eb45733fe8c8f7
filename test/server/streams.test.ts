import { describe, expect, it } from 'vitest';
import { workflow } from '../../src/index.js';
import { errorOf, type SseMessage, serverFixture, sseReader } from './helpers.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Every message of a stream until it closes. */
async function readAll(body: ReadableStream<Uint8Array>): Promise<SseMessage[]> {
  const reader = sseReader(body);
  const out: SseMessage[] = [];
  for (let m = await reader.next(); m; m = await reader.next()) out.push(m);
  return out;
}

describe('GET /api/runs/:id/steps/:step/stream and /chunks', () => {
  const fixture = serverFixture();

  it('serves a finished step\'s chunks as SSE (id = seq), then "end", and closes', async () => {
    const { executor, app } = fixture.setup();
    const wf = workflow('talk').step('write', async (ctx) => {
      await ctx.emit('Hel');
      await ctx.emit('lo');
      await ctx.emit('meta', { tokens: 2 });
      return null;
    });
    const { context } = await executor.execute(wf, {});
    const res = await app.request(`/api/runs/${context.runId}/steps/write/stream`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const messages = await readAll(res.body!);
    const chunks = messages.filter((m) => m.event === 'chunk');
    expect(chunks.map((m) => m.data.data)).toEqual(['Hel', 'lo']);
    expect(chunks.map((m) => m.id)).toEqual(chunks.map((m) => String(m.data.seq)));
    expect(chunks[0]!.data).toMatchObject({ step: 'write', stream: 'default', attempt: 1, at: expect.any(Number) });
    expect(messages.at(-1)).toMatchObject({ event: 'end', data: { lastSeq: chunks[1]!.data.seq } });
    const all = await readAll((await app.request(`/api/runs/${context.runId}/steps/write/stream?name=*`)).body!);
    expect(all.filter((m) => m.event === 'chunk').map((m) => m.data.stream)).toEqual(['default', 'default', 'meta']);
  });

  it('resumes after Last-Event-ID (which wins over ?after=)', async () => {
    const { executor, app } = fixture.setup();
    const wf = workflow('count').step('s', async (ctx) => {
      for (let i = 0; i < 5; i++) await ctx.emit(i);
      return null;
    });
    const { context } = await executor.execute(wf, {});
    const url = `/api/runs/${context.runId}/steps/s/stream`;
    const first = (await readAll((await app.request(url)).body!)).filter((m) => m.event === 'chunk');
    const resumed = await readAll(
      (await app.request(`${url}?after=0`, { headers: { 'Last-Event-ID': first[2]!.id! } })).body!,
    );
    expect(resumed.filter((m) => m.event === 'chunk').map((m) => m.data.data)).toEqual([3, 4]);
    const viaQuery = await readAll((await app.request(`${url}?after=${first[3]!.id}`)).body!);
    expect(viaQuery.filter((m) => m.event === 'chunk').map((m) => m.data.data)).toEqual([4]);
  });

  it('follows a running step live, with its progress, and ends when the step ends', async () => {
    const { executor, app } = fixture.setup();
    const next = deferred();
    const wf = workflow('live').step('s', async (ctx) => {
      ctx.progress({ done: 0 });
      await ctx.emit('first');
      await next.promise;
      ctx.progress({ done: 1 });
      await ctx.emit('second');
      return null;
    });
    const handle = await executor.start(wf, {});
    const res = await app.request(`/api/runs/${handle.runId}/steps/s/stream`);
    const reader = sseReader(res.body!);
    const seen: SseMessage[] = [];
    for (let m = await reader.next(); m; m = await reader.next()) {
      seen.push(m);
      if (m.event === 'chunk' && m.data.data === 'first') next.resolve();
    }
    const kinds = seen.map((m) => (m.event === 'chunk' ? m.data.data : m.event));
    expect(kinds.filter((k) => k !== 'progress')).toEqual(['first', 'second', 'end']);
    expect(seen.filter((m) => m.event === 'progress').map((m) => m.data.value)).toContainEqual({ done: 1 });
  });

  it("reads only the final attempt's chunks with attempts=final", async () => {
    const { executor, app } = fixture.setup();
    const wf = workflow('retry').step('s', { retries: 1, backoff: { initialMs: 1, jitter: 0 } }, async (ctx) => {
      await ctx.emit(`try ${ctx.attempt}`);
      if (ctx.attempt === 1) throw new Error('again');
      return null;
    });
    const { context } = await executor.execute(wf, {});
    const url = `/api/runs/${context.runId}/steps/s/stream`;
    const every = (await readAll((await app.request(url)).body!)).filter((m) => m.event === 'chunk');
    expect(every.map((m) => [m.data.attempt, m.data.data])).toEqual([
      [1, 'try 1'],
      [2, 'try 2'],
    ]);
    const final = (await readAll((await app.request(`${url}?attempts=final`)).body!)).filter(
      (m) => m.event === 'chunk',
    );
    expect(final.map((m) => m.data.data)).toEqual(['try 2']);
  });

  it('reads stored chunks as JSON pages', async () => {
    const { executor, api } = fixture.setup();
    const wf = workflow('pages').step('s', async (ctx) => {
      for (let i = 0; i < 5; i++) ctx.emit(i % 2 ? 'odd' : 'even', i);
      return null;
    });
    const { context } = await executor.execute(wf, {});
    const base = `/api/runs/${context.runId}/steps/s/chunks`;
    const all = await api.get(base);
    expect(all.status).toBe(200);
    expect(all.body.chunks.map((c: { data: number }) => c.data)).toEqual([0, 1, 2, 3, 4]);
    expect(all.body.nextAfter).toBeNull();
    const page = await api.get(`${base}?name=even&limit=2`);
    expect(page.body.chunks.map((c: { data: number }) => c.data)).toEqual([0, 2]);
    const rest = await api.get(`${base}?name=even&limit=2&after=${page.body.nextAfter}`);
    expect(rest.body.chunks.map((c: { data: number }) => c.data)).toEqual([4]);
  });

  it('shows progress in the run view', async () => {
    const { executor, api } = fixture.setup();
    const gate = deferred();
    const reported = deferred();
    const wf = workflow('progress').step('s', async (ctx) => {
      ctx.progress('half way');
      reported.resolve();
      await gate.promise;
      return null;
    });
    const handle = await executor.start(wf, {});
    await reported.promise;
    const view = await api.get(`/api/runs/${handle.runId}`);
    expect(view.body.progress).toEqual({ s: { value: 'half way', at: expect.any(Number) } });
    gate.resolve();
    await handle.result();
  });

  it('answers an unknown run or step with 404 and the error shape, and bad parameters with 400', async () => {
    const { executor, app } = fixture.setup();
    const { context } = await executor.execute(
      workflow('one').step('s', () => 1),
      {},
    );
    for (const kind of ['stream', 'chunks']) {
      const noRun = await app.request(`/api/runs/nope/steps/s/${kind}`);
      expect(noRun.status).toBe(404);
      expect(await errorOf(noRun)).toMatchObject({ code: 'run_not_found' });
      const noStep = await app.request(`/api/runs/${context.runId}/steps/nope/${kind}`);
      expect(noStep.status).toBe(404);
      const error = await errorOf(noStep);
      expect(error.code).toBe('step_not_found');
      expect(error.message).toContain('has no step "nope"');
      const longName = await app.request(`/api/runs/${context.runId}/steps/s/${kind}?name=${'x'.repeat(129)}`);
      expect(longName.status).toBe(400);
      expect(await errorOf(longName)).toMatchObject({ code: 'invalid_request' });
      const badAfter = await app.request(`/api/runs/${context.runId}/steps/s/${kind}?after=-1`);
      expect(badAfter.status).toBe(400);
    }
    const badId = await app.request(`/api/runs/${context.runId}/steps/s/stream`, {
      headers: { 'Last-Event-ID': 'abc' },
    });
    expect(badId.status).toBe(400);
    const badAttempts = await app.request(`/api/runs/${context.runId}/steps/s/stream?attempts=some`);
    expect(badAttempts.status).toBe(400);
  });
});
