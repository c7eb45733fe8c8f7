import { Gauge, type Registry } from 'prom-client';
import type { LimitsView } from '../executor/limitViews.js';

/**
 * Concurrency limit gauges, read at scrape time from `executor.limits()` (one read per scrape,
 * shared by every gauge): each workflow's maxRuns in force, and per concurrency key with unfinished
 * runs the active and queued runs; each pool's size in force, busy units and waiting steps. Keys
 * without unfinished runs have no series.
 */
export function registerLimitGauges(registry: Registry, read: () => Promise<LimitsView>): void {
  const registers = [registry];
  let view: Promise<LimitsView> | undefined;
  const current = () => {
    view ??= read().finally(() => {
      view = undefined;
    });
    return view;
  };
  const gauge = (
    name: string,
    help: string,
    labelNames: string[],
    fill: (set: (labels: Record<string, string>, value: number) => void, limits: LimitsView) => void,
  ) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers,
      async collect() {
        this.reset();
        fill((labels, value) => this.set(labels, value), await current());
      },
    });
  gauge(
    'braid_max_runs_limit',
    "Each workflow's maxRuns per concurrency key (the run-time setting if there is one)",
    ['workflow'],
    (set, l) => {
      for (const v of l.maxRuns) set({ workflow: v.workflow }, v.maxRuns);
    },
  );
  gauge(
    'braid_max_runs_active',
    'Runs holding a maxRuns slot, per workflow and concurrency key',
    ['workflow', 'key'],
    (set, l) => {
      for (const v of l.maxRuns) for (const k of v.keys) set({ workflow: v.workflow, key: k.key }, k.active);
    },
  );
  gauge(
    'braid_max_runs_queued',
    'Runs waiting for a maxRuns slot, per workflow and concurrency key',
    ['workflow', 'key'],
    (set, l) => {
      for (const v of l.maxRuns) for (const k of v.keys) set({ workflow: v.workflow, key: k.key }, k.queued);
    },
  );
  gauge('braid_pool_size', "Each resource pool's size (the run-time setting if there is one)", ['pool'], (set, l) => {
    for (const p of l.pools) set({ pool: p.pool }, p.size);
  });
  gauge('braid_pool_busy', 'Steps holding a unit of each pool (every worker on PostgreSQL)', ['pool'], (set, l) => {
    for (const p of l.pools) set({ pool: p.pool }, p.busy);
  });
  gauge('braid_pool_waiting', 'Steps waiting for a unit of each pool', ['pool'], (set, l) => {
    for (const p of l.pools) set({ pool: p.pool }, p.waiting);
  });
}
