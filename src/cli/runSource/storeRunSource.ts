import { PostgresStore, RunNotFoundError, SqliteStore, type Store } from '../../index.js';
import { readRunEvents, stepsInDagOrder } from '../../server/runSteps.js';
import { runView, waitView } from '../../server/views.js';
import type { RunListQuery, RunPageJson } from '../apiClient.js';
import { type ChildCounts, type RunReport, type RunSource, sumCounts } from './runReport.js';

/** Reads the SQLite file itself. Readers take no executor lock: this works beside `braid dev` too. */
export function openSqliteSource(path: string): Promise<StoreRunSource> {
  return StoreRunSource.open(new SqliteStore({ path }));
}

/**
 * Reads a PostgreSQL database itself. It never migrates (a reader must not change the schema
 * under running workers): a database without Braid's schema says to run `braid migrate`.
 */
export function openPostgresSource(connectionString: string): Promise<StoreRunSource> {
  return StoreRunSource.open(
    new PostgresStore({ connectionString, migrate: false, poolSize: 2, applicationName: 'braid (read)' }),
  );
}

/**
 * Reads runs from the database itself, when no server is running. Without the workflow
 * definitions, steps the run has not reached are not known: only stored steps are shown, with no
 * parents.
 */
export class StoreRunSource implements RunSource {
  readonly description: string;

  private constructor(private readonly store: Store) {
    this.description = store.description;
  }

  static async open(store: Store): Promise<StoreRunSource> {
    await store.open();
    return new StoreRunSource(store);
  }

  async listRuns(query: RunListQuery): Promise<RunPageJson> {
    const page = await this.store.listRuns({
      workflow: query.workflow,
      status: query.status,
      parentRunId: query.parentRunId,
      rootRunId: query.rootRunId,
      since: query.since,
      until: query.until,
      limit: query.limit,
      cursor: query.cursor,
    });
    const now = Date.now();
    return { runs: page.runs.map((r) => runView(r, now)), nextCursor: page.nextCursor };
  }

  async getReport(runId: string): Promise<RunReport> {
    const run = await this.store.getRun(runId);
    if (!run) throw new RunNotFoundError(runId);
    const [steps, events, counts, waits] = await Promise.all([
      this.store.getSteps(runId),
      readRunEvents(this.store, runId),
      this.store.countRuns({ parentRunId: runId }),
      this.store.getWaits(runId),
    ]);
    const now = Date.now();
    const ordered = stepsInDagOrder(steps, undefined, events, now);
    const byStep: Record<string, ChildCounts> = {};
    if (sumCounts(counts) > 0) {
      for (const step of ordered) {
        if (step.attempts === 0) continue;
        const stepCounts = await this.store.countRuns({ parentRunId: runId, parentStep: step.name });
        const total = sumCounts(stepCounts);
        if (total > 0) byStep[step.name] = { total, counts: stepCounts };
      }
    }
    return {
      run: runView(run, now),
      steps: ordered,
      waits: waits.map(waitView),
      children: { total: sumCounts(counts), counts, byStep },
      parent: run.parentRunId === null ? null : { runId: run.parentRunId, step: run.parentStep },
      replayOf: run.replayOf,
    };
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
