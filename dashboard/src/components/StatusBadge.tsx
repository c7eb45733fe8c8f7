import { statusLabel } from '../format.js';

/** A run's or step's status: a coloured dot and the status as text (colour is never the only cue). */
export function StatusBadge({ status }: { status: string }) {
  return (
    <span className={`badge status-${status}`}>
      <span className="badge__dot" aria-hidden="true" />
      {statusLabel(status)}
    </span>
  );
}
