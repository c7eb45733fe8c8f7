import type Database from 'better-sqlite3';
import type { RunRecord } from '../../types.js';
import { prepareRowWriter } from '../rowWriter.js';
import { bindRun, RUN_COLUMN_COUNT, RUN_INSERT_COLUMNS } from '../runRow.js';

/**
 * Inserts new runs. A run whose id, idempotency key or (parent run, parent step, spawn key) is
 * already taken is skipped (the first one wins) and its id returned.
 * Indexes: the runs primary key, runs_idempotency_key_idx and runs_spawn_key_idx decide conflicts.
 *
 * `ON CONFLICT DO NOTHING` rather than `INSERT OR IGNORE`: both skip uniqueness conflicts, but
 * OR IGNORE also skips NOT NULL failures, so a malformed run would vanish without failing its batch.
 *
 * Rows go up to 256 per statement (rowWriter.ts). A statement reports only how many rows it
 * inserted; when that is fewer than it was given (rare: a retried spawn or idempotent start), the
 * skipped ones are found by rowid: a statement's inserted rows take the consecutive rowids ending
 * at lastInsertRowid.
 */
export function prepareInsertRuns(db: Database.Database): (runs: readonly RunRecord[]) => string[] {
  const writer = prepareRowWriter<RunRecord>(
    db,
    RUN_COLUMN_COUNT,
    (values) => `INSERT INTO runs (${RUN_INSERT_COLUMNS}) VALUES ${values} ON CONFLICT DO NOTHING`,
    bindRun,
  );
  const rowidOf = db.prepare<[string], number>('SELECT rowid FROM runs WHERE id = ?').pluck();

  return (runs) => {
    const duplicateIds: string[] = [];
    writer.write(runs, (result, first, count) => {
      if (result.changes === count) return;
      const lastRowid = Number(result.lastInsertRowid);
      const firstRowid = lastRowid - result.changes + 1;
      const inserted = new Set<string>();
      for (let i = first; i < first + count; i++) {
        const id = runs[i]!.id;
        const rowid = result.changes === 0 ? undefined : rowidOf.get(id);
        // The same id twice in one statement: the first copy is the inserted one.
        if (rowid !== undefined && rowid >= firstRowid && rowid <= lastRowid && !inserted.has(id)) inserted.add(id);
        else duplicateIds.push(id);
      }
    });
    return duplicateIds;
  };
}
