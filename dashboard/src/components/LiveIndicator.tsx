import type { StreamState } from '../api/eventStream.js';

const LABELS: Record<StreamState, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  offline: 'Reconnecting…',
  unauthorized: 'Live updates need a token',
};

/** Whether live updates are flowing: the page is current while this says "Live". */
export function LiveIndicator({ state }: { state: StreamState }) {
  return (
    <output className={`live live--${state}`} aria-live="polite">
      <span className="live__dot" aria-hidden="true" />
      {LABELS[state]}
    </output>
  );
}
