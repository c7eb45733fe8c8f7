import type { Wait } from '../api/types.js';
import { formatValue } from '../format.js';
import { describeWait, dueText, WAIT_OUTCOME_LABELS } from '../waits/describe.js';
import { InputForm } from './InputForm.js';
import { StatusBadge } from './StatusBadge.js';
import { Time } from './Time.js';
import { ValueView } from './ValueView.js';
import { WaitIcon } from './WaitIcon.js';

/**
 * What the run waits for: each pending input (what it asks, until when, and the form that answers
 * it), then the sleeps and events with their due time. Settled waits follow, folded, a row each.
 */
export function WaitsSection(props: { runId: string; waits: readonly Wait[]; now: number; onAnswered: () => void }) {
  const { runId, waits, now, onAnswered } = props;
  const pending = waits.filter((w) => w.status === 'pending');
  const inputs = pending.filter((w) => w.kind === 'input');
  const others = pending.filter((w) => w.kind !== 'input');
  const settled = waits.filter((w) => w.status !== 'pending');
  if (!waits.length) return null;
  return (
    <section className="waits-section" aria-labelledby="waits-heading">
      <h2 id="waits-heading">{pending.length ? 'Waiting for' : 'Waits'}</h2>
      {inputs.map((wait) => (
        <InputRequestCard
          key={`${wait.step}/${wait.key}`}
          runId={runId}
          wait={wait}
          now={now}
          onAnswered={onAnswered}
        />
      ))}
      {others.length > 0 && (
        <ul className="wait-list" aria-label="Pending sleeps and events">
          {others.map((wait) => (
            <li key={`${wait.step}/${wait.key}`} className="wait-list__item">
              <WaitIcon />
              <span>
                Step <code>{wait.step}</code> {wait.kind === 'sleep' ? 'sleeps' : `waits for ${describeWait(wait)}`}
                {wait.dueAt === null ? (
                  ', with no time limit'
                ) : (
                  <>
                    {wait.kind === 'sleep' ? ' until ' : ', until '}
                    <time dateTime={new Date(wait.dueAt).toISOString()}>{dueText(wait.dueAt, now)}</time>
                  </>
                )}
                {wait.group !== wait.key && (
                  <span className="muted"> (one of {wait.group}: the first to come wins)</span>
                )}
              </span>
            </li>
          ))}
        </ul>
      )}
      {settled.length > 0 && (
        <details className="events" open={!pending.length}>
          <summary>Settled waits ({settled.length})</summary>
          <div className="table-scroll">
            <table className="table table--compact" aria-label="Settled waits">
              <thead>
                <tr>
                  <th scope="col">Step</th>
                  <th scope="col">Wait</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Settled</th>
                  <th scope="col">Value</th>
                </tr>
              </thead>
              <tbody>
                {settled.map((wait) => (
                  <tr key={`${wait.step}/${wait.key}`}>
                    <td>
                      <code>{wait.step}</code>
                    </td>
                    <td>{describeWait(wait)}</td>
                    <td className="nowrap">
                      <StatusBadge
                        status={wait.status === 'resolved' ? 'succeeded' : wait.status}
                        label={WAIT_OUTCOME_LABELS[wait.status as keyof typeof WAIT_OUTCOME_LABELS]}
                      />
                    </td>
                    <td>
                      <Time ms={wait.resolvedAt} />
                    </td>
                    <td className="mono wait-value">{wait.value === null ? '' : oneLine(wait.value)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
      )}
    </section>
  );
}

function InputRequestCard(props: { runId: string; wait: Wait; now: number; onAnswered: () => void }) {
  const { runId, wait, now, onAnswered } = props;
  const headingId = `input-${wait.step}-${wait.key}`;
  const payload = wait.request?.payload;
  return (
    <section className="card input-request" aria-labelledby={headingId}>
      <h3 id={headingId}>
        <WaitIcon /> Input <code>{wait.name}</code>
      </h3>
      <p className="muted">
        Asked by step <code>{wait.step}</code> at <Time ms={wait.createdAt} />.{' '}
        {wait.dueAt === null ? (
          'No time limit.'
        ) : (
          <>
            Times out at <time dateTime={new Date(wait.dueAt).toISOString()}>{dueText(wait.dueAt, now)}</time>.
          </>
        )}
      </p>
      {payload !== null && payload !== undefined && (
        <div className="input-request__payload">
          <h4>Request</h4>
          <ValueView value={payload} />
        </div>
      )}
      <InputForm runId={runId} wait={wait} onAnswered={onAnswered} />
    </section>
  );
}

function oneLine(value: unknown): string {
  const text = typeof value === 'string' ? value : formatValue(value).replace(/\s*\n\s*/g, ' ');
  return text.length > 120 ? `${text.slice(0, 119)}…` : text;
}
