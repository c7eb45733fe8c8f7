import { RUN_STATUSES, type StatusCounts } from '../api/types.js';
import { statusLabel } from '../format.js';

/** Runs per status as badges with numbers, e.g. "succeeded 24 · running 1". */
export function StatusCountList({ counts }: { counts: StatusCounts }) {
  const present = RUN_STATUSES.filter((s) => (counts[s] ?? 0) > 0);
  if (present.length === 0) return <p className="muted">None yet.</p>;
  return (
    <ul className="counts">
      {present.map((status) => (
        <li key={status} className={`badge status-${status}`}>
          <span className="badge__dot" aria-hidden="true" />
          {statusLabel(status)} <strong>{(counts[status] ?? 0).toLocaleString()}</strong>
        </li>
      ))}
    </ul>
  );
}

/** How far a set of runs has got: one bar, a segment per status. */
export function StatusProgress({ counts, total, label }: { counts: StatusCounts; total: number; label: string }) {
  const finished = (counts.succeeded ?? 0) + (counts.failed ?? 0) + (counts.cancelled ?? 0) + (counts.timed_out ?? 0);
  const text = `${finished.toLocaleString()} of ${total.toLocaleString()} finished`;
  return (
    <div className="progress-row">
      <div
        className="progress"
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={total}
        aria-valuenow={finished}
        aria-valuetext={text}
      >
        {RUN_STATUSES.map((status) => {
          const n = counts[status] ?? 0;
          if (n === 0 || total === 0) return null;
          return <span key={status} className={`progress__part status-${status}`} style={{ flexGrow: n }} />;
        })}
      </div>
      <span className="muted">{text}</span>
    </div>
  );
}
