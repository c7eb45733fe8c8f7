import type { SerializedError } from '../api/types.js';
import { formatValue } from '../format.js';

function isSerializedError(value: unknown): value is SerializedError {
  return typeof value === 'object' && value !== null && typeof (value as SerializedError).message === 'string';
}

/** An error as the engine stored it: name, code, message, stack and the chain of causes. */
export function ErrorView({ error }: { error: SerializedError }) {
  return (
    <div className="error-view">
      <p className="error-view__message">
        <strong>{error.name || 'Error'}</strong>
        {error.code && <code className="chip">{error.code}</code>}
        <span>{error.message}</span>
      </p>
      {error.stack && (
        <details>
          <summary>Stack trace</summary>
          <pre className="value value--stack">{error.stack}</pre>
        </details>
      )}
      {error.cause !== undefined && error.cause !== null && (
        <div className="error-view__cause">
          <span className="muted">Caused by</span>
          {isSerializedError(error.cause) ? (
            <ErrorView error={error.cause} />
          ) : (
            <pre className="value">{formatValue(error.cause)}</pre>
          )}
        </div>
      )}
    </div>
  );
}
