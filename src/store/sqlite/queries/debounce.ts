import type Database from 'better-sqlite3';
import {
  type DebounceResult,
  type DebounceTrigger,
  debounceDueAt,
  type EventRecord,
  type RunRecord,
} from '../../types.js';

interface DebounceRow {
  runId: string;
  firstAt: number;
  triggers: number;
}

/**
 * Records a trigger of a debounced workflow (see DebounceTrigger) in one IMMEDIATE transaction, so
 * triggers of one key from two executors on the file are serialised by SQLite's write lock. The
 * key's run is pending while it is queued, not started and its wake_at still ahead: a trigger then
 * replaces its input and moves wake_at; otherwise it inserts `trigger.run`. Index: debounces
 * primary key, runs primary key.
 */
export function prepareDebounce(
  db: Database.Database,
  insertRuns: (runs: readonly RunRecord[]) => string[],
  insertEvents: (events: readonly EventRecord[]) => number[],
): (trigger: DebounceTrigger) => DebounceResult {
  const find = db.prepare<[string, string, number], DebounceRow>(
    `SELECT d.run_id AS runId, d.first_at AS firstAt, d.triggers
       FROM debounces d JOIN runs r ON r.id = d.run_id
      WHERE d.workflow = ? AND d.key = ?
        AND r.status = 'queued' AND r.started_at IS NULL AND r.wake_at > ?`,
  );
  const joinRun = db.prepare<[string, number, number, string]>(
    'UPDATE runs SET input = ?, priority = ?, wake_at = ? WHERE id = ?',
  );
  const joinKey = db.prepare<[number, number, string, string]>(
    'UPDATE debounces SET last_at = ?, due_at = ?, triggers = triggers + 1 WHERE workflow = ? AND key = ?',
  );
  const startKey = db.prepare<[string, string, string, number, number, number]>(
    `INSERT INTO debounces (workflow, key, run_id, first_at, last_at, due_at, triggers) VALUES (?, ?, ?, ?, ?, ?, 1)
     ON CONFLICT (workflow, key) DO UPDATE SET run_id = excluded.run_id, first_at = excluded.first_at,
       last_at = excluded.last_at, due_at = excluded.due_at, triggers = 1`,
  );
  const record = db.transaction((trigger: DebounceTrigger): DebounceResult => {
    const { key, now, windowMs, maxWaitMs } = trigger;
    const workflow = trigger.run.workflow;
    const pending = find.get(workflow, key, now);
    let result: DebounceResult;
    if (pending) {
      const dueAt = debounceDueAt(pending.firstAt, now, windowMs, maxWaitMs);
      joinRun.run(trigger.run.input, trigger.run.priority, dueAt, pending.runId);
      joinKey.run(now, dueAt, workflow, key);
      result = { runId: pending.runId, isNew: false, triggers: pending.triggers + 1, dueAt };
    } else {
      const dueAt = debounceDueAt(now, now, windowMs, maxWaitMs);
      if (insertRuns([{ ...trigger.run, wakeAt: dueAt }]).length) {
        throw new Error(`Run ${trigger.run.id} exists already; a debounce needs a new run id.`);
      }
      startKey.run(workflow, key, trigger.run.id, now, now, dueAt);
      result = { runId: trigger.run.id, isNew: true, triggers: 1, dueAt };
    }
    const data = JSON.stringify({ reason: 'debounce', key, trigger: result.triggers });
    insertEvents([{ runId: result.runId, step: null, type: 'run_queued', at: now, attempt: null, data }]);
    return result;
  });
  return (trigger) => record.immediate(trigger);
}
