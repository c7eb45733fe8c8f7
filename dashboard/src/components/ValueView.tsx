import { useState } from 'react';
import { formatValue } from '../format.js';

const PREVIEW_CHARS = 20_000;

/**
 * A payload (input, output, globals) as text. React escapes it, so markup in a step's output is
 * shown, never run. Very large payloads are cut to a preview the reader can expand.
 */
export function ValueView({ value }: { value: unknown }) {
  const [isExpanded, setIsExpanded] = useState(false);
  if (value === null || value === undefined) return <p className="muted">none</p>;
  const text = formatValue(value);
  const isLong = text.length > PREVIEW_CHARS;
  return (
    <>
      <pre className="value">{isLong && !isExpanded ? `${text.slice(0, PREVIEW_CHARS)}\n…` : text}</pre>
      {isLong && (
        <button type="button" className="link-button" onClick={() => setIsExpanded(!isExpanded)}>
          {isExpanded ? 'Show less' : `Show all ${text.length.toLocaleString()} characters`}
        </button>
      )}
    </>
  );
}
