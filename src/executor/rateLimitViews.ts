import { leadMs, type RateLimitCounts } from '../engine/rateLimits.js';
import { type Duration, durationMs } from '../model/durations.js';
import { InvalidRateLimitError } from '../model/errors.js';
import { rateLimitSpec } from '../model/rateLimit.js';
import type { Workflow } from '../model/workflow.js';
import type { Store } from '../store/store.js';
import type { RateLimitSetting } from '../store/types.js';

/** How many busy keys one read of the usage lists at most (over every limit). */
const MAX_KEYS = 1000;

/** A new limit and period for a named rate limit (`executor.setRateLimit`). */
export interface RateLimitChange {
  limit: number;
  period: Duration;
}

/** One key of a limit with starts counted against it now. */
export interface RateLimitKeyUsage {
  key: string;
  /** Starts counted in the current period (granted in the last period, or reserved ahead). */
  used: number;
  /**
   * Starts waiting under 'queue': granted for later than now, plus those waiting in this process
   * for their turn to ask (while the limit binds, see the README's Rate limits section).
   */
  queued: number;
  /** When a new start of this key would be granted (epoch ms; now if one is free). */
  nextStartAt: number;
}

/** A rate limit as the API, /metrics and the dashboard show it. */
export interface RateLimitView {
  name: string;
  /** The limit and period in force: the run-time setting's if there is one, else the definition's. */
  limit: number;
  periodMs: number;
  burst: number;
  onLimit: 'queue' | 'drop';
  /** The definition's limit and period, when a workflow registered here defines the limit. */
  defined: { limit: number; periodMs: number } | null;
  /** The run-time setting in force, if any (`setRateLimit`). */
  setting: { limit: number; periodMs: number; updatedAt: number } | null;
  /** Where the limit applies: workflow names and "workflow/step" names. */
  appliesTo: string[];
  /** Keys busy now, by key. */
  keys: RateLimitKeyUsage[];
  /** Since this process started: starts granted, of them granted for later (queued), and dropped. */
  counts: RateLimitCounts;
}

/** The checked setting for `setRateLimit`; a typed error naming the field for anything else. */
export function rateLimitSetting(name: unknown, change: RateLimitChange, now: number): RateLimitSetting {
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidRateLimitError(String(name), 'name', 'a non-empty string', name);
  }
  const limit = change?.limit;
  if (!(Number.isInteger(limit) && limit >= 1)) {
    throw new InvalidRateLimitError(name, 'limit', 'a whole number >= 1 (starts per period)', limit);
  }
  let periodMs = Number.NaN;
  try {
    periodMs = durationMs(change.period, '`period`');
  } catch {}
  if (!(periodMs > 0)) {
    throw new InvalidRateLimitError(
      name,
      'period',
      'a duration above 0 (milliseconds, or text such as "1s", "1m")',
      change?.period,
    );
  }
  return { name, limit, periodMs, updatedAt: now };
}

/** Every limit the registered workflows define or a setting names, with its usage per busy key. */
export async function describeRateLimits(
  store: Store,
  workflows: ReadonlyArray<Workflow<any, any, any>>,
  counts: ReadonlyMap<string, RateLimitCounts>,
  now: number,
  /** Starts waiting for their turn in this process, by `name\0key`. */
  waiting: ReadonlyMap<string, number> = new Map(),
): Promise<RateLimitView[]> {
  const [settings, busy] = await Promise.all([store.listRateLimitSettings(), store.listBusyRateLimits(now, MAX_KEYS)]);
  const views = new Map<string, RateLimitView>();
  const viewOf = (name: string): RateLimitView => {
    let view = views.get(name);
    if (!view) {
      view = {
        name,
        limit: 0,
        periodMs: 0,
        burst: 1,
        onLimit: 'queue',
        defined: null,
        setting: null,
        appliesTo: [],
        keys: [],
        counts: counts.get(name) ?? { started: 0, queued: 0, dropped: 0 },
      };
      views.set(name, view);
    }
    return view;
  };
  for (const wf of workflows) {
    const defined: Array<[string, Parameters<typeof rateLimitSpec>[0] | undefined]> = [
      [wf.name, wf.options.rateLimit],
      ...wf.steps.map((s): [string, typeof s.rateLimit] => [`${wf.name}/${s.name}`, s.rateLimit]),
    ];
    for (const [where, options] of defined) {
      if (!options) continue;
      const spec = rateLimitSpec(options, where);
      const view = viewOf(spec.name);
      view.appliesTo.push(where);
      view.defined ??= { limit: spec.limit, periodMs: spec.periodMs };
      Object.assign(view, { limit: spec.limit, periodMs: spec.periodMs, burst: spec.burst, onLimit: spec.onLimit });
    }
  }
  for (const s of settings) {
    const view = viewOf(s.name);
    view.setting = { limit: s.limit, periodMs: s.periodMs, updatedAt: s.updatedAt };
    view.limit = s.limit;
    view.periodMs = s.periodMs;
  }
  for (const state of busy) {
    const view = views.get(state.name);
    if (!view || view.limit === 0) continue; // a limit no workflow here defines: its period is unknown
    const interval = view.periodMs / view.limit;
    // Grants are asked one lead ahead of now (see leadMs): that lead is not a start owed.
    const ahead = Math.max(0, Math.ceil((state.tat - now - leadMs(view)) / interval - 1e-9));
    view.keys.push({
      key: state.key,
      used: Math.min(ahead, view.limit),
      queued: Math.max(0, ahead - view.limit) + (waiting.get(`${state.name}\0${state.key}`) ?? 0),
      nextStartAt: Math.max(now, state.tat - (view.burst - 1) * interval),
    });
  }
  return [...views.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
