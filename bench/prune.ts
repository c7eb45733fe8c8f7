/**
 * The `prune` row: pruning 1,000,000 finished runs from SQLite while W1 runs in the same process
 * (as the retention timer would), against W1 alone on the same executor and file. The runs are
 * written straight through `store.commit` in large batches, shaped as W1's are (one step, five
 * events), finished 40 days ago; `pruneStore` then removes everything older than 30 days while W1
 * keeps 50 runs in flight. W1's own runs are recent, so none of them is pruned (checked).
 */
import { pruneStore, type Store, type WorkflowExecutor } from '../src/index.js';
import { type EventRecord, emptyBatch, type RunRecord, type StepRecord } from '../src/store/types.js';
import { type Figures, w1 } from './workloads.js';

const SEED_BATCH = 20_000;
const W1_CHUNK = 4000;

export async function pruneWhileW1(executor: WorkflowExecutor, store: Store, finishedRuns: number): Promise<Figures> {
  const seeded = performance.now();
  await seedFinishedRuns(store, finishedRuns);
  const seedSeconds = (performance.now() - seeded) / 1000;

  // W1 alone, before and after: the machine drifts, so the pair brackets it.
  const aloneBefore = (await w1(executor, 3 * W1_CHUNK, 50)).runsPerSecond as number;

  let isPruning = true;
  const started = performance.now();
  const pruning = pruneStore(store, { olderThan: '30d' }).finally(() => {
    isPruning = false;
  });
  let during = 0;
  let duringMs = 0;
  while (isPruning) {
    const t0 = performance.now();
    await w1(executor, W1_CHUNK, 50);
    // Only chunks that ran wholly while pruning count.
    if (isPruning) {
      during += W1_CHUNK;
      duringMs += performance.now() - t0;
    }
  }
  const pruned = await pruning;
  const pruneSeconds = (performance.now() - started) / 1000;
  const aloneAfter = (await w1(executor, 3 * W1_CHUNK, 50)).runsPerSecond as number;

  if (pruned.runs !== finishedRuns) throw new Error(`prune removed ${pruned.runs} runs, not ${finishedRuns}`);
  const left = await store.countRuns({});
  if ((left.succeeded ?? 0) === 0) throw new Error("prune removed W1's own recent runs");

  const alone = (aloneBefore + aloneAfter) / 2;
  const duringRate = during / (duringMs / 1000);
  return {
    finishedRuns,
    seedSeconds,
    pruneSeconds,
    prunedRunsPerSecond: finishedRuns / pruneSeconds,
    w1AloneRunsPerSecond: alone,
    w1DuringPruneRunsPerSecond: duringRate,
    w1CostPct: duringRate > 0 ? (1 - duringRate / alone) * 100 : 100,
  };
}

/** Finished one-step runs of `w1-one`, 40 days old, committed SEED_BATCH at a time. */
async function seedFinishedRuns(store: Store, total: number): Promise<void> {
  const at = Date.now() - 40 * 86_400_000;
  for (let start = 0; start < total; start += SEED_BATCH) {
    const batch = emptyBatch();
    for (let i = start; i < Math.min(total, start + SEED_BATCH); i++) {
      const id = `old-${String(i).padStart(8, '0')}`;
      batch.newRuns.push(finishedRun(id, at + i));
      batch.steps.push(finishedStep(id, at + i));
      for (const type of ['run_created', 'run_started', 'step_started', 'step_succeeded', 'run_succeeded'] as const) {
        batch.events.push(event(id, type, at + i));
      }
    }
    await store.commit(batch);
  }
}

function finishedRun(id: string, at: number): RunRecord {
  return {
    id,
    workflow: 'w1-one',
    version: '1',
    status: 'succeeded',
    input: '{"x":1}',
    output: '2',
    error: null,
    globals: '{}',
    idempotencyKey: null,
    parentRunId: null,
    parentStep: null,
    spawnKey: null,
    rootRunId: id,
    concurrencyKey: null,
    replayOf: null,
    createdAt: at,
    startedAt: at,
    finishedAt: at + 1,
    deadlineAt: null,
    checkpointSeq: 0,
    wakeAt: null,
    pausedAt: null,
  };
}

function finishedStep(runId: string, at: number): StepRecord {
  return {
    runId,
    name: 'double',
    status: 'succeeded',
    attempts: 1,
    output: '2',
    error: null,
    startedAt: at,
    finishedAt: at + 1,
    nextAttemptAt: null,
    route: null,
    cacheHit: false,
    fallbackUsed: false,
  };
}

function event(runId: string, type: EventRecord['type'], at: number): EventRecord {
  return { runId, step: type.startsWith('step') ? 'double' : null, type, at, attempt: null, data: null };
}
