/**
 * Chaos on PostgreSQL: 4 worker processes share one database and run 1,000 runs with fan-out,
 * while every ~1 s (as soon as at least 3 workers are at work) a random worker is SIGKILLed and
 * replaced by a standby process. The runs are started, in waves, by this process through a
 * trigger-only executor (`worker: false`), which also waits for their results. Afterwards the
 * database must show that every run succeeded with the right output, that no succeeded step ran
 * again, and that no child was spawned twice. BRAID_CRASH_SEED replays a kill sequence's timing.
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { type ExecutionResult, PostgresStore, WorkflowExecutor } from '../../src/index.js';
import { createTestDatabase } from '../support/embeddedPostgres.js';
import {
  CHILD_STEP,
  CHILD_WORKFLOW,
  CHILDREN,
  type ChaosWorker,
  type ChaosWorkerConfig,
  CREATE_EFFECTS_TABLE,
  chaosWorkflows,
  childOutput,
  EFFECTS_TABLE,
  type EffectRow,
  PARENT_STEPS,
  PARENT_WORKFLOW,
  parentOutput,
  startChaosWorker,
} from './chaos.harness.js';
import { seededRandom } from './harness.js';

const RUNS = 1_000;
const WORKERS = 4;
/** Runs are started in waves, one a second, so the kills land on a cluster at work... */
const WAVES = 20;
/** ...and at most this many are in flight (orphaned parents re-run `b` when re-claimed). */
const MAX_IN_FLIGHT = 200;
const KILL_EVERY_MS: [number, number] = [700, 1_300];
/**
 * A kill waits until this many workers are at work. Starting a worker cost ~0.9 CPU-s through the
 * tsx loader (less now that it runs compiled, test/support/compiled.ts), 3-5 s of wall time on the
 * loaded 2-core machine: killing every second regardless left 0-2 workers up and took 80-110 s;
 * with at most two down at once the test takes ~45 s.
 */
const MIN_READY = 3;
/** Processes started ahead, code loaded, that replace a killed worker as soon as it dies. */
const STANDBYS = 2;
/**
 * Kills the test must have made while the work ran, or it proved little. The work lasts the 20 s
 * of waves and kills wait for 3 workers to be up, so a slow restart (a loaded CI machine) makes
 * fewer: 18 failed once at 17; 15 still kills every worker process several times over.
 */
const MIN_KILLS = 15;
/** Past this, the test stops waiting and reports the runs still unfinished. */
const RESULTS_TIMEOUT_MS = 80_000;

const seed = Number(process.env.BRAID_CRASH_SEED ?? Date.now() % 1_000_000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let db: { url: string; drop(): Promise<void> } | undefined;
let client: WorkflowExecutor | undefined;
const live = new Set<ChaosWorker>();

afterAll(async () => {
  // Whatever happened, no worker process outlives the test.
  for (const w of live) w.child.kill('SIGKILL');
  await Promise.all([...live].map((w) => w.exited));
  await client?.cleanup().catch(() => {});
  await db?.drop().catch(() => {});
});

interface RunRow {
  id: string;
  workflow: string;
  status: string;
  input: string;
  output: string | null;
  idempotency_key: string | null;
  parent_run_id: string | null;
  parent_step: string | null;
  spawn_key: string | null;
}

interface StepEventRow {
  run_id: string;
  step: string;
  type: string;
  at: string;
  attempt: number | null;
}

describe(`chaos: ${WORKERS} worker processes on PostgreSQL, one SIGKILLed every ~1 s (seed ${seed})`, () => {
  it(`finishes ${RUNS} fan-out runs exactly once each`, async () => {
    const random = seededRandom(seed);
    db = await createTestDatabase();
    const url = db.url;
    const admin = new pg.Pool({ connectionString: url, max: 2 });
    try {
      const config: ChaosWorkerConfig = {
        url,
        leaseMs: 2_000,
        heartbeatMs: 400,
        pollMs: 500,
        maxParallelNodes: 50,
        stepMs: [1, 10],
      };
      const { parent } = chaosWorkflows(() => Promise.reject(new Error('the trigger-only process ran a step')));
      client = new WorkflowExecutor({
        store: new PostgresStore({ connectionString: url, poolSize: 4 }),
        workflows: [parent],
        worker: false,
      });
      await client.open(); // migrates, before the workers race to
      await admin.query(CREATE_EFFECTS_TABLE);

      const unexpectedExits: string[] = [];
      let workerDied: () => void = () => {};
      const aWorkerDied = new Promise<'died'>((resolve) => {
        workerDied = () => resolve('died');
      });
      const spawnWorker = () => {
        const w = startChaosWorker(config);
        live.add(w);
        w.exited.then((how) => {
          live.delete(w);
          if (how === 'SIGKILL') return;
          unexpectedExits.push(`worker ${w.child.pid} exited ${how}:\n${w.stderr()}`);
          workerDied();
        });
        return w;
      };
      const started = Date.now();
      const first = Array.from({ length: WORKERS }, () => spawnWorker());
      for (const w of first) w.activate();
      const standbys = Array.from({ length: STANDBYS }, () => spawnWorker());
      await Promise.race([Promise.all(first.map((w) => w.ready)), aWorkerDied]);

      let done = false;
      let kills = 0;
      const chaos = (async () => {
        while (!done) {
          await sleep(KILL_EVERY_MS[0] + random() * (KILL_EVERY_MS[1] - KILL_EVERY_MS[0]));
          if (done) break;
          // A worker still starting has nothing to lose: kill one that is at work.
          const atWork = () => [...live].filter((w) => w.isReady());
          while (!done && atWork().length < MIN_READY) await sleep(50);
          const candidates = atWork();
          const victim = candidates[Math.floor(random() * candidates.length)];
          if (done || !victim) break;
          victim.child.kill('SIGKILL');
          await victim.exited;
          kills++;
          standbys.shift()?.activate();
          standbys.push(spawnWorker());
        }
      })();

      const results: Array<Promise<ExecutionResult<number>>> = [];
      const perWave = RUNS / WAVES;
      let inFlight = 0;
      for (let wave = 0; wave < WAVES && !unexpectedExits.length; wave++) {
        const tick = sleep(1_000);
        for (let k = 0; k < perWave; k++) {
          while (inFlight >= MAX_IN_FLIGHT) await sleep(20);
          const i = wave * perWave + k;
          const h = await client.start(parent, { i }, { idempotencyKey: `chaos-${i}` });
          inFlight++;
          results.push(
            h.result().finally(() => {
              inFlight--;
            }),
          );
        }
        await tick;
      }

      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), RESULTS_TIMEOUT_MS);
      });
      const outcome = await Promise.race([Promise.all(results), timedOut, aWorkerDied]);
      clearTimeout(timer);
      done = true;
      await chaos;
      const elapsedMs = Date.now() - started;
      console.log(
        `[chaos] seed ${seed}: ${RUNS} runs in ${(elapsedMs / 1000).toFixed(1)} s with ${kills} SIGKILLs ` +
          `(${WORKERS} workers, lease ${config.leaseMs} ms)`,
      );

      // The workers are done: stop them before reading, so the database holds still.
      const lastWorkers = [...live];
      for (const w of live) w.child.kill('SIGKILL');
      await Promise.all([...live].map((w) => w.exited));
      if (outcome === 'died' || unexpectedExits.length) {
        expect.fail(`workers died of something other than our SIGKILL:\n${unexpectedExits.join('\n')}`);
      }
      if (outcome === 'timeout') expect.fail(await describeStuck(admin, lastWorkers));
      expect(kills, 'SIGKILLs made').toBeGreaterThanOrEqual(MIN_KILLS);

      // 1. Every run succeeded with the output its input determines.
      const wrongResults = outcome.flatMap((r, i) =>
        r.status === 'succeeded' && r.output === parentOutput(i)
          ? []
          : [`chaos-${i} (${r.runId}): ${r.status} ${JSON.stringify(r.output)} ${JSON.stringify(r.error ?? null)}`],
      );
      expect(wrongResults, 'results that are not succeeded with the right output').toEqual([]);

      const runs = (
        await admin.query<RunRow>(
          `SELECT id, workflow, status, input, output, idempotency_key, parent_run_id, parent_step, spawn_key
             FROM braid.runs`,
        )
      ).rows;
      const events = (
        await admin.query<StepEventRow>(
          `SELECT run_id, step, type, at::text, attempt FROM braid.events
            WHERE type = 'step_succeeded' ORDER BY seq`,
        )
      ).rows;
      const effects = (
        await admin.query<EffectRow>(
          `SELECT id::int, run_id, step, attempt, key, pid, at::float8 FROM ${EFFECTS_TABLE}`,
        )
      ).rows;

      // 2. One run per idempotency key, and exactly 3 children per run, one per spawn key.
      const problems: string[] = [];
      const byId = new Map(runs.map((r) => [r.id, r]));
      const parents = runs.filter((r) => r.workflow === PARENT_WORKFLOW);
      const children = runs.filter((r) => r.workflow === CHILD_WORKFLOW);
      if (parents.length !== RUNS) problems.push(`${parents.length} parent runs, expected ${RUNS}`);
      if (children.length !== RUNS * CHILDREN)
        problems.push(`${children.length} children, expected ${RUNS * CHILDREN}`);
      /** What each run was asked to compute: `i` for a parent, `i/j` for a child. */
      const keyOf = new Map<string, string>();
      const childrenOf = new Map<string, RunRow[]>();
      for (const c of children) {
        const list = childrenOf.get(c.parent_run_id ?? '') ?? [];
        list.push(c);
        childrenOf.set(c.parent_run_id ?? '', list);
      }
      for (const p of parents) {
        const { i } = JSON.parse(p.input) as { i: number };
        keyOf.set(p.id, `${i}`);
        if (p.idempotency_key !== `chaos-${i}` || p.status !== 'succeeded' || p.output !== `${parentOutput(i)}`) {
          problems.push(`parent: ${show(p)}`);
        }
        const mine = childrenOf.get(p.id) ?? [];
        const keys = mine.map((c) => c.spawn_key).sort();
        const expectedKeys = Array.from({ length: CHILDREN }, (_, j) => `c-${j}`);
        if (JSON.stringify(keys) !== JSON.stringify(expectedKeys)) {
          problems.push(`parent ${p.id} (chaos-${i}) has children with keys ${JSON.stringify(keys)}:`);
          problems.push(...mine.map((c) => `  ${show(c)}`));
        }
        for (const c of mine) {
          const input = JSON.parse(c.input) as { i: number; j: number };
          keyOf.set(c.id, `${input.i}/${input.j}`);
          const ok =
            input.i === i &&
            c.spawn_key === `c-${input.j}` &&
            c.parent_step === 'b' &&
            c.status === 'succeeded' &&
            c.output === `${childOutput(i, input.j)}`;
          if (!ok) problems.push(`child of chaos-${i}: ${show(c)}`);
        }
      }
      for (const c of children) if (!byId.has(c.parent_run_id ?? '')) problems.push(`orphan child: ${show(c)}`);
      expect(problems.slice(0, 40), 'runs and children').toEqual([]);

      // 3. Exactly one step_succeeded per (run, step) of every run, and none for other steps.
      const succeeded = new Map<string, StepEventRow[]>();
      for (const e of events) {
        const id = `${e.run_id}/${e.step}`;
        succeeded.set(id, [...(succeeded.get(id) ?? []), e]);
      }
      const expectedSteps = new Set<string>();
      for (const p of parents) for (const s of PARENT_STEPS) expectedSteps.add(`${p.id}/${s}`);
      for (const c of children) expectedSteps.add(`${c.id}/${CHILD_STEP}`);
      const eventProblems: string[] = [];
      for (const id of expectedSteps) {
        const list = succeeded.get(id) ?? [];
        if (list.length !== 1) eventProblems.push(`${id}: ${list.length} step_succeeded ${JSON.stringify(list)}`);
      }
      for (const id of succeeded.keys()) if (!expectedSteps.has(id)) eventProblems.push(`unexpected step ${id}`);
      expect(eventProblems.slice(0, 40), 'step_succeeded events').toEqual([]);

      // 4. Side effects: each belongs to the run that was asked to compute it, none began after its
      //    step had succeeded, and the attempt that succeeded left one.
      const effectProblems: string[] = [];
      const effectsOf = new Map<string, EffectRow[]>();
      for (const e of effects) {
        const id = `${e.run_id}/${e.step}`;
        effectsOf.set(id, [...(effectsOf.get(id) ?? []), e]);
        const success = succeeded.get(id)?.[0];
        if (!expectedSteps.has(id) || keyOf.get(e.run_id) !== e.key) {
          effectProblems.push(`effect of a run that did not ask for it (${keyOf.get(e.run_id)}): ${show(e)}`);
        } else if (success && (e.at > Number(success.at) || e.attempt > (success.attempt ?? 0))) {
          effectProblems.push(`ran after its success (attempt ${success.attempt} at ${success.at}): ${show(e)}`);
        }
      }
      for (const id of expectedSteps) {
        const attempt = succeeded.get(id)?.[0]?.attempt;
        if (!(effectsOf.get(id) ?? []).some((e) => e.attempt === attempt)) {
          effectProblems.push(`${id}: no side effect of the attempt that succeeded (${attempt})`);
        }
      }
      expect(effectProblems.slice(0, 40), 'side effects').toEqual([]);

      const reruns = effects.length - expectedSteps.size;
      console.log(
        `[chaos] ${effects.length} step executions for ${expectedSteps.size} steps (${reruns} cut short by a kill and re-run)`,
      );
    } finally {
      await admin.end();
    }
  }, 240_000); // a guard against hangs: with two vitest workers, two crash tests can share the 2 cores
});

/** What a timed-out test prints: the unfinished runs, the live workers, and their last words. */
async function describeStuck(admin: pg.Pool, workers: ChaosWorker[]): Promise<string> {
  const counts = await admin.query(
    `SELECT workflow, status, owner_id IS NOT NULL AS owned, count(*)::int AS n FROM braid.runs
      WHERE status NOT IN ('succeeded', 'failed', 'cancelled', 'timed_out') GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
  );
  const stuck = await admin.query(
    `SELECT id, workflow, status, owner_id, idempotency_key FROM braid.runs
      WHERE status NOT IN ('succeeded', 'failed', 'cancelled', 'timed_out') ORDER BY id LIMIT 10`,
  );
  const steps = await admin.query('SELECT run_id, name, status, attempts FROM braid.steps WHERE run_id = ANY($1)', [
    stuck.rows.map((r) => r.id),
  ]);
  const history = await admin.query(
    `SELECT seq, run_id, step, type, at, attempt, left(data, 300) AS data FROM braid.events
      WHERE run_id = $1 OR run_id IN (SELECT id FROM braid.runs WHERE parent_run_id = $1) ORDER BY seq DESC LIMIT 40`,
    [stuck.rows[0]?.id],
  );
  const registered = await admin.query('SELECT id, heartbeat_at, lease_until, now() AS now FROM braid.workers');
  return [
    `runs unfinished after ${RESULTS_TIMEOUT_MS} ms:`,
    ...counts.rows.map(show),
    'the first 10, and their steps:',
    ...stuck.rows.map(show),
    ...steps.rows.map(show),
    'the last events of the first one and its children, newest first:',
    ...history.rows.map(show),
    'registered workers:',
    ...registered.rows.map(show),
    ...workers.map((w) => `worker ${w.child.pid} (stderr tail):\n${w.stderr().slice(-2_000)}`),
  ].join('\n');
}

function show(row: object): string {
  return JSON.stringify(row);
}
