import { isDeepStrictEqual } from 'node:util';
import type { Store } from '../../src/store/store.js';
import type { EventRecord, RunRecord, RunStatus, StepStatus } from '../../src/store/types.js';
import type { Trace } from './trace.js';
import { CHILD_WORKFLOW, childOutput, type ExpectedRun, SIGNAL, type WorkflowSpec, type Workload } from './workload.js';

const RUN_ENDINGS: Partial<Record<EventRecord['type'], RunStatus>> = {
  run_succeeded: 'succeeded',
  run_failed: 'failed',
  run_cancelled: 'cancelled',
  run_timed_out: 'timed_out',
};
const STEP_ENDINGS: Partial<Record<EventRecord['type'], StepStatus>> = {
  step_succeeded: 'succeeded',
  step_skipped: 'skipped',
  step_failed: 'failed',
  step_cancelled: 'cancelled',
  step_reused: 'succeeded',
};

/**
 * The guarantees, checked against the durable store once every run has ended: each started run
 * ended as a fault-free run does (status, output, every step's status and output); every child
 * identity was spawned once and gave its output; and the store's records agree with what its event
 * log says happened, with one success event per succeeded step.
 */
export async function checkStore(
  store: Store,
  load: Workload,
  expectRun: (wf: WorkflowSpec, input: number) => ExpectedRun,
  trace: Trace,
  cancels: ReadonlyMap<number, 'cancelled' | 'maybe'>,
): Promise<string[]> {
  const problems: string[] = [];
  for (const [index, start] of load.starts.entries()) {
    const run = await store.findRunByIdempotencyKey(`start-${index}`);
    if (!run) {
      problems.push(`start ${index} (${start.workflow}) has no run`);
      continue;
    }
    const name = trace.name(run.id);
    const spec = load.workflows.find((w) => w.name === start.workflow) as WorkflowSpec;
    const expected = expectRun(spec, start.input);
    const steps = new Map((await store.getSteps(run.id)).map((s) => [s.name, s]));
    const cancel = cancels.get(index);
    if (cancel === 'cancelled' || (cancel === 'maybe' && run.status === 'cancelled')) {
      // Cancelled part-way: it ended cancelled, and what it finished is what a fault-free run gives.
      if (run.status !== 'cancelled') problems.push(`${name} was cancelled but ended ${run.status}`);
      for (const [step, got] of steps) {
        if (got.status !== 'succeeded') continue;
        const value = got.output ? JSON.parse(got.output) : undefined;
        const want = expected.steps[step];
        if (want?.status !== 'succeeded' || !isDeepStrictEqual(value, want.output)) {
          problems.push(
            `${name}/${step} succeeded with ${JSON.stringify(value)} before the cancel, expected ${want?.status}=${JSON.stringify(want?.output)}`,
          );
        }
      }
      continue;
    }
    if (run.status !== expected.status)
      problems.push(`${name} ended ${run.status}, expected ${expected.status}: ${run.error}`);
    const output = run.output === null ? undefined : JSON.parse(run.output);
    if (!isDeepStrictEqual(output, expected.output)) {
      problems.push(`${name} output ${JSON.stringify(output)}, expected ${JSON.stringify(expected.output)}`);
    }
    for (const [step, want] of Object.entries(expected.steps)) {
      const got = steps.get(step);
      const value = got?.output ? JSON.parse(got.output) : undefined;
      if (got?.status !== want.status || !isDeepStrictEqual(value, want.output)) {
        problems.push(
          `${name}/${step} is ${got?.status}=${JSON.stringify(value)}, expected ${want.status}=${JSON.stringify(want.output)}`,
        );
      }
    }
  }

  const runs = await allRuns(store);
  const identities = new Map<string, string>();
  for (const run of runs) {
    if (run.parentRunId === null) continue;
    const identity = `${run.parentRunId}/${run.parentStep}/${run.spawnKey}`;
    const other = identities.get(identity);
    if (other)
      problems.push(
        `child ${trace.name(run.parentRunId)}/${run.parentStep}/${run.spawnKey} spawned twice: ${trace.name(other)} and ${trace.name(run.id)}`,
      );
    identities.set(identity, run.id);
    if (run.workflow !== CHILD_WORKFLOW) continue;
    // A doomed child (negative input) fails; any child may be cancelled (a quorum met, a parent cancelled).
    const input = JSON.parse(run.input ?? 'null') as number;
    const planned = input < 0 ? 'failed' : 'succeeded';
    if (run.status !== planned && run.status !== 'cancelled') {
      problems.push(`child ${trace.name(run.id)} ended ${run.status}, expected ${planned} (or cancelled)`);
    }
    if (run.status === 'succeeded' && run.output !== JSON.stringify(childOutput(input)))
      problems.push(`child ${trace.name(run.id)} output ${run.output}, expected ${childOutput(input)}`);
  }

  for (const run of runs) problems.push(...(await checkEventLog(store, run, trace)));

  // An event sent twice with one idempotency key is recorded (and delivered) once.
  const keys = new Map<string, number>();
  for (const event of await store.listInbox({ name: SIGNAL, limit: 100_000 })) {
    if (event.idempotencyKey) keys.set(event.idempotencyKey, (keys.get(event.idempotencyKey) ?? 0) + 1);
  }
  for (const [key, count] of keys) if (count > 1) problems.push(`event ${key} was recorded ${count} times`);
  return problems;
}

/** What a step's events say about it, folded in order. */
interface StepFold {
  ending: StepStatus | undefined;
  successes: number;
  /** The highest attempt a `step_started` event names. */
  attempts: number;
  fallback: boolean;
  cacheHit: boolean;
  /** The error of its final `step_failed` event. */
  error: unknown;
  /** Wait keys its `step_waiting` events name, and whether a `step_woken` came after. */
  waits: Set<string>;
  woken: boolean;
}

/**
 * Replays a run's event log and compares what it says with the run's and steps' records: the run's
 * ending; each step's ending (once), its attempts, its final error, whether a fallback or a cache
 * hit gave its output; and each stored wait was announced by a `step_waiting` event (and a settled
 * one woke its step), as no wait the log names is missing from the store.
 */
async function checkEventLog(store: Store, run: RunRecord, trace: Trace): Promise<string[]> {
  const problems: string[] = [];
  const name = trace.name(run.id);
  const events = await store.listEvents({ runId: run.id, limit: 100_000 });
  let runEnding: RunStatus | undefined;
  const folds = new Map<string, StepFold>();
  const fold = (step: string): StepFold => {
    let f = folds.get(step);
    if (!f) {
      f = {
        ending: undefined,
        successes: 0,
        attempts: 0,
        fallback: false,
        cacheHit: false,
        error: undefined,
        waits: new Set(),
        woken: false,
      };
      folds.set(step, f);
    }
    return f;
  };
  for (const event of events) {
    const ending = RUN_ENDINGS[event.type];
    if (ending) {
      if (runEnding) problems.push(`${name} ended twice in its event log (${runEnding}, then ${ending})`);
      runEnding = ending;
    }
    if (!event.step) continue;
    const f = fold(event.step);
    const stepEnding = STEP_ENDINGS[event.type];
    if (stepEnding) {
      f.ending = stepEnding;
      if (stepEnding === 'succeeded') f.successes++;
    }
    if (event.type === 'step_started') f.attempts = Math.max(f.attempts, event.attempt ?? 0);
    if (event.type === 'step_fallback') f.fallback = true;
    if (event.type === 'step_cache_hit') f.cacheHit = true;
    if (event.type === 'step_failed') f.error = (JSON.parse(event.data ?? '{}') as { error?: unknown }).error;
    if (event.type === 'step_waiting') {
      for (const w of JSON.parse(event.data ?? '[]') as Array<{ key: string }>) f.waits.add(w.key);
      f.woken = false;
    }
    if (event.type === 'step_woken') f.woken = true;
  }
  if (runEnding !== run.status) problems.push(`${name} is ${run.status} but its event log ends it ${runEnding}`);
  const waits = await store.getWaits(run.id);
  for (const step of await store.getSteps(run.id)) {
    const f = fold(step.name);
    const at = `${name}/${step.name}`;
    if (f.ending !== step.status) problems.push(`${at} is ${step.status} but its event log says ${f.ending}`);
    if (f.successes > 1) problems.push(`${at} succeeded ${f.successes} times in its event log`);
    if (f.attempts !== step.attempts)
      problems.push(`${at} records ${step.attempts} attempts, its event log starts ${f.attempts}`);
    if (f.fallback !== step.fallbackUsed)
      problems.push(
        `${at} has fallbackUsed ${step.fallbackUsed}, its event log ${f.fallback ? 'has' : 'has no'} step_fallback`,
      );
    if (f.cacheHit !== step.cacheHit)
      problems.push(
        `${at} has cacheHit ${step.cacheHit}, its event log ${f.cacheHit ? 'has' : 'has no'} step_cache_hit`,
      );
    if (step.status === 'failed' && !isDeepStrictEqual(JSON.parse(step.error ?? 'null'), f.error ?? null))
      problems.push(`${at} failed with ${step.error}, its event log says ${JSON.stringify(f.error)}`);
    const stored = waits.filter((w) => w.step === step.name);
    for (const wait of stored) {
      if (!f.waits.has(wait.key)) problems.push(`${at} has wait ${wait.key}, which no step_waiting event names`);
    }
    for (const key of f.waits) {
      if (!stored.some((w) => w.key === key))
        problems.push(`${at}: its event log names wait ${key}, which the store lacks`);
    }
    if (
      step.status === 'succeeded' &&
      stored.some((w) => w.status === 'resolved' || w.status === 'timed_out') &&
      !f.woken
    )
      problems.push(`${at} succeeded after its waits settled, but its event log never woke it`);
  }
  return problems;
}

async function allRuns(store: Store): Promise<RunRecord[]> {
  const runs: RunRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listRuns({ limit: 1000, order: 'asc', ...(cursor ? { cursor } : {}) });
    runs.push(...page.runs);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return runs;
}
