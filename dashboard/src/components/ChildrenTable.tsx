import { useEffect, useState } from 'react';
import { api } from '../api/client.js';
import { RUN_STATUSES, type RunStatus, type StatusCounts } from '../api/types.js';
import { formatDuration, runDuration, statusLabel } from '../format.js';
import { useResource } from '../hooks/useResource.js';
import { hrefs } from '../hooks/useRoute.js';
import { ErrorBanner } from './ErrorBanner.js';
import { Pager } from './Pager.js';
import { StatusBadge } from './StatusBadge.js';
import { StatusCountList, StatusProgress } from './StatusCountList.js';
import { Time } from './Time.js';

export const CHILDREN_PAGE_SIZE = 25;

/**
 * The child runs one step spawned, a page at a time from the server (spawn order), with their
 * status counts: a step with 100,000 children costs one small request per page, never the list.
 * `liveVersion` changes when a descendant's status may have changed; the page then reloads,
 * at most once a second.
 */
export function ChildrenTable(props: {
  runId: string;
  step: string;
  total: number;
  counts: StatusCounts;
  liveVersion: number;
  now: number;
}) {
  const { runId, step, liveVersion, now } = props;
  const [status, setStatus] = useState<RunStatus | ''>('');
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const pageIndex = cursors.length - 1;
  const cursor = cursors[pageIndex];
  const pageKey = JSON.stringify([runId, step, status, cursor]);
  const page = useResource(
    pageKey,
    (signal) =>
      api.listChildren(runId, { step, status: status || undefined, limit: CHILDREN_PAGE_SIZE, cursor }, signal),
    1000,
  );
  const { scheduleReload } = page;
  useEffect(() => {
    if (liveVersion > 0) scheduleReload();
  }, [liveVersion, scheduleReload]);

  const counts = page.data?.counts ?? props.counts;
  const total = page.data?.total ?? props.total;
  const rows = page.data?.runs ?? [];
  // Until the requested page arrives the previous one is shown; its cursor must not be followed twice.
  const nextCursor = page.dataKey === pageKey ? page.data?.nextCursor : null;
  const shownTotal = status ? (counts[status] ?? 0) : total;
  const first = pageIndex * CHILDREN_PAGE_SIZE;
  const tableLabel = `Children of ${step}`;
  return (
    <section className="children" id={`children-${step}`} aria-labelledby={`children-${step}-heading`} tabIndex={-1}>
      <header className="children__header">
        <h3 id={`children-${step}-heading`}>
          Children of <code>{step}</code> <span className="muted">({total.toLocaleString()})</span>
        </h3>
        <label className="field field--inline">
          <span>Status</span>
          <select
            aria-label={`Filter children of ${step} by status`}
            value={status}
            onChange={(e) => {
              setStatus(e.target.value as RunStatus | '');
              setCursors([undefined]);
            }}
          >
            <option value="">any</option>
            {RUN_STATUSES.map((s) => (
              <option key={s} value={s}>
                {statusLabel(s)}
              </option>
            ))}
          </select>
        </label>
      </header>
      <StatusProgress counts={counts} total={total} label={`Progress of the children of ${step}`} />
      <StatusCountList counts={counts} />
      {page.error && <ErrorBanner error={page.error} />}
      <div className="table-scroll">
        <table className="table" aria-label={tableLabel} aria-busy={page.isLoading}>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Status</th>
              <th scope="col">Workflow</th>
              <th scope="col">Run</th>
              <th scope="col">Started</th>
              <th scope="col">Duration</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((run, i) => (
              <tr key={run.id}>
                <td className="num">{status ? '' : (first + i + 1).toLocaleString()}</td>
                <td>
                  <StatusBadge status={run.status} />
                </td>
                <td>{run.workflow}</td>
                <td>
                  <a className="mono" href={hrefs.run(run.id)}>
                    {run.id}
                  </a>
                </td>
                <td>
                  <Time ms={run.startedAt} />
                </td>
                <td>{formatDuration(runDuration(run, now))}</td>
              </tr>
            ))}
            {rows.length === 0 && !page.isLoading && (
              <tr>
                <td colSpan={6} className="muted">
                  No children{status ? ` with status ${statusLabel(status)}` : ''}.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <Pager
        label={`Pages of the children of ${step}`}
        pageIndex={pageIndex}
        hasPrevious={pageIndex > 0}
        hasNext={Boolean(nextCursor)}
        onPrevious={() => setCursors(cursors.slice(0, -1))}
        onNext={() => nextCursor && setCursors([...cursors, nextCursor])}
        summary={
          rows.length > 0
            ? `${(first + 1).toLocaleString()}–${(first + rows.length).toLocaleString()} of ${shownTotal.toLocaleString()}`
            : undefined
        }
      />
    </section>
  );
}
