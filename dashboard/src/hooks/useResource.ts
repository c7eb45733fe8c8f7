import { useEffect, useRef, useState } from 'react';

export interface Resource<T> {
  data: T | undefined;
  /** The key `data` was loaded for: while it differs from the current key, `data` is the previous one. */
  dataKey: string | undefined;
  error: Error | undefined;
  isLoading: boolean;
  /** Loads again now (or right after the load in flight). */
  reload: () => void;
  /**
   * Loads again soon: at most one load per `minIntervalMs`, never two at once. Live events call
   * this, so a burst of thousands of events costs a handful of requests, not thousands.
   */
  scheduleReload: () => void;
}

interface LoaderCallbacks<T> {
  load: (signal: AbortSignal) => Promise<T>;
  onData: (data: T, key: string) => void;
  onError: (error: Error) => void;
  onBusy: (isBusy: boolean) => void;
}

/** One load at a time, reloads coalesced and spaced `minIntervalMs` apart, stale answers dropped. */
class ThrottledLoader<T> {
  callbacks: LoaderCallbacks<T> | undefined;
  private generation = 0;
  private isRunning = false;
  private isWanted = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private startedAt = 0;
  private abort: AbortController | undefined;
  private key = '';

  constructor(private readonly minIntervalMs: number) {}

  restart(key: string): void {
    this.stop();
    this.key = key;
    this.run();
  }

  stop(): void {
    this.generation++;
    this.abort?.abort();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.isRunning = false;
    this.isWanted = false;
    this.startedAt = 0;
  }

  run = (): void => {
    const callbacks = this.callbacks;
    if (!callbacks) return;
    if (this.isRunning) {
      this.isWanted = true;
      return;
    }
    this.isRunning = true;
    this.startedAt = Date.now();
    const generation = this.generation;
    const key = this.key;
    const abort = new AbortController();
    this.abort = abort;
    callbacks.onBusy(true);
    const isCurrent = () => generation === this.generation;
    callbacks
      .load(abort.signal)
      .then(
        (data) => isCurrent() && this.callbacks?.onData(data, key),
        (reason: unknown) =>
          isCurrent() && this.callbacks?.onError(reason instanceof Error ? reason : new Error(String(reason))),
      )
      .finally(() => {
        if (!isCurrent()) return;
        this.isRunning = false;
        this.callbacks?.onBusy(false);
        if (this.isWanted) {
          this.isWanted = false;
          this.schedule();
        }
      });
  };

  schedule = (): void => {
    if (this.isRunning) {
      this.isWanted = true;
      return;
    }
    if (this.timer !== undefined) return;
    const waitMs = Math.max(0, this.startedAt + this.minIntervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.run();
    }, waitMs);
  };
}

/**
 * Data from the API for one `key` (for example a run id plus its filters): loaded when the key
 * changes, then reloaded on demand. Answers for an older key are dropped, so a slow response can
 * never overwrite a newer one. The previous data stays on screen while the next key loads.
 */
export function useResource<T>(
  key: string,
  load: (signal: AbortSignal) => Promise<T>,
  minIntervalMs = 500,
): Resource<T> {
  const [loaded, setLoaded] = useState<{ data: T; key: string } | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const [isLoading, setIsLoading] = useState(true);
  const loaderRef = useRef<ThrottledLoader<T> | undefined>(undefined);
  loaderRef.current ??= new ThrottledLoader<T>(minIntervalMs);
  const loader = loaderRef.current;
  loader.callbacks = {
    load,
    onData: (value, loadedKey) => {
      setLoaded({ data: value, key: loadedKey });
      setError(undefined);
    },
    onError: setError,
    onBusy: setIsLoading,
  };

  useEffect(() => {
    loader.restart(key);
    return () => loader.stop();
  }, [key, loader]);

  return {
    data: loaded?.data,
    dataKey: loaded?.key,
    error,
    isLoading,
    reload: loader.run,
    scheduleReload: loader.schedule,
  };
}
