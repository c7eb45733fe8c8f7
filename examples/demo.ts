/**
 * `npm start`: runs the example workflows on the embedded SQLite file `.braid/braid.db` and prints
 * each step as it happens. Run it twice: the second time `price` is a cache hit.
 */
import { WorkflowExecutor } from '../src/index.js';
import { digest, order, workflows } from './workflows.js';

const executor = new WorkflowExecutor({ workflows, maxParallelNodes: 8 });
const t0 = Date.now();
const at = () => `${String(Date.now() - t0).padStart(5)} ms`;
const quietRuns = new Set<string>();
const isQuiet = (runId: string, workflow: string) => workflow === 'summarize' || quietRuns.has(runId);

executor.callbackManager.addHandler({
  onNodeStart: (i) =>
    !isQuiet(i.runId, i.workflow) && console.log(`${at()}  ▶ ${i.workflow}.${i.nodeId} (attempt ${i.attempt})`),
  onNodeComplete: (i) =>
    !isQuiet(i.runId, i.workflow) &&
    console.log(
      `${at()}  ✔ ${i.workflow}.${i.nodeId}${i.result.cacheHit ? ' (cache hit)' : ''} ${i.result.duration} ms`,
    ),
  onNodeRetry: (i) =>
    console.log(`${at()}  ↻ ${i.workflow}.${i.nodeId} failed: ${i.error.message}; retry in ${i.delayMs} ms`),
  onNodeSkip: (i) => console.log(`${at()}  ⤼ ${i.workflow}.${i.nodeId} skipped (${i.reason})`),
  onCacheHit: (i) => console.log(`${at()}  ⚡ ${i.workflow}.${i.nodeId} served from cache`),
});

console.log(`Braid demo on ${executor.store.description}\n`);
console.log('1) order: a DAG with a parallel branch, a retried flaky step, a cached step and a conditional branch');
const result = await executor.execute(order, {
  id: 'A-1001',
  items: [
    { sku: 'tea', qty: 2 },
    { sku: 'cup', qty: 4 },
  ],
});
console.log(`\n   status:     ${result.status}`);
console.log(`   output:     ${JSON.stringify(result.output)}`);
console.log(`   order:      ${result.nodeExecutionOrder.join(' → ')}`);
console.log(`   time:       ${result.executionTime} ms`);
for (const node of Object.values(result.context.nodeResults)) {
  const notes = [node.cacheHit && 'cache hit', node.attempts > 1 && `${node.attempts} attempts`].filter(Boolean);
  console.log(
    `     ${node.nodeId.padEnd(8)} ${node.status.padEnd(10)} ${String(node.duration).padStart(4)} ms ${notes.join(', ')}`,
  );
}

console.log('\n2) digest: one step spawns a child run per URL at run time and joins them');
const urls = Array.from({ length: 25 }, (_, i) => `https://example.com/doc/${i + 1}`);
let lastShown = 0;
const progress = setInterval(async () => {
  const done = executor.metrics.successfulExecutions;
  if (done !== lastShown) console.log(`${at()}  … ${done} runs finished so far`);
  lastShown = done;
}, 50);
const d = await executor.execute(digest, { urls });
clearInterval(progress);
const children = await executor.store.countRuns({ parentRunId: d.runId });
console.log(`\n   status:     ${d.status}, ${urls.length} children: ${JSON.stringify(children)}`);
console.log(`   output:     ${JSON.stringify(d.output)}`);
console.log(`   time:       ${d.executionTime} ms`);

const m = executor.metrics;
console.log(
  `\nExecutor metrics: ${m.totalExecutions} runs, ${m.successfulExecutions} succeeded, ${m.failedExecutions} failed, ` +
    `${m.retries} retries, ${m.cacheHits} cache hits, average ${m.averageDuration.toFixed(1)} ms`,
);
console.log(
  result.context.nodeResults.price?.cacheHit ? '' : '\nRun `npm start` again: `price` will come from the cache.',
);
await executor.cleanup();
