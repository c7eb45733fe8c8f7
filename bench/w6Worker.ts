/**
 * One W6 worker process: a WorkflowExecutor with the bench workflows on its own PostgresStore,
 * claiming the runs the trigger process (bench/w6.ts) creates. Prints "ready" once it is a
 * registered worker; closing its stdin stops it gracefully.
 */
import { PostgresStore } from '../src/index.js';
import { benchExecutor } from './workloads.js';

const url = process.argv[2];
if (!url) {
  console.error('usage: w6Worker.ts <postgres url>');
  process.exit(2);
}
const store = new PostgresStore({ connectionString: url });
const executor = benchExecutor(store);
await executor.open();
process.stdout.write('ready\n');
process.stdin.resume();
process.stdin.on('end', async () => {
  await executor.cleanup();
  await store.close();
  process.exit(0);
});
