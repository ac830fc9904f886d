'use client';
// "Delete entry?" for an author's own entry, on its card and its permalink: deleting is for everyone
// and cannot be undone, so it is confirmed first.
import type { EntryId } from '@/lib/core/ids';
import { useNode } from '@/lib/client/context';
import { ConfirmDialog } from './ConfirmDialog';

export function DeleteEntryDialog({ id, title, onClose, onFailure }: { id: string; title: string; onClose: () => void; onFailure: (message: string) => void }) {
  const node = useNode();
  if (node === undefined) return null;
  return (
    <ConfirmDialog
      title="Delete entry?"
      message={`“${title}” will be deleted for everyone. This cannot be undone.`}
      confirmLabel="Delete"
      onCancel={onClose}
      onConfirm={() => {
        onClose();
        node.replication.remove(id as EntryId).catch((err: unknown) => onFailure(`Could not delete: ${String(err)}`));
      }}
    />
  );
}
