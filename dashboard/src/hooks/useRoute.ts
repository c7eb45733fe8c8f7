import { useMemo, useSyncExternalStore } from 'react';

/**
 * A hash router: `#/` is the runs list (filters in its query), `#/runs/<id>` a run. The hash keeps
 * every route on the one index.html, so the build works at any path with relative asset URLs.
 */
export type Route =
  | { name: 'runs'; query: URLSearchParams }
  | { name: 'run'; runId: string; query: URLSearchParams }
  | { name: 'diff'; runId: string; otherId: string }
  | { name: 'schedules' }
  | { name: 'rateLimits' }
  | { name: 'debounces' }
  | { name: 'limits' }
  | { name: 'notFound'; path: string };

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/';
  const [path = '/', search = ''] = raw.split('?', 2);
  const query = new URLSearchParams(search);
  if (path === '/' || path === '/runs') return { name: 'runs', query };
  if (path === '/schedules') return { name: 'schedules' };
  if (path === '/rate-limits') return { name: 'rateLimits' };
  if (path === '/debounces') return { name: 'debounces' };
  if (path === '/limits') return { name: 'limits' };
  const match = /^\/runs\/([^/]+)$/.exec(path);
  if (match?.[1]) return { name: 'run', runId: decodeURIComponent(match[1]), query };
  const diff = /^\/runs\/([^/]+)\/diff\/([^/]+)$/.exec(path);
  if (diff?.[1] && diff[2])
    return { name: 'diff', runId: decodeURIComponent(diff[1]), otherId: decodeURIComponent(diff[2]) };
  return { name: 'notFound', path };
}

/** Fired by `navigate` at once; the browser's `hashchange` comes a task later. */
const NAVIGATED = 'braid:navigated';

function subscribe(onChange: () => void): () => void {
  window.addEventListener('hashchange', onChange);
  window.addEventListener(NAVIGATED, onChange);
  return () => {
    window.removeEventListener('hashchange', onChange);
    window.removeEventListener(NAVIGATED, onChange);
  };
}

export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribe, () => window.location.hash);
  return useMemo(() => parseHash(hash), [hash]);
}

export const hrefs = {
  schedules: () => '#/schedules',
  runs: (query?: URLSearchParams) => {
    const search = query?.toString();
    return search ? `#/?${search}` : '#/';
  },
  /** Two runs' step outputs side by side (a fork and the run it came from). */
  diff: (runId: string, otherId: string) => `#/runs/${encodeURIComponent(runId)}/diff/${encodeURIComponent(otherId)}`,
  run: (runId: string, step?: string | null) =>
    `#/runs/${encodeURIComponent(runId)}${step ? `?${new URLSearchParams({ step })}` : ''}`,
};

/**
 * Goes to `href` and re-renders in the same event: a filter control that navigates (its state
 * lives in the URL) must not flick back to its old value while `hashchange` is on its way.
 */
export function navigate(href: string): void {
  window.location.hash = href.replace(/^#/, '');
  window.dispatchEvent(new Event(NAVIGATED));
}
