import { statusLabel } from '../format.js';

/**
 * A run's or step's status: a coloured dot and the status as text (colour is never the only cue).
 * `label` replaces the text when the colour of `status` is borrowed (a wait resolved, say).
 */
export function StatusBadge({ status, label }: { status: string; label?: string }) {
  return (
    <span className={`badge status-${status}`}>
      <span className="badge__dot" aria-hidden="true" />
      {label ?? statusLabel(status)}
    </span>
  );
}
