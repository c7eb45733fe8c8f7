import { Gauge, type Registry } from 'prom-client';
import type { RateLimitView } from '../executor/rateLimitViews.js';

/**
 * Rate limit gauges, read at scrape time from `executor.rateLimits()` (one read per scrape, shared
 * by every gauge): the limit in force per limit, and per busy key the starts used in the current
 * period, those queued ahead, and how long a new start would wait. Idle keys have no series, so
 * 10,000 keys cost series only while they are busy.
 */
export function registerRateLimitGauges(registry: Registry, read: () => Promise<RateLimitView[]>): void {
  const registers = [registry];
  let views: Promise<RateLimitView[]> | undefined;
  const current = () => {
    views ??= read().finally(() => {
      views = undefined;
    });
    return views;
  };
  new Gauge({
    name: 'braid_rate_limit_limit',
    help: 'Starts allowed per period by each rate limit (the run-time setting if there is one)',
    labelNames: ['limit'],
    registers,
    async collect() {
      this.reset();
      for (const v of await current()) this.set({ limit: v.name }, v.limit);
    },
  });
  new Gauge({
    name: 'braid_rate_limit_period_seconds',
    help: 'The period of each rate limit',
    labelNames: ['limit'],
    registers,
    async collect() {
      this.reset();
      for (const v of await current()) this.set({ limit: v.name }, v.periodMs / 1000);
    },
  });
  new Gauge({
    name: 'braid_rate_limit_used',
    help: 'Starts counted in the current period, per rate limit and busy key',
    labelNames: ['limit', 'key'],
    registers,
    async collect() {
      this.reset();
      for (const v of await current()) for (const k of v.keys) this.set({ limit: v.name, key: k.key }, k.used);
    },
  });
  new Gauge({
    name: 'braid_rate_limit_queued',
    help: 'Starts granted for later than now (waiting under onLimit queue), per rate limit and busy key',
    labelNames: ['limit', 'key'],
    registers,
    async collect() {
      this.reset();
      for (const v of await current()) for (const k of v.keys) this.set({ limit: v.name, key: k.key }, k.queued);
    },
  });
  new Gauge({
    name: 'braid_rate_limit_dropped',
    help: 'Starts dropped (onLimit drop) by each rate limit since this process started',
    labelNames: ['limit'],
    registers,
    async collect() {
      this.reset();
      for (const v of await current()) this.set({ limit: v.name }, v.counts.dropped);
    },
  });
}
