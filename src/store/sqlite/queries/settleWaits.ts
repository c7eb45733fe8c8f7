import type Database from 'better-sqlite3';
import type { InboxEvent, InputResolution, WaitRecord } from '../../types.js';
import { eventMatchesWait, eventValue, settled } from '../../waitMatching.js';
import { WAIT_SELECT_COLUMNS } from '../waitRow.js';

const byRegistration = (a: WaitRecord, b: WaitRecord) =>
  a.createdAt - b.createdAt || (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0);

/**
 * Settles waits inside a commit's transaction, so that an event and its waiter cannot miss each
 * other: a new event wait looks back in the inbox, a new event looks for its pending waits, and an
 * input resolves the oldest pending input of its name. Each settles a whole wait group with a
 * compare-and-set (`status = 'pending'`), so a wait is settled once whatever comes first, and wakes
 * its run if the run sleeps out of memory (wake_at). Returns what it settled.
 * Indexes: waits_pending_event_idx, waits_pending_input_idx, inbox_name_created_idx,
 * inbox_name_key_created_idx.
 */
export function prepareSettleWaits(db: Database.Database) {
  // The waits an event may match: those that want its key, and those that take any key.
  const pendingWithKey = db.prepare<[string, string], WaitRecord>(
    `SELECT ${WAIT_SELECT_COLUMNS} FROM waits
      WHERE status = 'pending' AND kind = 'event' AND name = ? AND event_key = ?`,
  );
  const pendingAnyKey = db.prepare<[string], WaitRecord>(
    `SELECT ${WAIT_SELECT_COLUMNS} FROM waits
      WHERE status = 'pending' AND kind = 'event' AND name = ? AND event_key IS NULL`,
  );
  const EVENT_COLUMNS = 'seq, name, key, payload, idempotency_key AS idempotencyKey, created_at AS createdAt';
  const lookBack = db.prepare<[string, number, number], Required<InboxEvent>>(
    `SELECT ${EVENT_COLUMNS} FROM inbox WHERE name = ? AND created_at >= ? AND seq > ? ORDER BY seq`,
  );
  const lookBackWithKey = db.prepare<[string, string, number, number], Required<InboxEvent>>(
    `SELECT ${EVENT_COLUMNS} FROM inbox WHERE name = ? AND key = ? AND created_at >= ? AND seq > ? ORDER BY seq`,
  );
  // An input whose timeout has passed is over, even if nothing has marked it timed out yet.
  const pendingInput = db.prepare<[string, string, number], WaitRecord>(
    `SELECT ${WAIT_SELECT_COLUMNS} FROM waits
      WHERE run_id = ? AND name = ? AND status = 'pending' AND kind = 'input' AND (due_at IS NULL OR due_at > ?)
      ORDER BY created_at, key LIMIT 1`,
  );
  const settle = db.prepare(
    `UPDATE waits SET status = ?, value = ?, resolved_at = ?
      WHERE run_id = ? AND step = ? AND key = ? AND status = 'pending'`,
  );
  const groupOthers = db.prepare<[string, string, string, string], WaitRecord>(
    `SELECT ${WAIT_SELECT_COLUMNS} FROM waits
      WHERE run_id = ? AND step = ? AND grp = ? AND key <> ? AND status = 'pending'`,
  );
  const wakeRun = db.prepare('UPDATE runs SET wake_at = ? WHERE id = ? AND wake_at > ?');

  /** Settles `wait` and cancels the rest of its group; false if it was no longer pending. */
  const settleGroup = (wait: WaitRecord, value: string, at: number, out: WaitRecord[]): boolean => {
    if (settle.run('resolved', value, at, wait.runId, wait.step, wait.key).changes === 0) return false;
    out.push(settled(wait, 'resolved', value, at));
    for (const other of groupOthers.all(wait.runId, wait.step, wait.group, wait.key)) {
      settle.run('cancelled', null, at, other.runId, other.step, other.key);
      out.push(settled(other, 'cancelled', null, at));
    }
    wakeRun.run(at, wait.runId, at);
    return true;
  };

  return {
    /** New pending event waits look back in the inbox for an event that arrived before them. */
    registered(waits: readonly WaitRecord[], at: number, out: WaitRecord[]): void {
      for (const wait of waits) {
        if (wait.kind !== 'event' || wait.status !== 'pending' || wait.name === null) continue;
        // Found first, settled after: the connection cannot write while the look-back cursor is open.
        let found: InboxEvent | undefined;
        const since = wait.since ?? 0;
        const afterSeq = wait.afterSeq ?? 0;
        const events =
          wait.eventKey === null
            ? lookBack.iterate(wait.name, since, afterSeq)
            : lookBackWithKey.iterate(wait.name, wait.eventKey, since, afterSeq);
        for (const event of events) {
          if (!eventMatchesWait(wait, event, JSON.parse(event.payload))) continue;
          found = event;
          break;
        }
        if (found) settleGroup(wait, eventValue(found), at, out);
      }
    },
    /** New events resolve the pending waits they match (each waiter once). */
    delivered(events: readonly InboxEvent[], at: number, out: WaitRecord[]): void {
      for (const event of events) {
        const payload = JSON.parse(event.payload);
        const candidates = pendingAnyKey.all(event.name);
        if (event.key !== null) candidates.push(...pendingWithKey.all(event.name, event.key));
        // In the order they registered, as one query over the name would give them.
        if (event.key !== null) candidates.sort(byRegistration);
        for (const wait of candidates) {
          if (eventMatchesWait(wait, event, payload)) settleGroup(wait, eventValue(event), at, out);
        }
      }
    },
    /** Values for pending inputs; returns the inputs that found none. */
    inputs(inputs: readonly InputResolution[], out: WaitRecord[]): InputResolution[] {
      const unmatched: InputResolution[] = [];
      for (const input of inputs) {
        const wait = pendingInput.get(input.runId, input.name, input.at);
        if (!wait || !settleGroup(wait, input.value, input.at, out)) unmatched.push(input);
      }
      return unmatched;
    },
  };
}
