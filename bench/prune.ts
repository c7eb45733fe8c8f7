/**
 * The `prune` row: pruning 1,000,000 finished runs from SQLite while W1 runs in the same process
 * (as the retention timer would), against W1 alone on the same executor and file. The runs are
 * written straight through `store.commit` in large batches, shaped as W1's are (one step, five
 * events), finished 40 days ago; the pruner (`pruneInBatches`, what prune() and the retention
 * timer run, with their pacing) then removes everything older than 30 days while W1 keeps 50 runs
 * in flight. W1's own runs are recent, so none of them is pruned (checked).
 */
import { DEFAULT_PRUNE_BATCH, pruneInBatches, pruneSelections } from '../src/executor/pruning.js';
import type { Store, WorkflowExecutor } from '../src/index.js';
import { type EventRecord, emptyBatch, type RunRecord, type StepRecord } from '../src/store/types.js';
import { type Figures, w1 } from './workloads.js';

const SEED_BATCH = 20_000;
const W1_CHUNK = 4000;

export async function pruneWhileW1(executor: WorkflowExecutor, store: Store, finishedRuns: number): Promise<Figures> {
  const seeded = performance.now();
  await seedFinishedRuns(store, finishedRuns);
  const seedSeconds = (performance.now() - seeded) / 1000;
  await w1(executor, W1_CHUNK, 50);

  // W1 chunks alternate: one with the pruner held at its next batch (alone), one with it going
  // (meanwhile). The machine drifts over minutes; alternating chunks see the same drift.
  let held: Promise<void> | undefined;
  let release = () => {};
  const hold = () => {
    held = new Promise((resolve) => {
      release = resolve;
    });
  };
  let isPruning = true;
  const now = Date.now();
  const pruning = pruneInBatches(store, pruneSelections({ olderThan: '30d' }, now), DEFAULT_PRUNE_BATCH, now, {
    beforeBatch: () => held ?? Promise.resolve(),
  }).finally(() => {
    isPruning = false;
  });
  const alone = { runs: 0, ms: 0 };
  const during = { runs: 0, ms: 0 };
  while (isPruning) {
    hold();
    let t0 = performance.now();
    await w1(executor, W1_CHUNK, 50);
    alone.runs += W1_CHUNK;
    alone.ms += performance.now() - t0;
    held = undefined;
    release();
    t0 = performance.now();
    await w1(executor, W1_CHUNK, 50);
    // Only a chunk that ran wholly while pruning counts.
    if (isPruning) {
      during.runs += W1_CHUNK;
      during.ms += performance.now() - t0;
    }
  }
  const pruned = await pruning;

  if (pruned.runs !== finishedRuns) throw new Error(`prune removed ${pruned.runs} runs, not ${finishedRuns}`);
  const left = await store.countRuns({});
  if ((left.succeeded ?? 0) === 0) throw new Error("prune removed W1's own recent runs");

  const aloneRate = alone.runs / (alone.ms / 1000);
  const duringRate = during.ms > 0 ? during.runs / (during.ms / 1000) : 0;
  return {
    finishedRuns,
    seedSeconds,
    // Time the pruner was let go (it is held during the alone chunks).
    pruneSeconds: during.ms / 1000,
    prunedRunsPerSecond: during.ms > 0 ? finishedRuns / (during.ms / 1000) : 0,
    w1AloneRunsPerSecond: aloneRate,
    w1DuringPruneRunsPerSecond: duringRate,
    w1CostPct: duringRate > 0 ? (1 - duringRate / aloneRate) * 100 : 100,
    batches: pruned.batches,
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
    priority: 0,
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
