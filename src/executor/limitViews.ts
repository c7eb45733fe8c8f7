import {
  InvalidLimitError,
  MaxRunsNotDefinedError,
  PoolNotFoundError,
  WorkflowNotRegisteredError,
} from '../model/errors.js';
import type { Workflow } from '../model/workflow.js';
import type { Store } from '../store/store.js';
import type { LimitKind, LimitSetting } from '../store/types.js';

/** How many busy concurrency keys one read of the usage lists at most (over every workflow). */
const MAX_KEYS = 1000;

/** One concurrency key with unfinished runs. */
export interface MaxRunsKeyUsage {
  key: string;
  /** Runs started and not finished: each holds a slot. */
  active: number;
  /** Runs waiting for a slot. */
  queued: number;
}

/** A workflow's `maxRuns` as the API, /metrics and the dashboard show it. */
export interface MaxRunsView {
  workflow: string;
  /** The limit in force per concurrency key: the run-time setting's if there is one, else the definition's. */
  maxRuns: number;
  /** The definition's maxRuns. */
  defined: number;
  /** The run-time setting in force, if any (`setMaxRuns`). */
  setting: { value: number; updatedAt: number } | null;
  onConcurrencyLimit: 'queue' | 'cancel-newest' | 'cancel-oldest';
  /** Keys with unfinished runs, by key. */
  keys: MaxRunsKeyUsage[];
}

/** A resource pool as the API, /metrics and the dashboard show it. */
export interface PoolView {
  pool: string;
  /** The size in force: the run-time setting's if there is one, else ExecutorOptions.pools. */
  size: number;
  /** The size in ExecutorOptions.pools. */
  defined: number;
  setting: { value: number; updatedAt: number } | null;
  /** Steps holding a unit (across every worker on PostgreSQL, else in this process). */
  busy: number;
  /** Steps waiting for a unit (the same scope as busy). */
  waiting: number;
}

export interface LimitsView {
  maxRuns: MaxRunsView[];
  pools: PoolView[];
}

/** Pool usage: busy and waiting steps per pool name. */
export type PoolUsage = ReadonlyMap<string, { busy: number; waiting: number }>;

/** Checks a new maxRuns or pool size: a whole number >= 1, or a typed error naming the field. */
export function checkLimitValue(target: string, field: string, value: unknown): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 1) return value;
  throw new InvalidLimitError(target, field, 'a whole number >= 1', value);
}

/** The registered workflow named `name`, which must define maxRuns. */
export function limitedWorkflow(
  workflows: ReadonlyArray<Workflow<any, any, any>>,
  name: string,
): Workflow<any, any, any> {
  const wf = workflows.find((w) => w.name === name);
  if (!wf) {
    throw new WorkflowNotRegisteredError(
      name,
      workflows.map((w) => w.name),
    );
  }
  if (wf.options.maxRuns === undefined) throw new MaxRunsNotDefinedError(name);
  return wf;
}

/** The declared pool named `name`. */
export function declaredPool(pools: Readonly<Record<string, number>>, name: string): string {
  if (!Object.hasOwn(pools, name)) throw new PoolNotFoundError(name, Object.keys(pools));
  return name;
}

export function settingOf(settings: readonly LimitSetting[], kind: LimitKind, name: string): LimitSetting | undefined {
  return settings.find((s) => s.kind === kind && s.name === name);
}

/** Every workflow with maxRuns and every pool: the value in force, the setting, the usage. */
export async function describeLimits(
  store: Store,
  workflows: ReadonlyArray<Workflow<any, any, any>>,
  pools: Readonly<Record<string, number>>,
  poolUsage: () => Promise<PoolUsage>,
  now: number,
): Promise<LimitsView> {
  const limited = workflows.filter((w) => w.options.maxRuns !== undefined);
  const [settings, counts, usage] = await Promise.all([
    store.listLimitSettings(),
    limited.length
      ? store.countKeyedRuns(
          limited.map((w) => w.name),
          now,
          MAX_KEYS,
        )
      : Promise.resolve([]),
    poolUsage(),
  ]);
  const maxRuns = limited.map((wf): MaxRunsView => {
    const setting = settingOf(settings, 'max_runs', wf.name);
    const defined = wf.options.maxRuns as number;
    return {
      workflow: wf.name,
      maxRuns: setting?.value ?? defined,
      defined,
      setting: setting ? { value: setting.value, updatedAt: setting.updatedAt } : null,
      onConcurrencyLimit: wf.options.onConcurrencyLimit ?? 'queue',
      keys: counts
        .filter((c) => c.workflow === wf.name)
        .map((c) => ({ key: c.key, active: Number(c.active), queued: Number(c.queued) })),
    };
  });
  const poolViews = Object.entries(pools).map(([pool, defined]): PoolView => {
    const setting = settingOf(settings, 'pool', pool);
    const u = usage.get(pool);
    return {
      pool,
      size: setting?.value ?? defined,
      defined,
      setting: setting ? { value: setting.value, updatedAt: setting.updatedAt } : null,
      busy: u?.busy ?? 0,
      waiting: u?.waiting ?? 0,
    };
  });
  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  maxRuns.sort((a, b) => byName(a.workflow, b.workflow));
  poolViews.sort((a, b) => byName(a.pool, b.pool));
  return { maxRuns, pools: poolViews };
}
