'use client';
// Edit and Delete, shown to an entry's author only (on its card and its permalink).
export function AuthorActions({ onEdit, onDelete }: { onEdit: () => void; onDelete: () => void }) {
  return (
    <>
      <button type="button" onClick={onEdit}>
        Edit
      </button>
      <button type="button" className="danger" onClick={onDelete}>
        Delete
      </button>
    </>
  );
}
