import { type FormEvent, useEffect, useId, useRef, useState } from 'react';
import { api } from '../api/client.js';
import { hrefs, navigate } from '../hooks/useRoute.js';

/**
 * "Fork from here": a new run from one step of an ended run, with an input edited as JSON
 * (prefilled with the run's). The steps before it keep their outputs; the new run's page opens.
 */
export function ForkDialog(props: { runId: string; step: string | undefined; input: unknown; onClose: () => void }) {
  const { runId, step, input, onClose } = props;
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const [inputText, setInputText] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const [isBusy, setIsBusy] = useState(false);
  const isOpen = step !== undefined;

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (isOpen && !dialog.open) {
      setError(undefined);
      setInputText(JSON.stringify(input ?? null, null, 2));
      dialog.showModal();
    } else if (!isOpen && dialog.open) dialog.close();
  }, [isOpen, input]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (step === undefined) return;
    let edited: unknown;
    try {
      edited = JSON.parse(inputText);
    } catch (reason) {
      setError(`The input is not JSON: ${reason instanceof Error ? reason.message : String(reason)}`);
      return;
    }
    setIsBusy(true);
    setError(undefined);
    try {
      const fork = await api.forkRun(runId, { from: step, input: edited });
      onClose();
      navigate(hrefs.run(fork.runId));
    } catch (reason) {
      setError(reason instanceof Error ? reason.message : String(reason));
    } finally {
      setIsBusy(false);
    }
  };

  return (
    <dialog ref={ref} className="dialog" aria-labelledby={titleId} onClose={onClose}>
      <form onSubmit={submit}>
        <h2 id={titleId}>
          Fork from step <code>{step}</code>
        </h2>
        <p className="muted">
          A new run: the steps before <code>{step}</code> keep this run's outputs; <code>{step}</code> and every step
          after it run again with the input below.
        </p>
        <label className="field">
          <span>Input (JSON)</span>
          <textarea value={inputText} onChange={(e) => setInputText(e.target.value)} rows={10} spellCheck={false} />
        </label>
        {error && (
          <p className="banner banner--error" role="alert">
            {error}
          </p>
        )}
        <div className="dialog__actions">
          <button type="button" onClick={onClose} disabled={isBusy}>
            Go back
          </button>
          <button type="submit" className="button--primary" disabled={isBusy}>
            {isBusy ? 'Forking…' : 'Fork run'}
          </button>
        </div>
      </form>
    </dialog>
  );
}
