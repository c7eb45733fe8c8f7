import { z } from 'zod';
import { workflow } from '../../src/index.js';

export { approval } from '../support/approval.js';

/** Waits for the event that says its order was paid (by key), for a day at most. */
export const payment = workflow('payment', { input: z.object({ orderId: z.string() }) }).step('confirm', (ctx) =>
  ctx.waitForEvent('order.paid', { match: ctx.input.orderId, timeout: '1d' }),
);

/** Sleeps an hour: a run that only a time wakes. */
export const napper = workflow('napper').step('nap', async (ctx) => {
  await ctx.sleep('1h');
  return 'rested';
});

/** Started by every `order.shipped` event, with its payload as input. */
export const onShipped = workflow('on-shipped', {
  input: z.object({ orderId: z.string() }),
  on: { event: 'order.shipped' },
}).step('note', (ctx) => `shipped ${ctx.input.orderId}`);
