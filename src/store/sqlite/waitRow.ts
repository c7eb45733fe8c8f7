import type { WaitRecord } from '../types.js';

/** Reads a `waits` row straight into WaitRecord shape. */
export const WAIT_SELECT_COLUMNS =
  'run_id AS runId, step, key, grp AS "group", kind, status, due_at AS dueAt, name, event_key AS eventKey, ' +
  'match, since, after_seq AS afterSeq, request, value, created_at AS createdAt, resolved_at AS resolvedAt';

export const WAIT_COLUMN_COUNT = 16;

export const WAIT_INSERT_COLUMNS =
  'run_id, step, key, grp, kind, status, due_at, name, event_key, match, since, after_seq, request, value, created_at, ' +
  'resolved_at';

export function bindWait(w: WaitRecord, params: unknown[], offset: number): void {
  params[offset] = w.runId;
  params[offset + 1] = w.step;
  params[offset + 2] = w.key;
  params[offset + 3] = w.group;
  params[offset + 4] = w.kind;
  params[offset + 5] = w.status;
  params[offset + 6] = w.dueAt;
  params[offset + 7] = w.name;
  params[offset + 8] = w.eventKey;
  params[offset + 9] = w.match;
  params[offset + 10] = w.since;
  params[offset + 11] = w.afterSeq;
  params[offset + 12] = w.request;
  params[offset + 13] = w.value;
  params[offset + 14] = w.createdAt;
  params[offset + 15] = w.resolvedAt;
}
