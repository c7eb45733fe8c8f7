import { MemoryStore, SqliteStore } from '../src/index.js';
import { benchExecutor, w1, w2 } from './workloads.js';

const store =
  process.argv[2] === 'sqlite' ? new SqliteStore({ path: `/tmp/prof-${Date.now()}.db` }) : new MemoryStore();
const e = benchExecutor(store);
await e.open();
await w1(e, 2000, 50);
const which = process.argv[3] ?? 'w1';
const t0 = performance.now();
if (which === 'w1') console.log(await w1(e, 20000, 50));
else console.log(await w2(e, 20000));
console.log(performance.now() - t0);
await e.cleanup();
