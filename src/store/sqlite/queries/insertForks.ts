import type Database from 'better-sqlite3';
import type { ForkRecord } from '../../types.js';

/**
 * Inserts fork links, in the commit's transaction, for the runs of the batch that were inserted
 * (a fork's run is never a duplicate: it has no idempotency key and no parent, but a link must
 * never point at a run that is not there). Index: the forks primary key.
 */
export function prepareInsertForks(
  db: Database.Database,
): (forks: readonly ForkRecord[], skipped: readonly string[]) => void {
  const insert = db.prepare<[string, string, string, string, string, number]>(
    `INSERT INTO forks (run_id, forked_from, from_step, reused_steps, overridden_steps, created_at)
     VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  );
  return (forks, skipped) => {
    for (const f of forks) {
      if (skipped.includes(f.runId)) continue;
      insert.run(
        f.runId,
        f.forkedFrom,
        f.fromStep,
        JSON.stringify(f.reusedSteps),
        JSON.stringify(f.overriddenSteps),
        f.createdAt,
      );
    }
  };
}
