import { useState } from 'react';
import { api } from '../api/client.js';
import type { Schedule } from '../api/types.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { Time } from '../components/Time.js';
import { useEventStream } from '../hooks/useEventStream.js';
import { useResource } from '../hooks/useResource.js';
import { hrefs, navigate } from '../hooks/useRoute.js';

/**
 * Every schedule: its cron and time zone, the next scheduled time, the last run, and the actions
 * pause / resume / trigger now. Kept current by the event stream (a tick starts a run).
 */
export function SchedulesPage() {
  const schedules = useResource('schedules', (signal) => api.listSchedules(signal), 1000);
  useEventStream(
    undefined,
    (event) => {
      if (event.type === 'run_created' || event.type.startsWith('run_')) schedules.scheduleReload();
    },
    schedules.scheduleReload,
  );
  const [actionError, setActionError] = useState<Error | undefined>(undefined);
  const [busy, setBusy] = useState<string | undefined>(undefined);

  const act = async (s: Schedule, action: 'pause' | 'resume' | 'trigger') => {
    setBusy(`${s.id}:${action}`);
    setActionError(undefined);
    try {
      if (action === 'trigger') {
        const { runId } = await api.triggerSchedule(s.id);
        navigate(hrefs.run(runId));
        return;
      }
      await api.scheduleAction(s.id, action);
      schedules.reload();
    } catch (error) {
      setActionError(error as Error);
    } finally {
      setBusy(undefined);
    }
  };

  const rows = schedules.data?.schedules ?? [];
  return (
    <>
      <div className="page-header">
        <h1>Schedules</h1>
      </div>
      {schedules.error && <ErrorBanner error={schedules.error} />}
      {actionError && <ErrorBanner error={actionError} />}
      <div className="table-scroll">
        <table className="table" aria-label="Schedules" aria-busy={schedules.isLoading}>
          <thead>
            <tr>
              <th scope="col">Schedule</th>
              <th scope="col">Workflow</th>
              <th scope="col">Cron</th>
              <th scope="col">Next fire</th>
              <th scope="col">Last run</th>
              <th scope="col">Overlap</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((s) => (
              <tr key={s.id}>
                <td className="mono">{s.id}</td>
                <td>{s.workflow}</td>
                <td>
                  <code>{s.cron}</code> <span className="muted">{s.timezone}</span>
                </td>
                <td>{s.paused ? <span className="muted">paused</span> : <Time ms={s.nextFireAt} />}</td>
                <td>
                  {s.lastRunId ? (
                    <a className="mono" href={hrefs.run(s.lastRunId)}>
                      {s.lastRunId}
                    </a>
                  ) : (
                    <span className="muted">—</span>
                  )}
                  {s.lastScheduledAt !== null && (
                    <>
                      {' '}
                      <span className="muted">
                        for <Time ms={s.lastScheduledAt} />
                      </span>
                    </>
                  )}
                  {s.buffered.length > 0 && <span className="muted"> ({s.buffered.length} buffered)</span>}
                </td>
                <td>{s.overlap}</td>
                <td>
                  {s.paused ? (
                    <button
                      type="button"
                      onClick={() => act(s, 'resume')}
                      disabled={busy !== undefined}
                      aria-label={`Resume ${s.id}`}
                    >
                      Resume
                    </button>
                  ) : (
                    <button
                      type="button"
                      onClick={() => act(s, 'pause')}
                      disabled={busy !== undefined}
                      aria-label={`Pause ${s.id}`}
                    >
                      Pause
                    </button>
                  )}{' '}
                  <button
                    type="button"
                    onClick={() => act(s, 'trigger')}
                    disabled={busy !== undefined}
                    aria-label={`Trigger ${s.id} now`}
                  >
                    Trigger now
                  </button>
                </td>
              </tr>
            ))}
            {rows.length === 0 && schedules.data && (
              <tr>
                <td colSpan={7} className="muted">
                  No schedules. Define one with schedule(workflow, {'{ cron }'}) or braid schedules create.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </>
  );
}
