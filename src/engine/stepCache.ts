import { isRouteDecision } from '../model/context.js';
import { canonicalJson, fromJson } from '../model/json.js';
import type { CacheOptions } from '../model/workflow.js';
import type { CacheEntry } from '../store/types.js';
import { hashText } from './ids.js';
import type { ActiveRun, ActiveStep } from './runState.js';

/**
 * The step cache's keys and entries. A key is a hash of (workflow, version, step, canonical JSON
 * of the step's whole input: the run input and its parents' outputs); only successes are stored.
 */

/** The cache key of a cached step, or undefined when the step is not cached. */
export function cacheKeyOf(run: ActiveRun, step: ActiveStep): string | undefined {
  if (!cachePolicyOf(run, step)) return undefined;
  const parents: Record<string, unknown> = {};
  for (const p of step.def.parents) parents[p] = run.steps.get(p)?.value;
  const wf = run.plan.workflow;
  return hashText(`${wf.name}\0${wf.version}\0${step.def.name}\0${canonicalJson({ input: run.input, parents })}`);
}

function cachePolicyOf(run: ActiveRun, step: ActiveStep): boolean | CacheOptions | undefined {
  return step.def.cache ?? run.plan.workflow.options.cache;
}

/**
 * The entry that stores a step's success. A routing step's entry keeps its route too (in the
 * RouteDecision shape), or a hit would run every child.
 */
export function cacheEntryOf(
  run: ActiveRun,
  step: ActiveStep,
  key: string,
  json: string,
  route: string[] | null,
  now: number,
): CacheEntry {
  const policy = cachePolicyOf(run, step);
  const ttlSeconds = typeof policy === 'object' ? policy.ttlSeconds : undefined;
  const output = route ? `{"__braidRoute":true,"targets":${JSON.stringify(route)},"value":${json}}` : json;
  return { key, output, createdAt: now, expiresAt: ttlSeconds ? now + ttlSeconds * 1000 : null };
}

/** A stored entry as the step's output: its JSON text and, for a routing step, its route. */
export function readCacheEntry(entry: CacheEntry): { json: string; route: string[] | null } {
  const cached = fromJson(entry.output);
  if (isRouteDecision(cached)) return { json: JSON.stringify(cached.value), route: [...cached.targets] };
  return { json: entry.output, route: null };
}
