/**
 * What `braid dev` and `braid worker` share: load the workflow files, open an executor on the
 * SQLite file (which takes the file's executor lock and resumes its unfinished runs) or on a
 * PostgreSQL database (where it joins the other workers and claims runs), log runs as they end,
 * and stop cleanly on SIGINT / SIGTERM.
 */
import {
  type EventRecord,
  isTerminalRun,
  PostgresStore,
  type RunHandle,
  type RunStatus,
  SqliteStore,
  type Store,
  type Workflow,
  WorkflowExecutor,
} from '../index.js';
import { MissingPoolError } from './errors.js';
import { loadWorkflows } from './loadWorkflows.js';
import type { Colors } from './render/colors.js';
import { type EndedRun, runEndLine } from './render/runLog.js';
import { sumCounts } from './runSource/runReport.js';

export interface HostOptions {
  files: readonly string[];
  db: string;
  /** A PostgreSQL database instead of the SQLite file: the process becomes one of many workers. */
  databaseUrl?: string | undefined;
  pools: Record<string, number>;
  maxParallel?: number;
  /** On Postgres: how long running steps may take to finish on SIGTERM before they are stopped. */
  shutdownGraceMs?: number;
}

export interface Host {
  executor: WorkflowExecutor;
  store: Store;
  /** Where the runs live, for people (a Postgres URL has its password hidden). */
  where: string;
  files: string[];
  workflows: Array<Workflow<any, any, any>>;
  /** Unfinished runs of the loaded workflows, resumed on open. */
  resumed: RunHandle[];
  /** Unfinished runs of workflows no loaded file exports, by workflow: nobody runs them here. */
  orphans: Map<string, number>;
  /**
   * Stops the executor and closes the store. On SQLite running steps are aborted (they resume on
   * the next start); on Postgres they get the grace period, then the runs go to other workers.
   */
  close(): Promise<void>;
}

export async function openHost(options: HostOptions): Promise<Host> {
  const { files, workflows } = await loadWorkflows(options.files);
  checkPools(workflows, options.pools);
  const store = options.databaseUrl
    ? new PostgresStore({ connectionString: options.databaseUrl })
    : new SqliteStore({ path: options.db });
  const executor = new WorkflowExecutor({
    store,
    workflows,
    pools: options.pools,
    ...(options.maxParallel === undefined ? {} : { maxParallelNodes: options.maxParallel }),
    ...(options.shutdownGraceMs === undefined ? {} : { worker: { shutdownGraceMs: options.shutdownGraceMs } }),
  });
  const close = async () => {
    await executor.cleanup();
    await store.close();
  };
  try {
    const resumed = await executor.recover();
    const names = new Set(workflows.map((w) => w.name));
    const orphans = new Map<string, number>();
    for (const run of await store.listUnfinishedRuns()) {
      if (!names.has(run.workflow)) orphans.set(run.workflow, (orphans.get(run.workflow) ?? 0) + 1);
    }
    return { executor, store, where: store.description, files, workflows, resumed, orphans, close };
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
}

/** The engine would refuse these too, in words for library users; the CLI user needs `--pool`. */
function checkPools(workflows: ReadonlyArray<Workflow<any, any, any>>, pools: Record<string, number>): void {
  for (const wf of workflows) {
    for (const step of wf.steps) {
      if (step.pool !== undefined && pools[step.pool] === undefined)
        throw new MissingPoolError(wf.name, step.name, step.pool);
    }
  }
}

export interface RunEndLog {
  /** Waits for the lines of runs that have ended to be printed. */
  flush(): Promise<void>;
  stop(): void;
}

/**
 * Prints a line as each top-level run ends, with its children's count. Children are not logged
 * one by one: a fan-out of thousands would drown the log.
 */
export function logRunEnds(host: Host, colors: Colors, print: (line: string) => void): RunEndLog {
  const pending = new Set<Promise<void>>();
  const stop = host.executor.onEvents((events: readonly EventRecord[]) => {
    for (const event of events) {
      if (event.step !== null || !event.type.startsWith('run_')) continue;
      if (!isTerminalRun(event.type.slice('run_'.length) as RunStatus)) continue;
      const line = describeEnd(host.store, event.runId).then(
        (ended) => {
          if (ended) print(runEndLine(ended, colors));
        },
        () => {}, // the store closed under us while shutting down: nothing left to log
      );
      pending.add(line);
      void line.finally(() => pending.delete(line));
    }
  });
  return {
    stop,
    flush: async () => {
      // A run's waiters and this listener both hear of its end after the same commit, in either order.
      await new Promise((resolve) => setImmediate(resolve));
      await Promise.all(pending);
    },
  };
}

async function describeEnd(store: Store, runId: string): Promise<EndedRun | undefined> {
  const run = await store.getRun(runId);
  if (!run || run.parentRunId !== null) return undefined;
  const children = sumCounts(await store.countRuns({ parentRunId: runId }));
  let errorMessage: string | null = null;
  if (run.error) errorMessage = (JSON.parse(run.error) as { message?: string }).message ?? null;
  return {
    id: run.id,
    workflow: run.workflow,
    children,
    status: run.status,
    durationMs: run.startedAt === null || run.finishedAt === null ? null : run.finishedAt - run.startedAt,
    errorMessage,
  };
}

/**
 * Runs `stop` on the first SIGINT or SIGTERM, then exits 0 (1 if stopping failed). A second
 * signal while stopping exits at once: the user asked twice.
 */
export function onShutdownSignal(stop: () => Promise<void>, print: (line: string) => void): void {
  let isStopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (isStopping) {
      print(`${signal} again: exiting without waiting.`);
      process.exit(1);
    }
    isStopping = true;
    print(`${signal}: stopping...`);
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('braid: could not stop cleanly:', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handle);
  process.on('SIGTERM', handle);
}

export function describeOrphans(orphans: Map<string, number>): string | undefined {
  if (!orphans.size) return undefined;
  const list = [...orphans].map(([name, n]) => `${name} (${n})`).join(', ');
  return `unfinished runs of workflows not loaded here wait for a process that loads them: ${list}`;
}
