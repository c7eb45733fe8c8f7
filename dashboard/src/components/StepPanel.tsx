import type { Attempt, StatusCounts, Step, StepProgress, Wait } from '../api/types.js';
import { formatDuration, liveDuration } from '../format.js';
import { describeWait, dueText, WAIT_OUTCOME_LABELS } from '../waits/describe.js';
import { ErrorView } from './ErrorView.js';
import { StatusBadge } from './StatusBadge.js';
import { StatusCountList } from './StatusCountList.js';
import { StepStreamSection } from './StepStreamSection.js';
import { Time } from './Time.js';
import { ValueView } from './ValueView.js';

export interface StepChildren {
  total: number;
  counts: StatusCounts;
}

/** Everything about one step of the run: timing, flags, waits, output, error, attempts and children. */
export function StepPanel(props: {
  runId: string;
  step: Step;
  /** The step's latest ctx.progress, if it reported one. */
  progress?: StepProgress | undefined;
  attempts: readonly Attempt[];
  /** The step's waits, pending and settled. */
  waits: readonly Wait[];
  stepChildren: StepChildren | undefined;
  now: number;
  onClose: () => void;
  onShowChildren: () => void;
  /** Offered on an ended run: start a new run from this step ("Fork from here"). */
  onFork?: () => void;
}) {
  const { step, attempts, waits, stepChildren, now } = props;
  const headingId = `step-panel-${step.name}`;
  return (
    <section className="panel" aria-labelledby={headingId}>
      <header className="panel__header">
        <h2 id={headingId}>
          Step <code>{step.name}</code>
        </h2>
        <StatusBadge status={step.status} />
        {step.reusedFrom && <span className="reused-tag">reused</span>}
        {props.onFork && (
          <button type="button" onClick={props.onFork}>
            Fork from here
          </button>
        )}
        <button type="button" className="icon-button" aria-label="Close step details" onClick={props.onClose}>
          ×
        </button>
      </header>

      <dl className="facts">
        {step.reusedFrom && (
          <>
            <dt>Reused from</dt>
            <dd>
              <a
                className="mono"
                href={`#/runs/${encodeURIComponent(step.reusedFrom)}?step=${encodeURIComponent(step.name)}`}
              >
                {step.reusedFrom}
              </a>{' '}
              <span className="muted">(not run in this fork)</span>
            </dd>
          </>
        )}
        <dt>Started</dt>
        <dd>
          <Time ms={step.startedAt} />
        </dd>
        <dt>Finished</dt>
        <dd>
          <Time ms={step.finishedAt} />
        </dd>
        <dt>Duration</dt>
        <dd>{formatDuration(liveDuration(step.startedAt, step.finishedAt, now))}</dd>
        <dt>Attempts</dt>
        <dd>{step.attempts}</dd>
        <dt>Cache hit</dt>
        <dd>{step.cacheHit ? 'yes' : 'no'}</dd>
        <dt>Fallback used</dt>
        <dd>{step.fallbackUsed ? 'yes' : 'no'}</dd>
        {step.nextAttemptAt !== null && (
          <>
            <dt>Next attempt</dt>
            <dd>
              <Time ms={step.nextAttemptAt} />
            </dd>
          </>
        )}
        {step.route && (
          <>
            <dt>Routed to</dt>
            <dd>{step.route.join(', ') || 'none'}</dd>
          </>
        )}
        {step.parents.length > 0 && (
          <>
            <dt>Parents</dt>
            <dd>{step.parents.join(', ')}</dd>
          </>
        )}
      </dl>

      {stepChildren && stepChildren.total > 0 && (
        <section className="panel__section" aria-label={`Children of step ${step.name}`}>
          <h3>Children ({stepChildren.total.toLocaleString()})</h3>
          <StatusCountList counts={stepChildren.counts} />
          <button type="button" className="link-button" onClick={props.onShowChildren}>
            Show the children table
          </button>
        </section>
      )}

      {waits.length > 0 && (
        <section className="panel__section" aria-label={`Waits of step ${step.name}`}>
          <h3>Waits ({waits.length})</h3>
          <ul className="panel__waits">
            {waits.map((wait) => (
              <li key={wait.key}>
                {describeWait(wait)}
                {' · '}
                {wait.status === 'pending'
                  ? wait.dueAt === null
                    ? 'pending, no time limit'
                    : `pending until ${dueText(wait.dueAt, now)}`
                  : WAIT_OUTCOME_LABELS[wait.status]}
              </li>
            ))}
          </ul>
        </section>
      )}

      <StepStreamSection runId={props.runId} step={step.name} progress={props.progress} />

      <section className="panel__section">
        <h3>Output</h3>
        <ValueView value={step.output} />
      </section>

      {step.error && (
        <section className="panel__section">
          <h3>Error</h3>
          <ErrorView error={step.error} />
        </section>
      )}

      <section className="panel__section">
        <h3>Attempts ({attempts.length})</h3>
        {attempts.length === 0 ? (
          <p className="muted">Not started.</p>
        ) : (
          <table className="table table--compact" aria-label={`Attempts of step ${step.name}`}>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Outcome</th>
                <th scope="col">Started</th>
                <th scope="col">Ended</th>
                <th scope="col">Duration</th>
              </tr>
            </thead>
            <tbody>
              {attempts.map((a) => (
                <AttemptRows key={`${a.attempt}-${a.startedAt}`} attempt={a} now={now} />
              ))}
            </tbody>
          </table>
        )}
      </section>
    </section>
  );
}

function AttemptRows({ attempt, now }: { attempt: Attempt; now: number }) {
  return (
    <>
      <tr>
        <td>{attempt.attempt}</td>
        <td className="nowrap">
          <StatusBadge status={attempt.outcome} />
          {attempt.willRetry && <span className="muted"> retried</span>}
        </td>
        <td>
          <Time ms={attempt.startedAt} />
        </td>
        <td>
          <Time ms={attempt.finishedAt} />
        </td>
        <td>{formatDuration(liveDuration(attempt.startedAt, attempt.finishedAt, now))}</td>
      </tr>
      {attempt.error && (
        <tr className="table__detail">
          <td colSpan={5}>
            <ErrorView error={attempt.error} />
          </td>
        </tr>
      )}
    </>
  );
}
