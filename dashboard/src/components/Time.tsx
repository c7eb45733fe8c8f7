import { formatTime, isoTime } from '../format.js';

export function Time({ ms }: { ms: number | null | undefined }) {
  if (ms === null || ms === undefined) return <span className="muted">—</span>;
  return (
    <time dateTime={isoTime(ms)} title={isoTime(ms)}>
      {formatTime(ms)}
    </time>
  );
}
