import { useEffect, useState } from 'react';
import { rateLimitsApi } from '../api/rateLimits.js';
import type { RateLimitView } from '../api/types.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { useResource } from '../hooks/useResource.js';

/** How often the page reads the usage again: it changes with time, not only with events. */
const REFRESH_MS = 1000;

/** "2 / 1s": a limit and its period in the units the definition most likely used. */
export function describeRate(limit: number, periodMs: number): string {
  return `${limit} / ${describePeriod(periodMs)}`;
}

function describePeriod(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** Every rate limit, its usage per busy key, and a form to change it at run time. */
export function RateLimitsPage() {
  const limits = useResource('rate-limits', (signal) => rateLimitsApi.list(signal));
  const { scheduleReload } = limits;
  useEffect(() => {
    const timer = setInterval(scheduleReload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [scheduleReload]);
  const rows = limits.data?.rateLimits ?? [];
  return (
    <>
      <div className="page-header">
        <h1>Rate limits</h1>
      </div>
      {limits.error && <ErrorBanner error={limits.error} />}
      {!limits.isLoading && rows.length === 0 && <p>No workflow of this server defines a rate limit.</p>}
      <div className="table-scroll">
        <table aria-label="Rate limits">
          <thead>
            <tr>
              <th>Limit</th>
              <th>Rate</th>
              <th>Over it</th>
              <th>Applies to</th>
              <th>Busy keys</th>
              <th>Change</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((view) => (
              <RateLimitRow key={view.name} view={view} onChanged={limits.reload} />
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

function RateLimitRow({ view, onChanged }: { view: RateLimitView; onChanged: () => void }) {
  const [limit, setLimit] = useState(String(view.limit));
  const [period, setPeriod] = useState(describePeriod(view.periodMs));
  const [error, setError] = useState<Error | undefined>(undefined);
  const save = async () => {
    setError(undefined);
    try {
      await rateLimitsApi.set(view.name, Number(limit), period);
      onChanged();
    } catch (e) {
      setError(e as Error);
    }
  };
  const reset = async () => {
    setError(undefined);
    try {
      await rateLimitsApi.reset(view.name);
      onChanged();
    } catch (e) {
      setError(e as Error);
    }
  };
  return (
    <tr>
      <td className="mono">{view.name}</td>
      <td>
        {describeRate(view.limit, view.periodMs)}
        {view.setting && view.defined && (
          <span className="muted">
            {' '}
            (set at run time; defined {describeRate(view.defined.limit, view.defined.periodMs)})
          </span>
        )}
      </td>
      <td>{view.onLimit === 'queue' ? 'queued' : 'dropped'}</td>
      <td className="mono">{view.appliesTo.join(', ')}</td>
      <td>
        {view.keys.length === 0 ? (
          <span className="muted">none</span>
        ) : (
          <ul aria-label={`Busy keys of ${view.name}`}>
            {view.keys.map((k) => (
              <li key={k.key}>
                <span className="mono">{k.key || '(all)'}</span>: {k.used} of {view.limit} used, {k.queued} queued
              </li>
            ))}
          </ul>
        )}
      </td>
      <td>
        <form
          aria-label={`Change ${view.name}`}
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
        >
          <label className="field field--inline">
            Limit
            <input value={limit} onChange={(e) => setLimit(e.target.value)} inputMode="numeric" size={5} />
          </label>
          <label className="field field--inline">
            Period
            <input value={period} onChange={(e) => setPeriod(e.target.value)} size={5} />
          </label>
          <button type="submit">Save</button>
          {view.setting && (
            <button type="button" onClick={() => void reset()}>
              Reset
            </button>
          )}
          {error && <ErrorBanner error={error} />}
        </form>
      </td>
    </tr>
  );
}
