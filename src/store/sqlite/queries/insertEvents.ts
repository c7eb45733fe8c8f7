import type Database from 'better-sqlite3';
import type { EventRecord } from '../../types.js';
import { prepareRowWriter } from '../rowWriter.js';

/**
 * Appends events and returns the seq SQLite gave each, in order. Rows go up to 256 per statement
 * (rowWriter.ts); the rows of one statement take consecutive seqs ending at its lastInsertRowid,
 * since the batch's transaction is the only writer. Index: events_run_seq_idx is maintained.
 */
export function prepareInsertEvents(db: Database.Database): (events: readonly EventRecord[]) => number[] {
  const writer = prepareRowWriter<EventRecord>(
    db,
    6,
    (values) => `INSERT INTO events (run_id, step, type, at, attempt, data) VALUES ${values}`,
    bindEvent,
  );
  return (events) => {
    const seqs = new Array<number>(events.length);
    writer.write(events, (result, first, count) => {
      const last = Number(result.lastInsertRowid);
      for (let i = 0; i < count; i++) seqs[first + i] = last - count + 1 + i;
    });
    return seqs;
  };
}

function bindEvent(event: EventRecord, params: unknown[], offset: number): void {
  params[offset] = event.runId;
  params[offset + 1] = event.step;
  params[offset + 2] = event.type;
  params[offset + 3] = event.at;
  params[offset + 4] = event.attempt;
  params[offset + 5] = event.data;
}
