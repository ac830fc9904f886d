'use client';
// Edit form for one's own entry, inside its card.
import { useState, type FormEvent } from 'react';
import { validateDraft, type EntryDraft, type FieldErrors } from '@/lib/core/entry-fields';
import type { EntryId } from '@/lib/core/ids';
import type { EntryViewDoc } from '@/lib/storage/rxdb-schema';
import { useNode } from '@/lib/client/context';
import { EntryFieldInputs } from './EntryFieldInputs';

export function EntryEditor({ entry, onDone }: { entry: EntryViewDoc; onDone: () => void }) {
  const node = useNode();
  const [draft, setDraft] = useState<EntryDraft>({
    url: entry.url,
    magnet: entry.magnet,
    title: entry.title,
    description: entry.description,
    tags: entry.tags.join(', '),
  });
  const [errors, setErrors] = useState<FieldErrors>({});
  const [failure, setFailure] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (node === undefined || busy) return;
    const checked = validateDraft(draft);
    if (!checked.ok) {
      setErrors(checked.errors);
      return;
    }
    setBusy(true);
    try {
      await node.replication.edit(entry.id as EntryId, checked.fields);
      onDone();
    } catch (err) {
      setFailure(`Could not save: ${err instanceof Error ? err.message : String(err)}`);
      setBusy(false);
    }
  };

  return (
    <form className="edit-form" aria-label="Edit entry" onSubmit={save} noValidate>
      <EntryFieldInputs draft={draft} errors={errors} onChange={(name, value) => setDraft((d) => ({ ...d, [name]: value }))} />
      {failure !== undefined && (
        <p className="form-error" role="alert">
          {failure}
        </p>
      )}
      <div className="actions">
        <button type="button" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={busy}>
          Save
        </button>
      </div>
    </form>
  );
}
