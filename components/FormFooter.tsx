// The end of a form that can be cancelled: its error, if any, announced as an alert, then Cancel and
// the primary submit button. One place so that every such form reads and behaves alike.
export function FormFooter({ error, onCancel, submit, busy }: { error: string | undefined; onCancel: () => void; submit: string; busy: boolean }) {
  return (
    <>
      {error !== undefined && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={busy} aria-busy={busy}>
          {submit}
        </button>
      </div>
    </>
  );
}
