import { useState } from 'react';
import { api } from '../api/client.js';
import { RUN_STATUSES, type RunStatus } from '../api/types.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { LiveIndicator } from '../components/LiveIndicator.js';
import { Pager } from '../components/Pager.js';
import { StartRunDialog } from '../components/StartRunDialog.js';
import { StatusBadge } from '../components/StatusBadge.js';
import { Time } from '../components/Time.js';
import { formatDuration, isRunMoving, runDuration, statusLabel } from '../format.js';
import { useEventStream } from '../hooks/useEventStream.js';
import { useNow } from '../hooks/useNow.js';
import { useResource } from '../hooks/useResource.js';
import { hrefs, navigate } from '../hooks/useRoute.js';

export const RUNS_PAGE_SIZE = 50;

/**
 * Newest runs first, filtered by workflow and status, kept current by the event stream. Top-level
 * runs only by default: a fan-out's thousands of children would bury them. `?children=1` lists
 * every run, `?parent=<id>` the children of one run (its page links here).
 */
export function RunsPage({ query }: { query: URLSearchParams }) {
  const workflow = query.get('workflow') ?? '';
  const status = (query.get('status') ?? '') as RunStatus | '';
  const parentRunId = query.get('parent') ?? '';
  const hasChildren = query.get('children') === '1';
  const isTopLevel = !parentRunId && !hasChildren;
  const filterKey = JSON.stringify([workflow, status, parentRunId, isTopLevel]);

  // Paging restarts when the filters change (set during render: React's way to reset state on a prop).
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [cursorsFor, setCursorsFor] = useState(filterKey);
  if (cursorsFor !== filterKey) {
    setCursorsFor(filterKey);
    setCursors([undefined]);
  }
  const pageIndex = cursors.length - 1;
  const cursor = cursors[pageIndex];
  const [isStartOpen, setIsStartOpen] = useState(false);

  const workflows = useResource('workflows', (signal) => api.listWorkflows(signal));
  const pageKey = JSON.stringify([filterKey, cursor]);
  const runs = useResource(
    pageKey,
    (signal) =>
      api.listRuns(
        {
          workflow: workflow || undefined,
          status: status || undefined,
          isTopLevel,
          parentRunId: parentRunId || undefined,
          limit: RUNS_PAGE_SIZE,
          cursor,
        },
        signal,
      ),
    1000,
  );
  const streamState = useEventStream(
    undefined,
    (event) => {
      if (event.type.startsWith('run_')) runs.scheduleReload();
    },
    runs.scheduleReload,
  );

  const setFilter = (name: string, value: string) => {
    const next = new URLSearchParams(query);
    if (value) next.set(name, value);
    else next.delete(name);
    navigate(hrefs.runs(next));
  };

  const rows = runs.data?.runs ?? [];
  const nextCursor = runs.dataKey === pageKey ? runs.data?.nextCursor : null;
  const now = useNow(rows.some(isRunMoving));
  const workflowNames = (workflows.data?.workflows ?? []).map((w) => w.name);
  if (workflow && !workflowNames.includes(workflow)) workflowNames.push(workflow);

  return (
    <>
      <div className="page-header">
        <h1>Runs</h1>
        <LiveIndicator state={streamState} />
        <button
          type="button"
          className="button--primary page-header__action"
          onClick={() => setIsStartOpen(true)}
          disabled={!workflows.data?.workflows.length}
        >
          Start a run
        </button>
      </div>

      <form className="filters" aria-label="Filter runs" onSubmit={(e) => e.preventDefault()}>
        <label className="field field--inline">
          <span>Workflow</span>
          <select value={workflow} onChange={(e) => setFilter('workflow', e.target.value)}>
            <option value="">all</option>
            {workflowNames.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label className="field field--inline">
          <span>Status</span>
          <select value={status} onChange={(e) => setFilter('status', e.target.value)}>
            <option value="">any</option>
            {RUN_STATUSES.map((s) => (
              <option key={s} value={s}>
                {statusLabel(s)}
              </option>
            ))}
          </select>
        </label>
        {parentRunId ? (
          <p className="filters__scope">
            Children of run{' '}
            <a className="mono" href={hrefs.run(parentRunId)}>
              {parentRunId}
            </a>{' '}
            <a href={hrefs.runs(without(query, 'parent'))}>Show top-level runs</a>
          </p>
        ) : (
          <label className="checkbox">
            <input
              type="checkbox"
              checked={hasChildren}
              onChange={(e) => setFilter('children', e.target.checked ? '1' : '')}
            />
            Include child runs
          </label>
        )}
      </form>

      {runs.error && <ErrorBanner error={runs.error} />}
      {workflows.error && !runs.error && <ErrorBanner error={workflows.error} />}

      <div className="table-scroll">
        <table className="table" aria-label="Runs" aria-busy={runs.isLoading}>
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col">Workflow</th>
              <th scope="col">Run</th>
              <th scope="col">Started</th>
              <th scope="col">Duration</th>
              <th scope="col">Parent</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((run) => (
              <tr key={run.id}>
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
                  <Time ms={run.startedAt ?? run.createdAt} />
                </td>
                <td>{formatDuration(runDuration(run, now))}</td>
                <td>
                  {run.parentRunId ? (
                    <a className="mono" href={hrefs.run(run.parentRunId, run.parentStep)}>
                      {run.parentRunId}
                      {run.parentStep ? ` / ${run.parentStep}` : ''}
                    </a>
                  ) : (
                    <span className="muted">—</span>
                  )}
                </td>
              </tr>
            ))}
            {rows.length === 0 && runs.data && (
              <tr>
                <td colSpan={6} className="muted">
                  {emptyMessage({ isFirstPage: pageIndex === 0, isFiltered: Boolean(workflow || status), parentRunId })}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <Pager
        label="Pages of runs"
        pageIndex={pageIndex}
        hasPrevious={pageIndex > 0}
        hasNext={Boolean(nextCursor)}
        onPrevious={() => setCursors(cursors.slice(0, -1))}
        onNext={() => nextCursor && setCursors([...cursors, nextCursor])}
      />
      <StartRunDialog
        isOpen={isStartOpen}
        workflows={workflows.data?.workflows ?? []}
        onClose={() => setIsStartOpen(false)}
      />
    </>
  );
}

function emptyMessage(p: { isFirstPage: boolean; isFiltered: boolean; parentRunId: string }): string {
  if (!p.isFirstPage) return 'No runs match these filters on this page.';
  if (p.parentRunId)
    return p.isFiltered ? 'No child runs of this run match these filters.' : 'This run has no children.';
  return p.isFiltered ? 'No runs match these filters.' : 'No runs yet. Start one with “Start a run” or the API.';
}

function without(query: URLSearchParams, name: string): URLSearchParams {
  const next = new URLSearchParams(query);
  next.delete(name);
  return next;
}
