import { type ReactNode, useEffect, useId, useRef, useState } from 'react';

export interface ConfirmRequest {
  title: string;
  body: ReactNode;
  confirmLabel: string;
  isDangerous?: boolean;
  /** Runs on confirm; a thrown error is shown in the dialog, which stays open. */
  action: () => Promise<void>;
}

/**
 * A modal confirmation on the native <dialog>: focus is trapped and Escape closes it, for free.
 * Its accessible name is its title.
 */
export function ConfirmDialog({ request, onClose }: { request: ConfirmRequest | undefined; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const [isBusy, setIsBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (request && !dialog.open) {
      setError(undefined);
      setIsBusy(false);
      dialog.showModal();
    } else if (!request && dialog.open) {
      dialog.close();
    }
  }, [request]);

  const confirm = async () => {
    if (!request) return;
    setIsBusy(true);
    setError(undefined);
    try {
      await request.action();
      onClose();
    } catch (reason) {
      setError(reason instanceof Error ? reason.message : String(reason));
    } finally {
      setIsBusy(false);
    }
  };

  return (
    <dialog ref={ref} className="dialog" aria-labelledby={titleId} onClose={onClose}>
      {request && (
        <form
          method="dialog"
          onSubmit={(event) => {
            event.preventDefault();
            void confirm();
          }}
        >
          <h2 id={titleId}>{request.title}</h2>
          <div className="dialog__body">{request.body}</div>
          {error && (
            <p className="banner banner--error" role="alert">
              {error}
            </p>
          )}
          <div className="dialog__actions">
            <button type="button" onClick={onClose} disabled={isBusy}>
              Go back
            </button>
            <button
              type="submit"
              className={request.isDangerous ? 'button--danger' : 'button--primary'}
              disabled={isBusy}
            >
              {isBusy ? 'Working…' : request.confirmLabel}
            </button>
          </div>
        </form>
      )}
    </dialog>
  );
}
