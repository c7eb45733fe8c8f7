import { useEffect, useMemo, useState } from 'react';
import { api } from '../api/client.js';
import { isTerminalRun, type Run, type RunDetail, type Step } from '../api/types.js';
import { ChildrenTable } from '../components/ChildrenTable.js';
import { ConfirmDialog, type ConfirmRequest } from '../components/ConfirmDialog.js';
import { DagView, StepLegend } from '../components/DagView.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { ErrorView } from '../components/ErrorView.js';
import { ForkDialog } from '../components/ForkDialog.js';
import { LiveIndicator } from '../components/LiveIndicator.js';
import { StatusBadge } from '../components/StatusBadge.js';
import { StatusCountList } from '../components/StatusCountList.js';
import { type StepChildren, StepPanel } from '../components/StepPanel.js';
import { Time } from '../components/Time.js';
import { ValueView } from '../components/ValueView.js';
import { WaitsSection } from '../components/WaitsSection.js';
import { formatDuration, runDuration, statusLabel } from '../format.js';
import { useEventStream } from '../hooks/useEventStream.js';
import { useNow } from '../hooks/useNow.js';
import { useResource } from '../hooks/useResource.js';
import { hrefs, navigate } from '../hooks/useRoute.js';
import { useThrottledCounter } from '../hooks/useThrottledCounter.js';

const EVENTS_SHOWN = 500;

/**
 * One run: its header and actions, what it waits for (each pending input with the form that
 * answers it), its DAG coloured by live step status, the selected step's details, the children
 * each step spawned (paged tables) and its event history. Events of the
 * run reload its detail (at most every 250 ms); events of its descendants reload the children
 * counts and tables (at most once a second), so a fan-out of 100,000 stays a few requests.
 */
export function RunPage({ runId, initialStep }: { runId: string; initialStep: string | undefined }) {
  const detail = useResource(runId, (signal) => api.getRun(runId, signal), 250);
  const [childrenVersion, bumpChildren] = useThrottledCounter(1000);
  const streamState = useEventStream(
    runId,
    (event) => {
      if (event.runId === runId) detail.scheduleReload();
      else if (event.type.startsWith('run_')) bumpChildren();
    },
    () => {
      detail.scheduleReload();
      bumpChildren();
    },
  );
  const [selectedStep, setSelectedStep] = useState<string | undefined>(initialStep);
  const [confirm, setConfirm] = useState<ConfirmRequest | undefined>(undefined);
  const [forkStep, setForkStep] = useState<string | undefined>(undefined);
  // A link to this run with another `?step=` (from a child's "spawned by") selects that step.
  useEffect(() => {
    if (initialStep) setSelectedStep(initialStep);
  }, [initialStep]);

  // A child's transition can change the run's own children total (the first spawns of a step
  // bring no event of the run itself), so it reloads the detail too, at the children's pace.
  const { scheduleReload: scheduleDetailReload } = detail;
  useEffect(() => {
    if (childrenVersion > 0) scheduleDetailReload();
  }, [childrenVersion, scheduleDetailReload]);

  const data = detail.data;
  const stepChildren = useStepChildren(runId, data, childrenVersion);
  const isTicking = data !== undefined && (!isTerminalRun(data.run.status) || data.steps.some(isStepActive));
  const now = useNow(isTicking);

  useEffect(() => {
    if (data) document.title = `${data.run.workflow} · ${statusLabel(data.run.status)} · Braid`;
    return () => {
      document.title = 'Braid';
    };
  }, [data]);

  if (!data) {
    return detail.error ? (
      <>
        <ErrorBanner error={detail.error} />
        <p>
          <a href={hrefs.runs()}>Back to the runs</a>
        </p>
      </>
    ) : (
      <p className="muted">Loading run {runId}…</p>
    );
  }

  const { run } = data;
  const step = data.steps.find((s) => s.name === selectedStep);
  const spawningSteps = data.steps.filter((s) => (stepChildren.data?.[s.name]?.total ?? 0) > 0);
  const childCounts = Object.fromEntries(
    Object.entries(stepChildren.data ?? {}).map(([name, c]) => [name, c?.total ?? 0]),
  );
  const showChildren = (name: string) => {
    const section = document.getElementById(`children-${name}`);
    section?.scrollIntoView({ behavior: 'smooth', block: 'start' });
    section?.focus({ preventScroll: true });
  };
  const act = (request: ConfirmRequest) => setConfirm(request);

  return (
    <>
      <nav className="breadcrumbs" aria-label="Breadcrumbs">
        <a href={hrefs.runs()}>Runs</a>
        {data.parent && (
          <>
            <span aria-hidden="true"> / </span>
            <a href={hrefs.run(data.parent.runId, data.parent.step)}>parent run</a>
          </>
        )}
        <span aria-hidden="true"> / </span>
        <span>{run.workflow}</span>
      </nav>

      <header className="run-header">
        <div className="run-header__title">
          <h1>
            {run.workflow} <StatusBadge status={run.status} />
          </h1>
          <p className="mono run-header__id">
            <span className="muted">Run </span>
            {run.id}
          </p>
          {data.parent && (
            <p className="spawned-by">
              Spawned by{' '}
              <a href={hrefs.run(data.parent.runId, data.parent.step)} aria-label={spawnedByLabel(data.parent)}>
                <span className="mono">{data.parent.runId}</span>
                {data.parent.step && (
                  <>
                    {' '}
                    / step <code>{data.parent.step}</code>
                  </>
                )}
              </a>
            </p>
          )}
          {data.replayOf && (
            <p>
              Replay of{' '}
              <a className="mono" href={hrefs.run(data.replayOf)}>
                {data.replayOf}
              </a>
            </p>
          )}
          {data.forkedFrom && (
            <p className="forked-from">
              Fork of{' '}
              <a className="mono" href={hrefs.run(data.forkedFrom.runId, data.forkedFrom.step)}>
                {data.forkedFrom.runId}
              </a>{' '}
              from step <code>{data.forkedFrom.step}</code> ·{' '}
              <a href={hrefs.diff(data.forkedFrom.runId, run.id)}>Compare step outputs</a>
            </p>
          )}
          {data.forks && data.forks.length > 0 && (
            <div className="forks">
              <span>Forks:</span>
              <ul aria-label="Forks of this run">
                {data.forks.map((f) => (
                  <li key={f.runId}>
                    <a className="mono" href={hrefs.run(f.runId)}>
                      {f.runId}
                    </a>{' '}
                    from <code>{f.step}</code> · <a href={hrefs.diff(run.id, f.runId)}>compare</a>
                  </li>
                ))}
              </ul>
            </div>
          )}
        </div>
        <RunActions run={run} onReload={detail.reload} onConfirm={act} />
        <LiveIndicator state={streamState} />
      </header>

      {detail.error && <ErrorBanner error={detail.error} />}

      <dl className="facts facts--wide">
        <dt>Created</dt>
        <dd>
          <Time ms={run.createdAt} />
        </dd>
        <dt>Started</dt>
        <dd>
          <Time ms={run.startedAt} />
        </dd>
        <dt>Finished</dt>
        <dd>
          <Time ms={run.finishedAt} />
        </dd>
        <dt>Duration</dt>
        <dd>{formatDuration(runDuration(run, now))}</dd>
        <dt>Version</dt>
        <dd>{run.version}</dd>
        {run.deadlineAt !== null && (
          <>
            <dt>Deadline</dt>
            <dd>
              <Time ms={run.deadlineAt} />
            </dd>
          </>
        )}
        {run.idempotencyKey && (
          <>
            <dt>Idempotency key</dt>
            <dd className="mono">{run.idempotencyKey}</dd>
          </>
        )}
        {run.concurrencyKey && (
          <>
            <dt>Concurrency key</dt>
            <dd className="mono">{run.concurrencyKey}</dd>
          </>
        )}
        <dt>Priority</dt>
        <dd data-testid="run-priority">{run.priority ?? 0}</dd>
        <dt>Children</dt>
        <dd>
          {data.children.total > 0 ? <a href={childrenListHref(run.id)}>{data.children.total.toLocaleString()}</a> : 0}
        </dd>
      </dl>

      <div className="cards">
        <section className="card" aria-labelledby="run-input">
          <h2 id="run-input">Input</h2>
          <ValueView value={run.input} />
        </section>
        <section className="card" aria-labelledby="run-output">
          <h2 id="run-output">Output</h2>
          {run.status === 'succeeded' ? (
            <ValueView value={run.output} />
          ) : (
            <p className="muted">{isTerminalRun(run.status) ? 'No output: the run did not succeed.' : 'Not yet.'}</p>
          )}
        </section>
        {run.error && (
          <section className="card card--error" aria-labelledby="run-error">
            <h2 id="run-error">Error</h2>
            <ErrorView error={run.error} />
          </section>
        )}
      </div>

      <ForkDialog runId={run.id} step={forkStep} input={run.input} onClose={() => setForkStep(undefined)} />

      <WaitsSection runId={run.id} waits={data.waits} now={now} onAnswered={detail.reload} />

      <section className="steps-section" aria-labelledby="steps-heading">
        <div className="section-header">
          <h2 id="steps-heading">Steps</h2>
          <StepLegend />
        </div>
        <div className="graph-layout">
          <DagView
            steps={data.steps}
            waits={data.waits}
            childCounts={childCounts}
            selectedStep={selectedStep}
            onSelectStep={setSelectedStep}
          />
          {step ? (
            <StepPanel
              runId={run.id}
              progress={data.progress?.[step.name]}
              step={step}
              attempts={data.attempts.filter((a) => a.step === step.name)}
              waits={data.waits.filter((w) => w.step === step.name)}
              stepChildren={stepChildren.data?.[step.name]}
              now={now}
              onClose={() => setSelectedStep(undefined)}
              onShowChildren={() => showChildren(step.name)}
              {...(isTerminalRun(run.status) ? { onFork: () => setForkStep(step.name) } : {})}
            />
          ) : (
            <aside className="panel panel--empty">
              <p className="muted">Select a step to see its attempts, output, error and children.</p>
            </aside>
          )}
        </div>
      </section>

      {data.children.total > 0 && (
        <section className="children-section" aria-labelledby="children-heading">
          <div className="section-header">
            <h2 id="children-heading">Child runs ({data.children.total.toLocaleString()})</h2>
            <a href={childrenListHref(run.id)}>List them with the runs</a>
          </div>
          <StatusCountList counts={data.children.counts} />
          {stepChildren.error && <ErrorBanner error={stepChildren.error} />}
          {spawningSteps.map((s) => {
            const c = stepChildren.data?.[s.name];
            return (
              <ChildrenTable
                key={s.name}
                runId={run.id}
                step={s.name}
                total={c?.total ?? 0}
                counts={c?.counts ?? {}}
                liveVersion={childrenVersion}
                now={now}
              />
            );
          })}
        </section>
      )}

      <details className="events">
        <summary>
          Events ({data.events.length.toLocaleString()}
          {data.events.length > EVENTS_SHOWN ? `, the last ${EVENTS_SHOWN} shown` : ''})
        </summary>
        <div className="table-scroll">
          <table className="table table--compact" aria-label="Events of this run">
            <thead>
              <tr>
                <th scope="col">Seq</th>
                <th scope="col">Time</th>
                <th scope="col">Event</th>
                <th scope="col">Step</th>
                <th scope="col">Attempt</th>
              </tr>
            </thead>
            <tbody>
              {data.events.slice(-EVENTS_SHOWN).map((e) => (
                <tr key={e.seq}>
                  <td className="num">{e.seq}</td>
                  <td>
                    <Time ms={e.at} />
                  </td>
                  <td>{e.type.replace(/_/g, ' ')}</td>
                  <td>{e.step ?? ''}</td>
                  <td className="num">{e.attempt ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>

      <ConfirmDialog request={confirm} onClose={() => setConfirm(undefined)} />
    </>
  );
}

/** The runs list, showing only this run's children. */
function childrenListHref(runId: string): string {
  return hrefs.runs(new URLSearchParams({ parent: runId }));
}

function spawnedByLabel(parent: { runId: string; step: string | null }): string {
  return `Spawned by run ${parent.runId}${parent.step ? `, step ${parent.step}` : ''}`;
}

function isStepActive(step: Step): boolean {
  return step.status === 'running' || step.status === 'queued';
}

/** Cancel / Pause / Resume / Replay, each behind a confirmation; disabled when they cannot apply. */
function RunActions(props: { run: Run; onReload: () => void; onConfirm: (request: ConfirmRequest) => void }) {
  const { run, onReload, onConfirm } = props;
  const isTerminal = isTerminalRun(run.status);
  const canPause = run.status === 'running' || run.status === 'queued' || run.status === 'waiting';
  const canResume = run.status === 'paused';
  const what = (
    <>
      <strong>{run.workflow}</strong> run <code>{run.id}</code>
    </>
  );
  return (
    <fieldset className="actions">
      <legend className="visually-hidden">Run actions</legend>
      <button
        type="button"
        disabled={!canPause}
        onClick={() =>
          onConfirm({
            title: 'Pause this run?',
            body: <p>No new steps of the {what} will start; running steps finish and are recorded.</p>,
            confirmLabel: 'Pause run',
            action: async () => {
              await api.pauseRun(run.id);
              onReload();
            },
          })
        }
      >
        Pause
      </button>
      <button
        type="button"
        disabled={!canResume}
        onClick={() =>
          onConfirm({
            title: 'Resume this run?',
            body: <p>The {what} continues from its last checkpoint.</p>,
            confirmLabel: 'Resume run',
            action: async () => {
              await api.resumeRun(run.id);
              onReload();
            },
          })
        }
      >
        Resume
      </button>
      <button
        type="button"
        onClick={() =>
          onConfirm({
            title: 'Replay this run?',
            body: (
              <p>
                A new run of {run.workflow} starts with the same input as the {what}.
              </p>
            ),
            confirmLabel: 'Replay run',
            action: async () => {
              const { runId } = await api.replayRun(run.id);
              navigate(hrefs.run(runId));
            },
          })
        }
      >
        Replay
      </button>
      <button
        type="button"
        className="button--danger"
        disabled={isTerminal}
        onClick={() =>
          onConfirm({
            title: 'Cancel this run?',
            body: (
              <p>
                The {what} stops: running steps are aborted and its child runs are cancelled. Finished steps keep their
                results. This cannot be undone.
              </p>
            ),
            confirmLabel: 'Cancel run',
            isDangerous: true,
            action: async () => {
              await api.cancelRun(run.id);
              onReload();
            },
          })
        }
      >
        Cancel
      </button>
    </fieldset>
  );
}

/**
 * How many children each step spawned, with their status counts. The run's detail gives the
 * total only, so each step that has started is asked once (one count query, `limit=1`, no list),
 * and only when the run has children at all.
 */
function useStepChildren(runId: string, data: RunDetail | undefined, version: number) {
  const total = data?.children.total ?? 0;
  const candidates = useMemo(
    () => (total === 0 ? [] : (data?.steps ?? []).filter((s) => s.status !== 'pending' && s.status !== 'skipped')),
    [data, total],
  );
  const candidateKey = candidates.map((s) => s.name).join('|');
  const resource = useResource(
    JSON.stringify([runId, candidateKey]),
    async (signal): Promise<Record<string, StepChildren | undefined>> => {
      const pairs = await Promise.all(
        candidateKey
          .split('|')
          .filter(Boolean)
          .map(async (name) => {
            const page = await api.listChildren(runId, { step: name, limit: 1 }, signal);
            return [name, { total: page.total, counts: page.counts }] as const;
          }),
      );
      return Object.fromEntries(pairs);
    },
    1000,
  );
  const { scheduleReload } = resource;
  // biome-ignore lint/correctness/useExhaustiveDependencies: reload when descendants move or the total changes
  useEffect(() => {
    scheduleReload();
  }, [version, total, scheduleReload]);
  return resource;
}
