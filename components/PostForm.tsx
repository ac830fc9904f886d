'use client';
// The "New entry" form: validates on submit, shows each problem next to its field, keeps what was
// typed, and publishes only valid entries.
import { useState, type FormEvent } from 'react';
import { validateDraft, type EntryDraft, type FieldErrors } from '@/lib/core/entry-fields';
import { useNode } from '@/lib/client/context';
import { EntryFieldInputs, emptyDraft } from './EntryFieldInputs';

export function PostForm() {
  const node = useNode();
  const [draft, setDraft] = useState<EntryDraft>(emptyDraft);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | undefined>();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (node === undefined || busy) return;
    const checked = validateDraft(draft);
    if (!checked.ok) {
      setErrors(checked.errors);
      return;
    }
    setErrors({});
    setFailure(undefined);
    setBusy(true);
    try {
      await node.replication.create(checked.fields);
      setDraft(emptyDraft);
    } catch (err) {
      setFailure(`Could not publish: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="post-form" aria-label="New entry" onSubmit={submit} noValidate>
      <h2 className="form-title">Share a link</h2>
      <EntryFieldInputs
        draft={draft}
        errors={errors}
        onChange={(name, value) => {
          setDraft((d) => ({ ...d, [name]: value }));
          if (errors[name === 'url' ? 'url' : name] !== undefined) setErrors((x) => ({ ...x, [name]: undefined }));
        }}
      />
      {failure !== undefined && (
        <p className="form-error" role="alert">
          {failure}
        </p>
      )}
      <button type="submit" className="primary" disabled={node === undefined || busy}>
        Publish
      </button>
    </form>
  );
}
