import type { RateLimitGrant, RateLimitRequest, RateLimitSetting, RateLimitState } from './types.js';

/**
 * The generic cell rate algorithm (GCRA) behind `rateLimit`. Its whole state per (limit, key) is
 * one number, the theoretical arrival time (TAT): the time by which every start taken so far has
 * "paid" its emission interval T = period / limit. A start at `now` conforms when
 * now >= TAT - tau, tau = (burst - 1) * T; taking it moves TAT to max(TAT, start) + T.
 *
 * A sliding log would need a row per start; a token bucket needs two numbers and a refill rule.
 * GCRA is one number updated by one compare-and-set, which is what makes it exact across workers.
 * With burst 1 (the default) starts are spaced T apart, so no window of one period holds more than
 * `limit` starts (+1 when both ends of a closed window land on a start).
 *
 * Under 'queue' a refused start is not retried: it reserves the earliest conforming time, so N
 * waiters cost N updates, not N updates per freed start. (While a limit binds, the engine asks for
 * one start ahead per key at a time, so its waiters ask in priority order: src/engine/rateLimits.ts.)
 */
export function takeGcra(
  state: { tat: number; intervalMs: number } | undefined,
  request: Pick<RateLimitRequest, 'now' | 'burst' | 'onLimit'>,
  limit: number,
  periodMs: number,
): { grant: RateLimitGrant; tat: number | undefined; intervalMs: number } {
  const t = periodMs / limit;
  const tau = (request.burst - 1) * t;
  const now = request.now;
  const tat = state === undefined ? undefined : owedAt(state, t, now);
  const startAt = tat === undefined ? now : Math.max(now, tat - tau);
  if (startAt > now && request.onLimit === 'drop') {
    return { grant: { granted: false, startAt, limit, periodMs }, tat: state?.tat, intervalMs: state?.intervalMs ?? t };
  }
  return { grant: { granted: true, startAt, limit, periodMs }, tat: Math.max(tat ?? now, startAt) + t, intervalMs: t };
}

/**
 * The TAT under the interval in force: when the limit changed since it was computed, the time still
 * owed (TAT - now) is rescaled, so the starts owed count the same under the new limit. Without it a
 * limit raised from 1 per minute to 100 per minute would still owe the old minute.
 */
export function owedAt(state: { tat: number; intervalMs: number }, intervalMs: number, now: number): number {
  if (state.intervalMs === intervalMs || state.tat <= now) return state.tat;
  return now + ((state.tat - now) * intervalMs) / state.intervalMs;
}

/** Rate limit state for the memory store (the SQLite store keeps the same in two tables). */
export class RateLimitTable {
  private readonly tats = new Map<string, RateLimitState & { intervalMs: number }>();
  private readonly settings = new Map<string, RateLimitSetting>();

  take(request: RateLimitRequest): RateLimitGrant {
    const id = `${request.name}\0${request.key}`;
    const setting = this.settings.get(request.name);
    const limit = setting?.limit ?? request.limit;
    const periodMs = setting?.periodMs ?? request.periodMs;
    const { grant, tat, intervalMs } = takeGcra(this.tats.get(id), request, limit, periodMs);
    if (grant.granted && tat !== undefined)
      this.tats.set(id, { name: request.name, key: request.key, tat, intervalMs });
    return grant;
  }

  set(setting: RateLimitSetting): void {
    this.settings.set(setting.name, { ...setting });
  }

  reset(name: string): void {
    this.settings.delete(name);
  }

  listSettings(): RateLimitSetting[] {
    return [...this.settings.values()].map((s) => ({ ...s })).sort((a, b) => byText(a.name, b.name));
  }

  /** Keys whose TAT is after `now` (busy: a start now would count against the limit), by name and key. */
  listBusy(now: number, limit: number): RateLimitState[] {
    const out: RateLimitState[] = [];
    for (const s of this.tats.values()) if (s.tat > now) out.push({ name: s.name, key: s.key, tat: s.tat });
    out.sort((a, b) => byText(a.name, b.name) || byText(a.key, b.key));
    return out.slice(0, limit);
  }
}

/** Code-unit order, as the SQL stores sort (BINARY / COLLATE "C"), not the locale's. */
function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
