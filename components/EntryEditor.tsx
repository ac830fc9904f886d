'use client';
// Edit form for one's own entry, inside its card.
import { useState, type FormEvent } from 'react';
import { validateDraft, type EntryDraft, type EntryFields, type FieldErrors } from '@/lib/core/entry-fields';
import type { EntryId } from '@/lib/core/ids';
import type { EntryViewDoc } from '@/lib/storage/rxdb-schema';
import { useNode } from '@/lib/client/context';
import { formatImageRef } from '@/lib/core/preview-image';
import { EntryFieldInputs } from './EntryFieldInputs';
import { FormFooter } from './FormFooter';
import { PreviewImageInput, type ChosenImage } from './PreviewImageInput';

export function EntryEditor({ entry, onDone }: { entry: EntryViewDoc; onDone: () => void }) {
  const node = useNode();
  // What the entry held when editing began: only fields changed from it are written.
  const [initial] = useState(() => ({
    url: entry.url,
    magnet: entry.magnet,
    title: entry.title,
    description: entry.description,
    tags: entry.tags,
    siteName: entry.siteName,
    image: entry.image,
  }));
  const [draft, setDraft] = useState<EntryDraft>({ ...initial, tags: initial.tags.join(', ') });
  const [image, setImage] = useState<ChosenImage | undefined>(initial.image === '' ? undefined : { kind: 'existing', image: initial.image });
  const [errors, setErrors] = useState<FieldErrors>({});
  const [failure, setFailure] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (node === undefined || busy) return;
    const checked = validateDraft({ ...draft, image: '' });
    if (!checked.ok) {
      setErrors(checked.errors);
      return;
    }
    setBusy(true);
    try {
      const f = checked.fields;
      const patch: Partial<EntryFields> = {};
      if (f.url !== initial.url) patch.url = f.url;
      if (f.magnet !== initial.magnet) patch.magnet = f.magnet;
      if (f.title !== initial.title) patch.title = f.title;
      if (f.description !== initial.description) patch.description = f.description;
      if (f.tags.join(',') !== initial.tags.join(',')) patch.tags = f.tags;
      if ((f.siteName ?? '') !== initial.siteName) patch.siteName = f.siteName ?? '';
      const nextImage =
        image === undefined ? '' : image.kind === 'existing' ? image.image : formatImageRef(await node.replication.storeImage(image.bytes));
      if (nextImage !== initial.image) patch.image = nextImage;
      if (Object.keys(patch).length > 0) await node.replication.edit(entry.id as EntryId, patch);
      onDone();
    } catch (err) {
      setFailure(`Could not save: ${err instanceof Error ? err.message : String(err)}`);
      setBusy(false);
    }
  };

  return (
    <form className="edit-form" aria-label="Edit entry" onSubmit={save} noValidate>
      <EntryFieldInputs draft={draft} errors={errors} onChange={(name, value) => setDraft((d) => ({ ...d, [name]: value }))} />
      <PreviewImageInput chosen={image} onChange={setImage} title={draft.title} />
      <FormFooter error={failure} onCancel={onDone} submit="Save" busy={busy} />
    </form>
  );
}
