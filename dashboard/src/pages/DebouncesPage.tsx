import { useEffect } from 'react';
import { debouncesApi } from '../api/debounces.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { LiveIndicator } from '../components/LiveIndicator.js';
import { Time } from '../components/Time.js';
import { formatDuration } from '../format.js';
import { useEventStream } from '../hooks/useEventStream.js';
import { useResource } from '../hooks/useResource.js';
import { hrefs } from '../hooks/useRoute.js';

/** A due time passes without any event (the run then starts, which is one): look again this often. */
const REFRESH_MS = 1000;

/**
 * Every debounced trigger still pending: per workflow and key, the run that will carry it, how many
 * triggers it collapsed, when the first and last came, when it starts and when at the latest
 * (maxWait). Each trigger and each start is a run event, so the event stream keeps it current.
 */
export function DebouncesPage() {
  const pending = useResource('debounces', (signal) => debouncesApi.list(signal), 500);
  const { scheduleReload } = pending;
  const streamState = useEventStream(
    undefined,
    (event) => {
      if (event.type.startsWith('run_')) scheduleReload();
    },
    scheduleReload,
  );
  useEffect(() => {
    const timer = setInterval(scheduleReload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [scheduleReload]);

  const rows = pending.data?.debounces ?? [];
  return (
    <>
      <div className="page-header">
        <h1>Debounces</h1>
        <LiveIndicator state={streamState} />
      </div>
      <p className="muted">
        Triggers of workflows with <code>debounce</code> that have not started: each key's run starts once its window
        passes with no new trigger, with the last trigger's input.
      </p>
      {pending.error && <ErrorBanner error={pending.error} />}
      <div className="table-scroll">
        <table className="table" aria-label="Pending debounces" aria-busy={pending.isLoading}>
          <thead>
            <tr>
              <th scope="col">Workflow</th>
              <th scope="col">Key</th>
              <th scope="col">Run</th>
              <th scope="col">Triggers</th>
              <th scope="col">First trigger</th>
              <th scope="col">Last trigger</th>
              <th scope="col">Starts at</th>
              <th scope="col">At the latest</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((d) => (
              <tr key={`${d.workflow}\u0000${d.key}`}>
                <td>{d.workflow}</td>
                <td className="mono">{d.key === '' ? <span className="muted">(all)</span> : d.key}</td>
                <td>
                  <a className="mono" href={hrefs.run(d.runId)}>
                    {d.runId}
                  </a>
                </td>
                <td>
                  {d.triggers}
                  {d.triggers > 1 && <span className="muted"> ({d.triggers - 1} superseded)</span>}
                </td>
                <td>
                  <Time ms={d.firstAt} />
                </td>
                <td>
                  <Time ms={d.lastAt} />
                </td>
                <td>
                  <Time ms={d.dueAt} />
                  {d.windowMs !== null && <span className="muted"> (window {formatDuration(d.windowMs)})</span>}
                </td>
                <td>{d.maxWaitAt === null ? <span className="muted">no maxWait</span> : <Time ms={d.maxWaitAt} />}</td>
              </tr>
            ))}
            {rows.length === 0 && pending.data && (
              <tr>
                <td colSpan={8} className="muted">
                  No debounced trigger is pending.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </>
  );
}
