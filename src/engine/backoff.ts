import type { BackoffOptions } from '../model/workflow.js';

export const DEFAULT_BACKOFF: Required<BackoffOptions> = { initialMs: 1000, factor: 2, maxMs: 60_000, jitter: 0.2 };

/**
 * Delay before retry number `retry` (1 for the first retry): exponential, capped, then spread by
 * +/- jitter so that many steps failing together do not retry in lockstep.
 */
export function retryDelayMs(
  retry: number,
  options: BackoffOptions | undefined,
  random: () => number = Math.random,
): number {
  // `??`, not a spread: an option given as `undefined` means the default, not NaN.
  const o = {
    initialMs: options?.initialMs ?? DEFAULT_BACKOFF.initialMs,
    factor: options?.factor ?? DEFAULT_BACKOFF.factor,
    maxMs: options?.maxMs ?? DEFAULT_BACKOFF.maxMs,
    jitter: options?.jitter ?? DEFAULT_BACKOFF.jitter,
  };
  const base = Math.min(o.maxMs, o.initialMs * o.factor ** Math.max(0, retry - 1));
  const jitter = Math.min(1, Math.max(0, o.jitter));
  const spread = base * jitter * (2 * random() - 1);
  return Math.max(0, Math.round(Math.min(o.maxMs, base + spread)));
}
