/**
 * The workflows the demo runs (and `braid dev` loads). An order pipeline that shows the DAG
 * features, and a digest that fans out to one child run per document and joins them.
 */
import { z } from 'zod';
import { workflow } from '../src/index.js';

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });

export const order = workflow('order', {
  input: z.object({ id: z.string(), items: z.array(z.object({ sku: z.string(), qty: z.number().int().positive() })) }),
  description: 'Prices and checks stock in parallel, then ships or refunds.',
})
  .step('fetch', async (ctx) => {
    await sleep(20, ctx.signal);
    return { id: ctx.input.id, items: ctx.input.items };
  })
  // Parallel branch: `price` and `stock` both depend only on `fetch`.
  // `price` calls a slow tariff service: cached, so a second run with the same order is instant.
  .step('price', { parents: ['fetch'], cache: { ttlSeconds: 3600 } }, async (ctx) => {
    await sleep(400, ctx.signal);
    return ctx.parent('fetch').items.reduce((sum, item) => sum + item.qty * 9.5, 0);
  })
  // A flaky warehouse API: the first attempt of every run fails, the retry succeeds.
  .step('stock', { parents: ['fetch'], retries: 3, backoff: { initialMs: 100 } }, async (ctx) => {
    await sleep(30, ctx.signal);
    if (ctx.attempt === 1) throw new Error('warehouse API timed out (simulated)');
    return { ok: ctx.parent('fetch').items.every((item) => item.qty <= 10) };
  })
  // Conditional branch: `decide` routes to exactly one of its children.
  .step('decide', { parents: ['price', 'stock'], routes: ['ship', 'refund'] }, (ctx) =>
    ctx.route(ctx.parent('stock').ok ? 'ship' : 'refund', { total: ctx.parent('price') }),
  )
  .step('ship', { parents: ['decide'] }, async (ctx) => {
    await sleep(20, ctx.signal);
    return { shipped: ctx.input.id, total: ctx.parent('decide').total };
  })
  .step('refund', { parents: ['decide'] }, async (ctx) => ({ refunded: ctx.input.id }));

export const summarize = workflow('summarize', { input: z.object({ url: z.string() }) })
  .step('fetch', async (ctx) => {
    await sleep(5 + (ctx.input.url.length % 7) * 5, ctx.signal);
    return `contents of ${ctx.input.url}`;
  })
  .step('summary', { parents: ['fetch'] }, async (ctx) => `${ctx.input.url}: ${ctx.parent('fetch').length} chars`);

export const digest = workflow('digest', {
  input: z.object({ urls: z.array(z.string()) }),
  description: 'Spawns one summarize run per URL at run time and joins them.',
})
  .step('fanout', async (ctx) => {
    const children = ctx.input.urls.map((url) => ctx.spawnWorkflow(summarize, { url }));
    const summaries = await ctx.join(children);
    return summaries.join('\n');
  })
  .step('publish', { parents: ['fanout'] }, (ctx) => ({ lines: ctx.parent('fanout').split('\n').length }));

export const workflows = [order, summarize, digest];
