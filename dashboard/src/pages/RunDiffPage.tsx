import { useEffect } from 'react';
import { api } from '../api/client.js';
import type { RunDetail, Step } from '../api/types.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { StatusBadge } from '../components/StatusBadge.js';
import { ValueView } from '../components/ValueView.js';
import { formatValue } from '../format.js';
import { useResource } from '../hooks/useResource.js';
import { hrefs } from '../hooks/useRoute.js';

/**
 * Two runs side by side, step by step (a fork and the run it came from): each step's status and
 * output in both, the rows whose output differs marked, and the fork's reused steps labelled.
 */
export function RunDiffPage({ runId, otherId }: { runId: string; otherId: string }) {
  const left = useResource(`diff:${runId}`, (signal) => api.getRun(runId, signal), 500);
  const right = useResource(`diff:${otherId}`, (signal) => api.getRun(otherId, signal), 500);

  useEffect(() => {
    document.title = 'Compare runs · Braid';
    return () => {
      document.title = 'Braid';
    };
  }, []);

  const error = left.error ?? right.error;
  if (!left.data || !right.data) {
    return error ? <ErrorBanner error={error} /> : <p className="muted">Loading the two runs…</p>;
  }
  const rows = stepRows(left.data, right.data);
  const changed = rows.filter((r) => r.isChanged).length;
  return (
    <>
      <nav className="breadcrumbs" aria-label="Breadcrumbs">
        <a href={hrefs.runs()}>Runs</a>
        <span aria-hidden="true"> / </span>
        <span>Compare</span>
      </nav>
      <h1>Compare step outputs</h1>
      <p className="muted">
        {changed === 0 ? 'Every step has the same output in both runs.' : `${changed} of ${rows.length} steps differ.`}
      </p>
      {error && <ErrorBanner error={error} />}
      <table className="table diff-table" aria-label="Step outputs of the two runs">
        <thead>
          <tr>
            <th scope="col">Step</th>
            <RunColumn detail={left.data} />
            <RunColumn detail={right.data} />
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.name} className={row.isChanged ? 'diff-row diff-row--changed' : 'diff-row'}>
              <th scope="row">
                <code>{row.name}</code>
                {row.isChanged && <span className="diff-row__mark"> differs</span>}
              </th>
              <StepCell step={row.left} />
              <StepCell step={row.right} />
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function RunColumn({ detail }: { detail: RunDetail }) {
  const { run, forkedFrom } = detail;
  return (
    <th scope="col">
      <a className="mono" href={hrefs.run(run.id)}>
        {run.id}
      </a>{' '}
      <StatusBadge status={run.status} />
      {forkedFrom && <div className="muted">fork from step {forkedFrom.step}</div>}
    </th>
  );
}

function StepCell({ step }: { step: Step | undefined }) {
  if (!step) return <td className="muted">not in this run</td>;
  return (
    <td>
      <StatusBadge status={step.status} />
      {step.reusedFrom && <span className="reused-tag"> reused</span>}
      <ValueView value={step.output} />
    </td>
  );
}

interface StepRow {
  name: string;
  left: Step | undefined;
  right: Step | undefined;
  isChanged: boolean;
}

/** Every step of either run, in the first run's order, then the second's extra ones. */
function stepRows(left: RunDetail, right: RunDetail): StepRow[] {
  const names = [...new Set([...left.steps.map((s) => s.name), ...right.steps.map((s) => s.name)])];
  return names.map((name) => {
    const l = left.steps.find((s) => s.name === name);
    const r = right.steps.find((s) => s.name === name);
    const isChanged = l?.status !== r?.status || formatValue(l?.output ?? null) !== formatValue(r?.output ?? null);
    return { name, left: l, right: r, isChanged };
  });
}
