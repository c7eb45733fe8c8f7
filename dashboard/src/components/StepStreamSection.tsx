import { useEffect, useState } from 'react';
import { followStepStream } from '../api/stepStream.js';
import type { StepProgress, StreamChunk } from '../api/types.js';
import { formatValue } from '../format.js';
import { ErrorBanner } from './ErrorBanner.js';

/** Chunks kept per step in the page: a longer stream shows its latest ones (the API has them all). */
const MAX_CHUNKS_SHOWN = 20_000;

/**
 * A step's output streams (`ctx.emit`), live while it runs, and its progress (`ctx.progress`).
 * A stream of strings reads as text (the chunks joined, as tokens are); any other chunk is shown
 * as pretty JSON. Each attempt's chunks are kept apart, under the attempt's number.
 */
export function StepStreamSection(props: {
  runId: string;
  step: string;
  /** Progress from the run's detail, until the stream brings a newer value. */
  progress: StepProgress | undefined;
}) {
  const { runId, step } = props;
  const [chunks, setChunks] = useState<StreamChunk[]>([]);
  const [liveProgress, setLiveProgress] = useState<StepProgress | undefined>(undefined);
  const [isEnded, setIsEnded] = useState(false);
  const [error, setError] = useState<Error | undefined>(undefined);

  useEffect(() => {
    const abort = new AbortController();
    setChunks([]);
    setIsEnded(false);
    setError(undefined);
    void followStepStream({
      runId,
      step,
      signal: abort.signal,
      onChunks: (more) => setChunks((before) => [...before, ...more].slice(-MAX_CHUNKS_SHOWN)),
      onProgress: setLiveProgress,
      onEnd: () => setIsEnded(true),
      onError: setError,
    });
    return () => abort.abort();
  }, [runId, step]);

  const progress = newer(props.progress, liveProgress);
  const groups = groupChunks(chunks);
  if (!progress && groups.length === 0) return null;
  return (
    <section className="panel__section" aria-label={`Output stream of step ${step}`}>
      <h3>
        Stream{' '}
        {!isEnded && (
          <span className="muted stream__live" role="status" aria-label="following live">
            ● live
          </span>
        )}
      </h3>
      {error && <ErrorBanner error={error} />}
      {progress && <ProgressView progress={progress} isOver={isEnded} />}
      {groups.map((g) => (
        <div key={`${g.stream}-${g.attempt}`} className="stream" data-stream={g.stream} data-attempt={g.attempt}>
          <h4 className="stream__title">
            <code>{g.stream}</code>
            {groups.some((o) => o.stream === g.stream && o.attempt !== g.attempt) && (
              <span className="muted"> · attempt {g.attempt}</span>
            )}
          </h4>
          {g.chunks.every((c) => typeof c.data === 'string') ? (
            <pre className="value stream__text">{g.chunks.map((c) => c.data as string).join('')}</pre>
          ) : (
            <ol className="stream__chunks">
              {g.chunks.map((c) => (
                <li key={c.seq}>
                  <pre className="value">{formatValue(c.data)}</pre>
                </li>
              ))}
            </ol>
          )}
        </div>
      ))}
    </section>
  );
}

function ProgressView({ progress, isOver }: { progress: StepProgress; isOver: boolean }) {
  const value = progress.value as { done?: unknown; current?: unknown; total?: unknown } | null;
  const done = typeof value?.done === 'number' ? value.done : value?.current;
  const total = value?.total;
  if (typeof done === 'number' && typeof total === 'number' && total > 0) {
    return (
      <p className="stream__progress">
        <progress value={done} max={total} aria-label="Step progress" /> {done}/{total}
        {isOver && <span className="muted"> (last reported)</span>}
      </p>
    );
  }
  return (
    <p className="stream__progress">
      Progress: <code>{typeof progress.value === 'string' ? progress.value : JSON.stringify(progress.value)}</code>
    </p>
  );
}

function newer(a: StepProgress | undefined, b: StepProgress | undefined): StepProgress | undefined {
  if (!a) return b;
  if (!b) return a;
  return b.at >= a.at ? b : a;
}

interface ChunkGroup {
  stream: string;
  attempt: number;
  chunks: StreamChunk[];
}

/** Chunks by stream, then attempt, in order of first appearance. */
function groupChunks(chunks: readonly StreamChunk[]): ChunkGroup[] {
  const groups = new Map<string, ChunkGroup>();
  for (const chunk of chunks) {
    const key = `${chunk.stream}\u0000${chunk.attempt}`;
    let group = groups.get(key);
    if (!group) {
      group = { stream: chunk.stream, attempt: chunk.attempt, chunks: [] };
      groups.set(key, group);
    }
    group.chunks.push(chunk);
  }
  return [...groups.values()];
}
