import { z } from 'zod';
import { workflow } from '../../src/index.js';

/** Asks a person to approve (with a schema the form is drawn from and what to show), then pays or refuses. */
export const approval = workflow('approval', { input: z.object({ amount: z.number() }) })
  .step('ask', (ctx) =>
    ctx.waitForInput('approve', {
      schema: z.object({ approved: z.boolean(), by: z.string().min(2) }),
      payload: { question: 'Pay this?', amount: ctx.input.amount },
      timeout: '1h',
    }),
  )
  .step('pay', { parents: ['ask'] }, (ctx) => {
    const answer = ctx.parent('ask');
    return answer?.approved ? `paid by ${answer.by}` : 'refused';
  });
