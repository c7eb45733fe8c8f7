import { useEffect } from 'react';
import { useRoute } from './hooks/useRoute.js';
import { DebouncesPage } from './pages/DebouncesPage.js';
import { LimitsPage } from './pages/LimitsPage.js';
import { RateLimitsPage } from './pages/RateLimitsPage.js';
import { RunDiffPage } from './pages/RunDiffPage.js';
import { RunPage } from './pages/RunPage.js';
import { RunsPage } from './pages/RunsPage.js';
import { SchedulesPage } from './pages/SchedulesPage.js';

export function App() {
  const route = useRoute();
  const pageKey =
    route.name === 'run'
      ? `run:${route.runId}`
      : route.name === 'diff'
        ? `diff:${route.runId}:${route.otherId}`
        : route.name;
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new page starts at its top
  useEffect(() => {
    window.scrollTo(0, 0);
  }, [pageKey]);

  return (
    <>
      <header className="topbar">
        <a className="topbar__brand" href="#/">
          Braid
        </a>
        <nav aria-label="Main">
          <a href="#/" aria-current={route.name === 'runs' ? 'page' : undefined}>
            Runs
          </a>
          <a href="#/schedules" aria-current={route.name === 'schedules' ? 'page' : undefined}>
            Schedules
          </a>
          <a href="#/rate-limits" aria-current={route.name === 'rateLimits' ? 'page' : undefined}>
            Rate limits
          </a>
          <a href="#/debounces" aria-current={route.name === 'debounces' ? 'page' : undefined}>
            Debounces
          </a>
          <a href="#/limits" aria-current={route.name === 'limits' ? 'page' : undefined}>
            Limits
          </a>
        </nav>
      </header>
      <main className="main">
        {route.name === 'runs' && <RunsPage query={route.query} />}
        {route.name === 'run' && (
          <RunPage key={route.runId} runId={route.runId} initialStep={route.query.get('step') ?? undefined} />
        )}
        {route.name === 'diff' && (
          <RunDiffPage key={`${route.runId}:${route.otherId}`} runId={route.runId} otherId={route.otherId} />
        )}
        {route.name === 'schedules' && <SchedulesPage />}
        {route.name === 'rateLimits' && <RateLimitsPage />}
        {route.name === 'debounces' && <DebouncesPage />}
        {route.name === 'limits' && <LimitsPage />}
        {route.name === 'notFound' && (
          <>
            <h1>Page not found</h1>
            <p>
              Nothing lives at <code>{route.path}</code>. <a href="#/">See the runs</a>.
            </p>
          </>
        )}
      </main>
    </>
  );
}
