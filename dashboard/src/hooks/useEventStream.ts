import { useEffect, useRef, useState } from 'react';
import { followEvents, type StreamState } from '../api/eventStream.js';
import type { BraidEvent } from '../api/types.js';

/**
 * Follows /api/events (all runs, or one run and its descendants) while the component is mounted.
 * `onOpen` runs on every (re)connection so the page can reload what it may have missed.
 */
export function useEventStream(
  runId: string | undefined,
  onEvent: (event: BraidEvent) => void,
  onOpen: () => void,
): StreamState {
  const [streamState, setStreamState] = useState<StreamState>('connecting');
  const handlers = useRef({ onEvent, onOpen });
  handlers.current = { onEvent, onOpen };

  useEffect(() => {
    const abort = new AbortController();
    void followEvents({
      runId,
      signal: abort.signal,
      onEvent: (event) => handlers.current.onEvent(event),
      onOpen: () => handlers.current.onOpen(),
      onState: (state) => {
        if (!abort.signal.aborted) setStreamState(state);
      },
    });
    return () => abort.abort();
  }, [runId]);

  return streamState;
}
