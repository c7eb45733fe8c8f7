/**
 * W8's storage floor: what waking one sleeper costs SQLite alone, with no engine code.
 *
 *   npx tsx bench/wakeFloor.ts [runs=100000] [batch=500]
 *
 * On a fresh file with Braid's schema (the SQLite migrations) and its pragmas (WAL,
 * synchronous=NORMAL, wal_autocheckpoint 10,000 pages), it seeds `runs` sleepers shaped as W8's
 * (a run row asleep with a wake_at, its one step waiting, its pending sleep wait, the four events
 * written while it went to sleep), all due at one instant. Then it wakes them, batch after batch,
 * reading and writing exactly the rows the engine does for a woken W8 run (a dump of the engine's
 * reads and WriteBatch, 2026-12-01):
 *
 *   reads, per batch of `batch` runs: the due runs (listRunsToWake's keyset statement), their
 *     steps and their waits (by run ids, json_each), the child links of their waiting steps
 *     (none here, but the statement runs): 1 run + 1 step + 1 wait row per run;
 *   writes, in one transaction per batch: per run an UPDATE of its row (status, output,
 *     finished_at, checkpoint_seq, wake_at cleared), an upsert of its step (multi-row, 256/16/1 as
 *     rowWriter), an upsert of its wait (one statement each, as upsertWaits) and four events
 *     (step_woken, run_woken, step_succeeded, run_succeeded; multi-row): 1 + 1 + 1 + 4 rows.
 *
 * Twice: `sql`, the statements bound straight from the rows read as arrays (the floor: SQLite and
 * better-sqlite3 only), and `store`, through SqliteStore's own reads and commit(WriteBatch) with
 * records shaped as the engine's (what the store adds to the floor). Prints CPU µs per wake-up
 * (process.cpuUsage, all threads) for the reads, the writes and the whole, and the longest commit
 * (a WAL checkpoint runs inside the commit that crosses the threshold).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from '../src/store/sqlite/migrate.js';
import { SqliteStore } from '../src/store/sqlite/sqliteStore.js';
import type { EventRecord, RunRecord, StepRecord, WaitRecord, WriteBatch } from '../src/store/types.js';
import { cpuUs } from './cpu.js';

const total = Number(process.argv[2] ?? 100_000);
const batchSize = Number(process.argv[3] ?? 500);
const WORKFLOW = 'w8-sleeper';
const STEP = 'nap';

interface Phase {
  readUs: number;
  writeUs: number;
  maxCommitMs: number;
  commits: number;
}

/** 26-character ids that sort by creation, as the engine's. */
const idOf = (i: number) => `01M8SYV2ZZ${i.toString(36).toUpperCase().padStart(16, '0')}`;

function openFile(file: string): Database.Database {
  const db = new Database(file);
  db.pragma('auto_vacuum = INCREMENTAL');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('wal_autocheckpoint = 10000');
  db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
  return db;
}

/** Writes `total` W8 sleepers, all due at `dueAt`, as the engine leaves them. */
function seed(db: Database.Database, dueAt: number): void {
  const createdAt = dueAt - 60_000;
  const run = db.prepare(
    `INSERT INTO runs (id, workflow, version, status, input, output, error, globals, root_run_id, created_at,
                       started_at, deadline_at, checkpoint_seq, wake_at, priority)
     VALUES (?, '${WORKFLOW}', '1', 'waiting', ?, NULL, NULL, '{}', ?, ?, ?, ?, 0, ?, 0)`,
  );
  const step = db.prepare(
    `INSERT INTO steps (run_id, name, status, attempts, started_at, cache_hit, fallback_used)
     VALUES (?, '${STEP}', 'waiting', 1, ?, 0, 0)`,
  );
  const wait = db.prepare(
    `INSERT INTO waits (run_id, step, key, grp, kind, status, due_at, created_at)
     VALUES (?, '${STEP}', 'sleep#0', 'sleep#0', 'sleep', 'pending', ?, ?)`,
  );
  const event = db.prepare('INSERT INTO events (run_id, step, type, at, attempt, data) VALUES (?, ?, ?, ?, ?, ?)');
  const sleepData = JSON.stringify([{ key: 'sleep#0', kind: 'sleep', name: null, dueAt }]);
  const write = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const id = idOf(i);
      run.run(id, JSON.stringify({ i, at: dueAt }), id, createdAt, createdAt, createdAt + 300_000, dueAt);
      step.run(id, createdAt);
      wait.run(id, dueAt, createdAt);
      event.run(id, null, 'run_started', createdAt, null, null);
      event.run(id, STEP, 'step_started', createdAt, 1, null);
      event.run(id, STEP, 'step_waiting', createdAt, 1, sleepData);
      event.run(id, null, 'run_waiting', createdAt, null, null);
    }
  });
  for (let i = 0; i < total; i += 10_000) write(i, Math.min(total, i + 10_000));
  db.pragma('wal_checkpoint(TRUNCATE)');
}

/** The floor: the engine's statements, bound straight from rows read as arrays. */
function wakeWithSql(db: Database.Database, now: number): Phase {
  const due = db
    .prepare(
      `SELECT id, workflow, version, status, input, output, error, globals, idempotency_key, parent_run_id,
              parent_step, spawn_key, root_run_id, concurrency_key, replay_of, created_at, started_at,
              finished_at, deadline_at, checkpoint_seq, wake_at, paused_at, priority
         FROM runs INDEXED BY runs_wake_idx
        WHERE wake_at IS NOT NULL AND wake_at <= ? AND (wake_at, id) > (?, ?)
          AND status IN ('queued', 'running', 'waiting') AND workflow IN (SELECT value FROM json_each(?))
        ORDER BY wake_at, id LIMIT ?`,
    )
    .raw();
  const steps = db
    .prepare(
      `SELECT run_id, name, status, attempts, output, error, started_at, finished_at, next_attempt_at, route,
              cache_hit, fallback_used
         FROM steps WHERE run_id IN (SELECT value FROM json_each(?)) ORDER BY run_id, name`,
    )
    .raw();
  const waits = db
    .prepare(
      `SELECT run_id, step, key, grp, kind, status, due_at, name, event_key, match, since, after_seq, request, value,
              created_at, resolved_at
         FROM waits WHERE run_id IN (SELECT value FROM json_each(?)) ORDER BY created_at, step, key`,
    )
    .raw();
  const links = db.prepare(
    `SELECT s.key AS i, r.spawn_key, r.id, r.workflow, r.status, r.output, r.error
       FROM json_each(?) AS s
       JOIN runs AS r INDEXED BY runs_spawn_key_idx
         ON r.parent_run_id = s.value ->> 0 AND r.parent_step = s.value ->> 1 AND r.spawn_key IS NOT NULL
      ORDER BY s.key, r.created_at, r.id`,
  );
  const updateRun = db.prepare(
    `UPDATE runs SET status = ?, output = ?, error = ?, started_at = ?, finished_at = ?, deadline_at = ?,
                     globals = ?, checkpoint_seq = ?, wake_at = ?, paused_at = ?
      WHERE id = ? AND status NOT IN ('succeeded', 'failed', 'cancelled', 'timed_out')`,
  );
  const upsertWait = db.prepare(
    `INSERT INTO waits (run_id, step, key, grp, kind, status, due_at, name, event_key, match, since, after_seq,
                        request, value, created_at, resolved_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (run_id, step, key) DO UPDATE SET
       status = excluded.status, due_at = excluded.due_at, value = excluded.value, resolved_at = excluded.resolved_at,
       since = excluded.since, after_seq = excluded.after_seq, request = excluded.request
     WHERE waits.status = 'pending'`,
  );
  const multi = (columns: number, rows: number, sql: (values: string) => string) =>
    db.prepare(
      sql(
        Array(rows)
          .fill(`(${Array(columns).fill('?').join(', ')})`)
          .join(', '),
      ),
    );
  const stepSql = (values: string) =>
    `INSERT INTO steps (run_id, name, status, attempts, output, error, started_at, finished_at, next_attempt_at,
                        route, cache_hit, fallback_used) VALUES ${values}
     ON CONFLICT (run_id, name) DO UPDATE SET status = excluded.status, attempts = excluded.attempts,
       output = excluded.output, error = excluded.error, started_at = excluded.started_at,
       finished_at = excluded.finished_at, next_attempt_at = excluded.next_attempt_at, route = excluded.route,
       cache_hit = excluded.cache_hit, fallback_used = excluded.fallback_used`;
  const eventSql = (values: string) => `INSERT INTO events (run_id, step, type, at, attempt, data) VALUES ${values}`;
  const stepWriters = [256, 16, 1].map((rows) => ({ rows, statement: multi(12, rows, stepSql) }));
  const eventWriters = [256, 16, 1].map((rows) => ({ rows, statement: multi(6, rows, eventSql) }));
  const writeRows = (writers: typeof stepWriters, rows: unknown[][]) => {
    let i = 0;
    for (const { rows: n, statement } of writers) {
      for (; i + n <= rows.length; i += n) statement.run(rows.slice(i, i + n).flat());
    }
  };
  const wokenData = JSON.stringify({ key: 'sleep#0', status: 'resolved' });
  const commit = db.transaction((runs: unknown[][], stepRows: unknown[][], waitRows: unknown[][], at: number) => {
    for (const r of runs) updateRun.run('succeeded', '1', null, r[16], at, r[18], r[7], 1, null, null, r[0]);
    writeRows(
      stepWriters,
      stepRows.map((s) => [s[0], s[1], 'succeeded', s[3], '1', null, s[6], at, null, null, 0, 0]),
    );
    for (const w of waitRows) {
      upsertWait.run(
        w[0],
        w[1],
        w[2],
        w[3],
        w[4],
        'resolved',
        w[6],
        w[7],
        w[8],
        w[9],
        w[10],
        w[11],
        w[12],
        w[13],
        w[14],
        at,
      );
    }
    writeRows(
      eventWriters,
      runs.flatMap((r) => [
        [r[0], STEP, 'step_woken', at, 1, wokenData],
        [r[0], null, 'run_woken', at, null, null],
        [r[0], STEP, 'step_succeeded', at, 1, null],
        [r[0], null, 'run_succeeded', at, null, null],
      ]),
    );
  });
  const phase: Phase = { readUs: 0, writeUs: 0, maxCommitMs: 0, commits: 0 };
  const workflows = JSON.stringify([WORKFLOW]);
  let after: [number, string] = [Number.MIN_SAFE_INTEGER, ''];
  for (;;) {
    const t0 = cpuUs();
    const runs = due.all(now, after[0], after[1], workflows, batchSize) as unknown[][];
    if (!runs.length) break;
    const last = runs[runs.length - 1] as unknown[];
    after = [last[20] as number, last[0] as string];
    const ids = JSON.stringify(runs.map((r) => r[0]));
    const stepRows = steps.all(ids) as unknown[][];
    const waitRows = waits.all(ids) as unknown[][];
    links.all(JSON.stringify(runs.map((r) => [r[0], STEP])));
    const t1 = cpuUs();
    const w0 = performance.now();
    commit.immediate(runs, stepRows, waitRows, Date.now());
    phase.maxCommitMs = Math.max(phase.maxCommitMs, performance.now() - w0);
    phase.commits++;
    phase.readUs += t1 - t0;
    phase.writeUs += cpuUs() - t1;
  }
  return phase;
}

/** The same rows through SqliteStore: its reads, and commit() of WriteBatches shaped as the engine's. */
async function wakeWithStore(store: SqliteStore, now: number): Promise<Phase> {
  const phase: Phase = { readUs: 0, writeUs: 0, maxCommitMs: 0, commits: 0 };
  let after: { wakeAt: number; id: string } | undefined;
  for (;;) {
    const t0 = cpuUs();
    const runs = await store.listRunsToWake(now, batchSize, [WORKFLOW], after);
    if (!runs.length) break;
    const last = runs[runs.length - 1] as RunRecord;
    after = { wakeAt: last.wakeAt as number, id: last.id };
    const states = await store.getRunStates(runs.map((r) => r.id));
    await store.getChildLinksOfSteps(runs.map((r) => ({ runId: r.id, step: STEP })));
    const t1 = cpuUs();
    const at = Date.now();
    const batch: WriteBatch = { newRuns: [], runUpdates: [], steps: [], events: [], cache: [], at, waits: [] };
    for (const run of runs) {
      const state = states.get(run.id);
      batch.runUpdates.push({
        ...run,
        status: 'succeeded',
        output: '1',
        finishedAt: at,
        checkpointSeq: 1,
        wakeAt: null,
      });
      for (const s of state?.steps ?? []) {
        batch.steps.push({ ...s, status: 'succeeded', output: '1', finishedAt: at } satisfies StepRecord);
      }
      for (const w of state?.waits ?? [])
        batch.waits?.push({ ...w, status: 'resolved', resolvedAt: at } satisfies WaitRecord);
      const events: EventRecord[] = [
        {
          runId: run.id,
          step: STEP,
          type: 'step_woken',
          at,
          attempt: 1,
          data: '{"key":"sleep#0","status":"resolved"}',
        },
        { runId: run.id, step: null, type: 'run_woken', at, attempt: null, data: null },
        { runId: run.id, step: STEP, type: 'step_succeeded', at, attempt: 1, data: null },
        { runId: run.id, step: null, type: 'run_succeeded', at, attempt: null, data: null },
      ];
      batch.events.push(...events);
    }
    const w0 = performance.now();
    await store.commit(batch);
    phase.maxCommitMs = Math.max(phase.maxCommitMs, performance.now() - w0);
    phase.commits++;
    phase.readUs += t1 - t0;
    phase.writeUs += cpuUs() - t1;
  }
  return phase;
}

/** Every sleeper woke and ended as the engine would leave it: a figure is never bought with a wrong answer. */
function checkWoken(file: string): void {
  const db = new Database(file, { readonly: true });
  try {
    const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    const succeeded = count(`SELECT count(*) AS n FROM runs WHERE status = 'succeeded' AND wake_at IS NULL`);
    const stepsDone = count(`SELECT count(*) AS n FROM steps WHERE status = 'succeeded'`);
    const waitsSettled = count(`SELECT count(*) AS n FROM waits WHERE status <> 'pending'`);
    const events = count('SELECT count(*) AS n FROM events');
    if (succeeded !== total || stepsDone !== total || waitsSettled !== total || events !== total * 8) {
      throw new Error(
        `wake floor check failed: ${succeeded} runs, ${stepsDone} steps succeeded, ${waitsSettled} waits settled, ` +
          `${events} events, for ${total} sleepers (expected ${total * 8} events)`,
      );
    }
  } finally {
    db.close();
  }
}

function report(name: string, p: Phase): void {
  const per = (us: number) => (us / total).toFixed(1);
  console.log(
    `${name}: ${per(p.readUs + p.writeUs)} µs CPU per wake-up (reads ${per(p.readUs)}, writes ${per(p.writeUs)}), ` +
      `${p.commits} commits, longest ${p.maxCommitMs.toFixed(1)} ms; ` +
      `${Math.round((total / (p.readUs + p.writeUs)) * 1e6)} wake-ups per CPU-second`,
  );
}

const scratch = mkdtempSync(path.join(os.tmpdir(), 'braid-wake-floor-'));
try {
  const dueAt = Date.now();
  for (const mode of ['sql', 'store'] as const) {
    const file = path.join(scratch, `${mode}.db`);
    const db = openFile(file);
    migrate(db, `sqlite:${file}`);
    seed(db, dueAt);
    if (mode === 'sql') {
      report(mode, wakeWithSql(db, dueAt));
      db.close();
    } else {
      db.close();
      const store = new SqliteStore({ path: file });
      await store.open();
      report(mode, await wakeWithStore(store, dueAt));
      await store.close();
    }
    checkWoken(file);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
