import { createTestDatabase, type EmbeddedPostgresServer } from '../support/embeddedPostgres.js';
import {
  describeCounts,
  emptyCounts,
  POSTGRES_DEFAULTS,
  type PostgresSimOutcome,
  simulatePostgres,
} from './postgresSimulation.js';

export interface PostgresCliOptions {
  /** One seed, with its trace if `trace`; else `seeds` seeds from `from`. */
  seed?: number;
  from: number;
  seeds: number;
  trace: boolean;
}

/**
 * `npm run sim -- --store postgres`: starts its own embedded PostgreSQL server (data directory
 * under /tmp, removed at the end), and runs each seed on a fresh database of it. Returns the exit code.
 */
export async function postgresCluster(
  start: () => Promise<EmbeddedPostgresServer>,
  options: PostgresCliOptions,
): Promise<number> {
  console.log(
    'PostgreSQL: several workers on one database in real time (leases, LISTEN/NOTIFY), so a seed fixes the ' +
      'workload and the fault plan but does not replay byte for byte.',
  );
  const server = await start();
  try {
    const seeds =
      options.seed === undefined ? Array.from({ length: options.seeds }, (_, i) => options.from + i) : [options.seed];
    const began = Date.now();
    const total = emptyCounts();
    for (const seed of seeds) {
      const db = await createTestDatabase(server.url);
      let outcome: PostgresSimOutcome;
      try {
        outcome = await simulatePostgres(seed, db.url, POSTGRES_DEFAULTS);
      } finally {
        await db.drop();
      }
      for (const key of Object.keys(total) as Array<keyof typeof total>) total[key] += outcome.counts[key];
      if (options.trace || outcome.violations.length > 0) console.log(outcome.trace.join('\n'));
      if (outcome.violations.length > 0) {
        console.log(`\nseed ${seed} FAILED on postgres:\n  ${outcome.violations.join('\n  ')}`);
        console.log(`Run it again: npm run sim -- --store postgres --seed ${seed} --trace (same plan, new timing)`);
        return 1;
      }
      if (seeds.length > 1 && (seed - seeds[0]! + 1) % 10 === 0) console.log(`${seed - seeds[0]! + 1} seeds passed`);
    }
    console.log(
      `${seeds.length} seed(s) (${seeds[0]}..${seeds[seeds.length - 1]}) on postgres passed in ` +
        `${((Date.now() - began) / 1000).toFixed(0)} s: ${describeCounts(total)}.`,
    );
    return 0;
  } finally {
    await server.stop();
  }
}
