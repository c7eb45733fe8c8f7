import { useEffect, useState } from 'react';
import { limitsApi } from '../api/limits.js';
import type { MaxRunsView, PoolView } from '../api/types.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { useResource } from '../hooks/useResource.js';

/** How often the page reads the usage again: runs and steps come and go without events for it. */
const REFRESH_MS = 1000;

/** Every workflow's maxRuns and every pool, with usage, and a form to change each at run time. */
export function LimitsPage() {
  const limits = useResource('limits', (signal) => limitsApi.list(signal));
  const { scheduleReload } = limits;
  useEffect(() => {
    const timer = setInterval(scheduleReload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [scheduleReload]);
  const maxRuns = limits.data?.maxRuns ?? [];
  const pools = limits.data?.pools ?? [];
  return (
    <>
      <div className="page-header">
        <h1>Concurrency limits</h1>
      </div>
      {limits.error && <ErrorBanner error={limits.error} />}
      <h2>Runs per concurrency key (maxRuns)</h2>
      {!limits.isLoading && maxRuns.length === 0 && <p>No workflow of this server sets maxRuns.</p>}
      <div className="table-scroll">
        <table aria-label="Run limits">
          <thead>
            <tr>
              <th>Workflow</th>
              <th>maxRuns</th>
              <th>Over it</th>
              <th>Keys with runs</th>
              <th>Change</th>
            </tr>
          </thead>
          <tbody>
            {maxRuns.map((view) => (
              <MaxRunsRow key={view.workflow} view={view} onChanged={limits.reload} />
            ))}
          </tbody>
        </table>
      </div>
      <h2>Resource pools</h2>
      {!limits.isLoading && pools.length === 0 && <p>This server declares no pool.</p>}
      <div className="table-scroll">
        <table aria-label="Pools">
          <thead>
            <tr>
              <th>Pool</th>
              <th>Size</th>
              <th>Busy</th>
              <th>Waiting</th>
              <th>Change</th>
            </tr>
          </thead>
          <tbody>
            {pools.map((view) => (
              <PoolRow key={view.pool} view={view} onChanged={limits.reload} />
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

function MaxRunsRow({ view, onChanged }: { view: MaxRunsView; onChanged: () => void }) {
  return (
    <tr>
      <td className="mono">{view.workflow}</td>
      <td>
        {view.maxRuns}
        <SettingNote setting={view.setting} defined={view.defined} />
      </td>
      <td>{view.onConcurrencyLimit === 'queue' ? 'queued' : view.onConcurrencyLimit}</td>
      <td>
        {view.keys.length === 0 ? (
          <span className="muted">none</span>
        ) : (
          <ul aria-label={`Keys of ${view.workflow}`}>
            {view.keys.map((k) => (
              <li key={k.key}>
                <span className="mono">{k.key || '(all)'}</span>: {k.active} of {view.maxRuns} active, {k.queued} queued
              </li>
            ))}
          </ul>
        )}
      </td>
      <td>
        <ChangeForm
          label={`Change ${view.workflow}`}
          field="maxRuns"
          value={view.maxRuns}
          isSet={view.setting !== null}
          save={(n) => limitsApi.setMaxRuns(view.workflow, n)}
          reset={() => limitsApi.resetMaxRuns(view.workflow)}
          onChanged={onChanged}
        />
      </td>
    </tr>
  );
}

function PoolRow({ view, onChanged }: { view: PoolView; onChanged: () => void }) {
  return (
    <tr>
      <td className="mono">{view.pool}</td>
      <td>
        {view.size}
        <SettingNote setting={view.setting} defined={view.defined} />
      </td>
      <td>
        {view.busy} of {view.size}
      </td>
      <td>{view.waiting}</td>
      <td>
        <ChangeForm
          label={`Change pool ${view.pool}`}
          field="Size"
          value={view.size}
          isSet={view.setting !== null}
          save={(n) => limitsApi.setPoolSize(view.pool, n)}
          reset={() => limitsApi.resetPoolSize(view.pool)}
          onChanged={onChanged}
        />
      </td>
    </tr>
  );
}

function SettingNote({ setting, defined }: { setting: { value: number } | null; defined: number }) {
  if (!setting) return null;
  return <span className="muted"> (set at run time; defined {defined})</span>;
}

function ChangeForm(props: {
  label: string;
  field: string;
  value: number;
  isSet: boolean;
  save: (n: number) => Promise<unknown>;
  reset: () => Promise<unknown>;
  onChanged: () => void;
}) {
  const [value, setValue] = useState(String(props.value));
  const [error, setError] = useState<Error | undefined>(undefined);
  const act = async (action: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await action();
      props.onChanged();
    } catch (e) {
      setError(e as Error);
    }
  };
  return (
    <form
      aria-label={props.label}
      onSubmit={(e) => {
        e.preventDefault();
        void act(() => props.save(Number(value)));
      }}
    >
      <label className="field field--inline">
        {props.field}
        <input value={value} onChange={(e) => setValue(e.target.value)} inputMode="numeric" size={5} />
      </label>
      <button type="submit">Save</button>
      {props.isSet && (
        <button type="button" onClick={() => void act(props.reset)}>
          Reset
        </button>
      )}
      {error && <ErrorBanner error={error} />}
    </form>
  );
}
