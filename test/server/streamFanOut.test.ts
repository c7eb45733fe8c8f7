import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore, WorkflowExecutor, workflow } from '../../src/index.js';
import { createApp } from '../../src/server/index.js';

const CHUNKS = 10_000;
const CHUNK_CHARS = 1_000;
const CLIENTS = 100;

/** The text of chunk i: 1,000 characters that say where they belong, so a reordering shows. */
function chunkText(i: number): string {
  const label = `<${i}>`;
  return label + String.fromCharCode(97 + (i % 26)).repeat(CHUNK_CHARS - label.length);
}

/** One SSE response's whole text, without heartbeat comments (their timing differs per client). */
async function readBody(body: ReadableStream<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  const parts: string[] = [];
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(decoder.decode(value, { stream: true }));
  }
  return parts.join('').replaceAll(': heartbeat\n\n', '');
}

/** The chunk texts of an SSE body in the order they came, and whether it ended with `end`. */
function chunkTexts(text: string): { texts: string[]; ended: boolean } {
  const texts: string[] = [];
  let ended = false;
  for (const block of text.split('\n\n')) {
    if (block.startsWith('id: ')) texts.push(JSON.parse(block.slice(block.indexOf('\ndata: ') + 7)).data as string);
    else if (block.startsWith('event: end')) ended = true;
  }
  return { texts, ended };
}

describe('a 10 MB stream read by 100 SSE clients at once', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('gives every client every byte, in order, live from the first chunk to the end', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'braid-fanout-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const executor = new WorkflowExecutor({ store: new SqliteStore({ path: path.join(dir, 'braid.db') }) });
    cleanups.push(() => executor.cleanup());
    const app = createApp(executor, { dashboardDir: null });
    let releaseWriter!: () => void;
    const clientsConnected = new Promise<void>((resolve) => {
      releaseWriter = resolve;
    });
    const wf = workflow('ten-megabytes').step('write', async (ctx) => {
      await ctx.emit(chunkText(0));
      await clientsConnected; // every client is following before the rest is written
      for (let i = 1; i < CHUNKS; i++) {
        const written = ctx.emit(chunkText(i));
        if (i % 500 === 0) await written; // bursts of 500, so readers catch up live between them
      }
      return null;
    });
    const handle = await executor.start(wf, {});
    for (;;) {
      if ((await executor.store.listChunks({ runId: handle.runId, step: 'write' })).length) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const responses = await Promise.all(
      Array.from({ length: CLIENTS }, () => app.request(`/api/runs/${handle.runId}/steps/write/stream`)),
    );
    expect(responses.every((r) => r.status === 200)).toBe(true);
    const reading = responses.map((r) => readBody(r.body!));
    releaseWriter();
    const bodies = await Promise.all(reading);
    expect((await handle.result()).success).toBe(true);
    const expected = Array.from({ length: CHUNKS }, (_, i) => chunkText(i)).join('');
    expect(expected.length).toBe(10_000_000);
    // The first client's messages, parsed, are every chunk in order; every other client got the
    // very same text (compared whole: parsing a gigabyte of JSON would only time the test).
    const { texts, ended } = chunkTexts(bodies[0]!);
    expect(ended).toBe(true);
    expect(texts.length).toBe(CHUNKS);
    expect(texts.join('') === expected).toBe(true);
    for (const body of bodies) expect(body === bodies[0]).toBe(true);
  }, 180_000);
});
