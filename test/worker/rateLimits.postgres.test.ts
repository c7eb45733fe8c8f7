/**
 * A rate limit holds exactly across real worker processes on PostgreSQL: three workers run one
 * step limited to LIMIT_PER_SECOND per second, with more runs queued than the limit lets through in
 * 30 s, so it binds the whole time. The start times the database granted are one emission interval
 * apart exactly, whichever worker asked; no function runs before its own grant; among the functions
 * that ran on time, no window of one second holds more than the limit (+1 for a start on each edge),
 * and over 30 s the throughput is the limit, not less.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { TIMER_RESOLUTION_MS } from '../../src/engine/rateLimits.js';
import { PostgresStore, WorkflowExecutor } from '../../src/index.js';
import { createTestDatabase } from '../support/embeddedPostgres.js';
import type { WorkerProcess } from '../support/workerProcess.js';
import { LIMIT_PER_SECOND, limitedCall, startRateLimitWorker, warmUp } from './rateLimits.harness.js';

const SECONDS = 30;
/**
 * Runs arrive faster than the limit (one every 80 ms against one start per 100 ms) for longer than
 * the window, so the limit binds from the first second to past the last. They arrive as a stream,
 * not as one burst: 330 runs inserted at once kept this shared 2-core machine (PostgreSQL, three
 * workers and this process) so busy that the commit starting a granted step took up to 350 ms, and
 * functions ran bunched (see "What a limit guarantees" in the README's Rate limits section).
 */
const ARRIVAL_EVERY_MS = 80;
/** A start that ran this close after its grant counts as on time (below the emission interval's half). */
const ON_TIME_MS = 40;
const RUNS = Math.ceil(((SECONDS + 3) * 1000) / ARRIVAL_EVERY_MS);

let db: { url: string; drop(): Promise<void> } | undefined;
let client: WorkflowExecutor | undefined;
const workers: WorkerProcess[] = [];

afterAll(async () => {
  for (const w of workers) w.child.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.exited));
  await client?.cleanup().catch(() => {});
  await db?.drop().catch(() => {});
});

describe('rate limit across three PostgreSQL worker processes', () => {
  it(`${LIMIT_PER_SECOND}/s over ${SECONDS} s: no 1 s window above the limit (+1), throughput equal to it`, async () => {
    db = await createTestDatabase();
    client = new WorkflowExecutor({
      store: new PostgresStore({ connectionString: db.url, poolSize: 4 }),
      worker: false,
    });
    await client.open(); // migrates
    const config = { url: db.url, leaseMs: 5_000, heartbeatMs: 1_000, pollMs: 500 };
    for (let i = 0; i < 3; i++) workers.push(startRateLimitWorker(config));
    await Promise.all(workers.map((w) => w.ready));
    for (let round = 0; round < 20; round++) {
      const warm = await Promise.all(Array.from({ length: 30 }, () => client!.execute(warmUp, null)));
      if (new Set(warm.map((r) => r.output)).size === 3 && round >= 2) break;
    }

    // Started on a fixed schedule (not one after the other's answer), so they do arrive this fast.
    const starting = [];
    const t0 = Date.now();
    for (let i = 0; i < RUNS; i++) {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, t0 + i * ARRIVAL_EVERY_MS - Date.now())));
      starting.push(client.start(limitedCall, { i }));
    }
    const handles = await Promise.all(starting);
    const results = await Promise.all(handles.map((h) => h.result()));
    expect(results.every((r) => r.success)).toBe(true);

    const starts = results.map((r) => r.output as { at: number; pid: number });
    // Every worker took part: the limit was shared, not held by one process.
    expect(new Set(starts.map((s) => s.pid)).size).toBe(3);
    const times = starts.map((s) => s.at).sort((a, b) => a - b);
    // Each run's grant: the start time the database gave its step (the last, if it asked again).
    const grantOf: number[] = [];
    for (const h of handles) {
      let grant: number | undefined;
      for (const e of await client.store.listEvents({ runId: h.runId })) {
        if (e.type === 'step_throttled') grant = (JSON.parse(e.data ?? '{}') as { startAt: number }).startAt;
      }
      grantOf.push(grant ?? Number.NaN);
    }
    const granted = grantOf.filter((g) => !Number.isNaN(g)).sort((a, b) => a - b);
    expect(granted.length).toBeGreaterThan(RUNS / 4);
    // The grants themselves are exact: one per emission interval, whichever worker asked.
    for (let i = 1; i < granted.length; i++) {
      expect((granted[i] as number) - (granted[i - 1] as number)).toBeGreaterThanOrEqual(
        1000 / LIMIT_PER_SECOND - 1e-6,
      );
    }
    // So no closed window of one second holds more granted starts than the limit, +1 for its edges.
    expect(busiestSecond(granted, 'closed')).toBeLessThanOrEqual(LIMIT_PER_SECOND + 1);
    if (process.env.H13_DEBUG)
      (await import('node:fs')).writeFileSync(process.env.H13_DEBUG, JSON.stringify({ times, granted }));
    // No function ran before its own grant (a timer may fire up to its resolution early).
    const onTime: number[] = [];
    for (const [i, { at }] of starts.entries()) {
      const grant = grantOf[i] as number;
      if (Number.isNaN(grant)) continue;
      expect(at).toBeGreaterThanOrEqual(grant - TIMER_RESOLUTION_MS - 1);
      if (at - grant <= ON_TIME_MS) onTime.push(at);
    }
    // How late a worker's event loop fires a timer is the machine's (up to ~350 ms measured on this
    // shared 2-core machine under load), so the window bound on the times functions ran is checked
    // over the starts that ran within ON_TIME_MS of their grant: such a window of one second holds
    // starts granted in a span of 1 s + ON_TIME_MS, at most the limit + 1 of them.
    onTime.sort((a, b) => a - b);
    expect(onTime.length).toBeGreaterThan(granted.length / 2);
    expect(busiestSecond(onTime, 'half-open')).toBeLessThanOrEqual(LIMIT_PER_SECOND + 1);
    const first = times[0] as number;
    const inWindow = times.filter((t) => t < first + SECONDS * 1000).length;
    // Throughput is the limit, not less: waiting starts hold no slot, so nothing else slows them.
    expect(inWindow).toBeGreaterThanOrEqual(LIMIT_PER_SECOND * SECONDS - 1);
    expect(inWindow).toBeLessThanOrEqual(LIMIT_PER_SECOND * SECONDS + 1);
  }, 120_000);
});

/** The most of the sorted `times` in any window of one second ([t, t + 1 s) or [t, t + 1 s]). */
function busiestSecond(times: readonly number[], window: 'half-open' | 'closed'): number {
  let busiest = 0;
  let hi = 0;
  for (let lo = 0; lo < times.length; lo++) {
    const end = (times[lo] as number) + 1000;
    while (hi < times.length && ((times[hi] as number) < end || (window === 'closed' && times[hi] === end))) hi++;
    busiest = Math.max(busiest, hi - lo);
  }
  return busiest;
}
