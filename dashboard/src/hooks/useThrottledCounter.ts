import { useCallback, useEffect, useRef, useState } from 'react';

/**
 * A number that `bump()` increases at most once per `intervalMs` (at once when it has been quiet
 * that long): a burst of events becomes one re-render, however many events there were.
 */
export function useThrottledCounter(intervalMs: number): [number, () => void] {
  const [count, setCount] = useState(0);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const lastBumpAt = useRef(0);
  const bump = useCallback(() => {
    if (timer.current !== undefined) return;
    const waitMs = Math.max(0, lastBumpAt.current + intervalMs - Date.now());
    timer.current = setTimeout(() => {
      timer.current = undefined;
      lastBumpAt.current = Date.now();
      setCount((n) => n + 1);
    }, waitMs);
  }, [intervalMs]);
  useEffect(
    () => () => {
      if (timer.current !== undefined) clearTimeout(timer.current);
    },
    [],
  );
  return [count, bump];
}
