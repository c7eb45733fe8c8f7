import { type FormEvent, useEffect, useId, useRef, useState } from 'react';
import { api } from '../api/client.js';
import type { WorkflowShape } from '../api/types.js';
import { hrefs, navigate } from '../hooks/useRoute.js';

/** Starts a run of a registered workflow with a JSON input, then opens its page. */
export function StartRunDialog(props: { isOpen: boolean; workflows: readonly WorkflowShape[]; onClose: () => void }) {
  const { isOpen, workflows, onClose } = props;
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const [workflow, setWorkflow] = useState('');
  const [inputText, setInputText] = useState('{}');
  const [priorityText, setPriorityText] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const [isBusy, setIsBusy] = useState(false);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (isOpen && !dialog.open) {
      setError(undefined);
      dialog.showModal();
    } else if (!isOpen && dialog.open) dialog.close();
  }, [isOpen]);

  const chosen = workflow || workflows[0]?.name || '';
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    let input: unknown;
    try {
      input = JSON.parse(inputText);
    } catch (reason) {
      setError(`The input is not JSON: ${reason instanceof Error ? reason.message : String(reason)}`);
      return;
    }
    const priority = priorityText.trim() === '' ? undefined : Number(priorityText.trim());
    if (priority !== undefined && !(Number.isInteger(priority) && priority >= -100 && priority <= 100)) {
      setError('The priority must be a whole number from -100 to 100 (higher goes first), or empty for the default.');
      return;
    }
    setIsBusy(true);
    setError(undefined);
    try {
      const { runId } = await api.startRun(chosen, input, priority);
      onClose();
      navigate(hrefs.run(runId));
    } catch (reason) {
      setError(reason instanceof Error ? reason.message : String(reason));
    } finally {
      setIsBusy(false);
    }
  };

  const description = workflows.find((w) => w.name === chosen)?.description;
  return (
    <dialog ref={ref} className="dialog" aria-labelledby={titleId} onClose={onClose}>
      <form onSubmit={submit}>
        <h2 id={titleId}>Start a run</h2>
        <label className="field">
          <span>Workflow</span>
          <select value={chosen} onChange={(e) => setWorkflow(e.target.value)} required>
            {workflows.map((w) => (
              <option key={w.name} value={w.name}>
                {w.name}
              </option>
            ))}
          </select>
        </label>
        {description && <p className="muted">{description}</p>}
        <label className="field">
          <span>Input (JSON)</span>
          <textarea value={inputText} onChange={(e) => setInputText(e.target.value)} rows={8} spellCheck={false} />
        </label>
        <label className="field">
          <span>Priority</span>
          <input
            type="text"
            inputMode="numeric"
            value={priorityText}
            onChange={(e) => setPriorityText(e.target.value)}
            placeholder="the workflow's default (-100 to 100, higher first)"
          />
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
          <button type="submit" className="button--primary" disabled={isBusy || !chosen}>
            {isBusy ? 'Starting…' : 'Start run'}
          </button>
        </div>
      </form>
    </dialog>
  );
}
