import { parseArgs } from 'node:util';
import { startEmbeddedPostgres } from '../support/embeddedPostgres.js';
import { postgresCluster } from './postgresCli.js';
import { shrink } from './shrink.js';
import { DEFAULT_OPTIONS, type SimOptions, type SimStore, simulate } from './simulation.js';

/**
 * `npm run sim -- --seeds 1000` explores seeds 1..1000 (or `--from N`); `npm run sim -- --seed 12345`
 * replays one and prints its trace. A failing seed is shrunk and its smallest trace printed, with
 * the `--variant` that replays that smaller case exactly. `--store postgres` runs several workers
 * on an embedded PostgreSQL server this command starts (see postgresCli.ts): real time there.
 */
const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    seeds: { type: 'string', default: '100' },
    from: { type: 'string', default: '1' },
    store: { type: 'string', default: 'memory' },
    trace: { type: 'boolean', default: false },
    variant: { type: 'string' },
  },
});

if (values.store === 'postgres') {
  process.exit(
    await postgresCluster(startEmbeddedPostgres, {
      ...(values.seed === undefined ? {} : { seed: Number(values.seed) }),
      from: Number(values.from),
      seeds: Number(values.seeds),
      trace: values.trace,
    }),
  );
}
const store = values.store as SimStore;
if (store !== 'memory' && store !== 'sqlite') {
  console.error(`--store must be memory, sqlite or postgres, got "${values.store}".`);
  process.exit(2);
}
/** What the shrinker changes: the workload's size, the faults, and the parts of the plan left out. */
type Variant = Pick<SimOptions, 'size' | 'faultRate' | 'maxCrashes' | 'skip'>;
let variant: Partial<Variant> = {};
if (values.variant !== undefined) {
  try {
    variant = JSON.parse(values.variant) as Partial<Variant>;
  } catch {
    console.error(`--variant takes the JSON a failing seed's report prints, got "${values.variant}".`);
    process.exit(2);
  }
}
const options: SimOptions = { ...DEFAULT_OPTIONS, ...variant, store };

async function explore(first: number, count: number): Promise<number> {
  const began = Date.now();
  let virtualMs = 0;
  for (let seed = first; seed < first + count; seed++) {
    const outcome = await simulate(seed, options);
    virtualMs += outcome.virtualMs;
    if (outcome.violations.length > 0) return report(outcome);
    if ((seed - first + 1) % 50 === 0) console.log(`${seed - first + 1} seeds passed`);
  }
  const hours = (virtualMs / 3_600_000).toFixed(1);
  console.log(
    `${count} seeds (${first}..${first + count - 1}) on ${store} passed: ${hours} virtual hours in ${((Date.now() - began) / 1000).toFixed(0)} s.`,
  );
  return 0;
}

async function report(outcome: Awaited<ReturnType<typeof simulate>>): Promise<number> {
  console.log(`seed ${outcome.seed} FAILED on ${store}:\n  ${outcome.violations.join('\n  ')}`);
  const small = await shrink(outcome);
  const { size, faultRate, maxCrashes, skip } = small.options;
  const shortest: Variant = { size, faultRate, maxCrashes, ...(skip ? { skip } : {}) };
  const storeFlag = store === 'memory' ? '' : ` --store ${store}`;
  console.log(`\nShortest trace that shows it (${small.trace.length} lines, from ${outcome.trace.length}):`);
  console.log(small.trace.join('\n'));
  console.log(`\nReplay: npm run sim -- --seed ${outcome.seed}${storeFlag}`);
  console.log(
    `Replay the shortest: npm run sim -- --seed ${outcome.seed}${storeFlag} --trace --variant '${JSON.stringify(shortest)}'`,
  );
  return 1;
}

async function replay(seed: number): Promise<number> {
  const outcome = await simulate(seed, options);
  if (outcome.violations.length > 0) return report(outcome);
  if (values.trace) console.log(outcome.trace.join('\n'));
  console.log(`seed ${seed} on ${store} passed: ${outcome.commits} commits, ${outcome.crashes} crashes.`);
  return 0;
}

const code =
  values.seed !== undefined
    ? await replay(Number(values.seed))
    : await explore(Number(values.from), Number(values.seeds));
process.exit(code);
