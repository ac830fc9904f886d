'use client';
// "Report" on a card or a permalink: a small modal form (a native <dialog>, so focus handling and
// Escape come from the browser, as in ConfirmDialog) that sends POST /api/reports. Reports go to
// the operator of this instance only (`npm run moderate -- reports`); nothing of them is shown publicly.
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { FormFooter } from './FormFooter';

/**
 * The reasons the server accepts, with their labels. Kept in step with REPORT_REASONS in
 * lib/server/report-service.ts (LABEL_VALUES plus "other"); that module is Node-side (it imports
 * rate-limiter-flexible), so a client component must not import it.
 */
const REASONS = [
  { value: 'spam', label: 'Spam' },
  { value: 'illegal', label: 'Illegal content' },
  { value: 'nsfw', label: 'Adult content (nsfw)' },
  { value: 'misleading', label: 'Misleading' },
  { value: 'other', label: 'Other' },
] as const;
type Reason = (typeof REASONS)[number]['value'];

/** REPORT_NOTE_CHARS in lib/server/report-service.ts. */
const NOTE_CHARS = 500;

const THANKS = 'Thanks — the operator of this instance will see your report.';

export function ReportButton({ entryId, className }: { entryId: string; className?: string }) {
  const [open, setOpen] = useState(false);
  const [thanks, setThanks] = useState('');
  const trigger = useRef<HTMLButtonElement>(null);
  const wasOpen = useRef(false);

  // Focus goes back to "Report" once the dialog is gone, however it closed.
  useEffect(() => {
    if (wasOpen.current && !open) trigger.current?.focus();
    wasOpen.current = open;
  }, [open]);

  return (
    <span className={className === undefined ? 'report' : `report ${className}`}>
      <button
        ref={trigger}
        type="button"
        aria-haspopup="dialog"
        onClick={() => {
          setThanks('');
          setOpen(true);
        }}
      >
        Report
      </button>
      <span className="report-status" role="status">
        {thanks}
      </span>
      {open && (
        <ReportDialog
          entryId={entryId}
          onClose={() => setOpen(false)}
          onSent={() => {
            setThanks(THANKS);
            setOpen(false);
          }}
        />
      )}
    </span>
  );
}

function ReportDialog({ entryId, onClose, onSent }: { entryId: string; onClose: () => void; onSent: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const noteId = useId();
  const hintId = useId();
  const [reason, setReason] = useState<Reason | ''>('');
  const [note, setNote] = useState('');
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const live = useRef(true);

  useEffect(() => {
    const dialog = ref.current;
    if (dialog !== null && !dialog.open) dialog.showModal();
    live.current = true;
    return () => {
      live.current = false;
    };
  }, []);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (sending) return;
    if (reason === '') {
      setError('Choose a reason.');
      return;
    }
    setSending(true);
    setError(undefined);
    let message: string | undefined;
    try {
      const res = await fetch('/api/reports', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ entryId, reason, note: note.trim() }),
        signal: AbortSignal.timeout(20_000),
      });
      if (res.status === 201) {
        onSent();
        return;
      }
      const body = (await res.json().catch(() => ({}))) as { error?: unknown };
      message = typeof body.error === 'string' && body.error !== '' ? body.error : `The report was not accepted (HTTP ${res.status}).`;
    } catch (err) {
      message = `Could not send the report: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (!live.current) return;
    setError(message);
    setSending(false);
  };

  return (
    <dialog ref={ref} aria-labelledby={titleId} aria-describedby={hintId} className="confirm report-dialog" onCancel={onClose}>
      <h2 id={titleId}>Report this entry</h2>
      <p id={hintId} className="hint">
        Only the operator of this instance sees reports.
      </p>
      <form onSubmit={submit} noValidate>
        <fieldset className="report-reasons" disabled={sending}>
          <legend>Reason</legend>
          {REASONS.map((r) => (
            <label key={r.value}>
              <input
                type="radio"
                name="reason"
                value={r.value}
                checked={reason === r.value}
                required
                onChange={() => {
                  setReason(r.value);
                  setError(undefined);
                }}
              />{' '}
              {r.label}
            </label>
          ))}
        </fieldset>
        <div className="field">
          <label htmlFor={noteId}>Note for the operator (optional)</label>
          <textarea id={noteId} rows={3} maxLength={NOTE_CHARS} value={note} disabled={sending} onChange={(e) => setNote(e.target.value)} />
        </div>
        <FormFooter error={error} onCancel={onClose} submit="Send report" busy={sending} />
      </form>
    </dialog>
  );
}
