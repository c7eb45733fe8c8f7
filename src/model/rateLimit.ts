import { type Duration, durationMs } from './durations.js';

/**
 * `rateLimit` on a workflow (limits run starts) or a step (limits step starts, every attempt).
 * A generic cell rate algorithm kept in the store: at most `limit` starts per `period` per key,
 * spaced `period / limit` apart (see src/store/rateLimits.ts), across every process of a cluster.
 */
export interface RateLimitOptions<TInput = any> {
  /** Starts per period: a whole number >= 1. */
  limit: number;
  /** `'1s'`, `'1m'`, or milliseconds. */
  period: Duration;
  /** Counts starts per key, e.g. `(input) => input.customerId`. Default: one count for all. */
  key?: (input: TInput) => string;
  /**
   * What happens to a start over the limit. 'queue' (default): it waits, holding no execution slot,
   * for the time the limit gives it. 'drop': a run ends cancelled with a RateLimitedError; a step is
   * skipped, with the reason recorded.
   */
  onLimit?: 'queue' | 'drop';
  /** Starts that may go back to back after an idle spell. Default 1 (evenly spaced; see the README). */
  burst?: number;
  /**
   * The limit's name, to share it (a step of two workflows calling one API) and to change it at run
   * time (`executor.setRateLimit`). Default: the workflow's name, or "workflow/step" for a step.
   */
  name?: string;
}

/** A checked rate limit with its name and period in milliseconds. */
export interface RateLimitSpec {
  name: string;
  limit: number;
  periodMs: number;
  burst: number;
  onLimit: 'queue' | 'drop';
  key: ((input: any) => string) | undefined;
}

const specs = new WeakMap<RateLimitOptions, RateLimitSpec>();

/** The spec of a limit (checked when its workflow was defined), computed once per definition. */
export function rateLimitSpec(options: RateLimitOptions, defaultName: string): RateLimitSpec {
  let spec = specs.get(options);
  if (!spec) {
    spec = {
      name: options.name ?? defaultName,
      limit: options.limit,
      periodMs: durationMs(options.period, '`rateLimit.period`'),
      burst: options.burst ?? 1,
      onLimit: options.onLimit ?? 'queue',
      key: options.key,
    };
    specs.set(options, spec);
  }
  return spec;
}
