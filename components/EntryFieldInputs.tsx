'use client';
// The five entry inputs with their labels and per-field error messages, shared by the post form and
// the edit form.
import { useId } from 'react';
import type { EntryDraft, FieldErrors } from '@/lib/core/entry-fields';
import { LIMITS } from '@/lib/core/limits';

const FIELDS: Array<{ name: keyof EntryDraft; label: string; type: 'url' | 'text' | 'textarea'; placeholder: string; hint?: string }> = [
  { name: 'url', label: 'Link', type: 'url', placeholder: 'https://example.org/page' },
  { name: 'magnet', label: 'Magnet URI', type: 'text', placeholder: 'magnet:?xt=urn:btih:…' },
  { name: 'title', label: 'Title', type: 'text', placeholder: 'What is it?' },
  { name: 'description', label: 'Description', type: 'textarea', placeholder: 'Optional' },
  { name: 'tags', label: 'Tags', type: 'text', placeholder: 'video, open-source', hint: 'comma-separated' },
];

const draftKeyToError: Record<keyof EntryDraft, keyof FieldErrors> = {
  url: 'url',
  magnet: 'magnet',
  title: 'title',
  description: 'description',
  tags: 'tags',
};

export function EntryFieldInputs({
  draft,
  errors,
  onChange,
}: {
  draft: EntryDraft;
  errors: FieldErrors;
  onChange: (name: keyof EntryDraft, value: string) => void;
}) {
  const base = useId();
  return (
    <>
      {FIELDS.map((f) => {
        const id = `${base}-${f.name}`;
        const error = errors[draftKeyToError[f.name]];
        const common = {
          id,
          name: f.name,
          value: draft[f.name],
          placeholder: f.placeholder,
          'aria-invalid': error !== undefined,
          'aria-describedby': [error !== undefined ? `${id}-error` : '', f.hint !== undefined ? `${id}-hint` : ''].filter(Boolean).join(' ') || undefined,
          onChange: (e: { target: { value: string } }) => onChange(f.name, e.target.value),
        };
        return (
          <div className={`field field-${f.name}`} key={f.name}>
            <div className="field-label">
              <label htmlFor={id}>{f.label}</label>
              {f.hint !== undefined && (
                <span className="hint" id={`${id}-hint`}>
                  {f.hint}
                </span>
              )}
            </div>
            {f.type === 'textarea' ? (
              <textarea {...common} rows={3} maxLength={LIMITS.descriptionChars * 2} />
            ) : (
              <input {...common} type={f.type === 'url' ? 'text' : 'text'} inputMode={f.type === 'url' ? 'url' : undefined} autoComplete="off" spellCheck={f.name === 'title' || f.name === 'description'} />
            )}
            {error !== undefined && (
              <p className="field-error" role="alert" id={`${id}-error`}>
                {error}
              </p>
            )}
          </div>
        );
      })}
    </>
  );
}

export const emptyDraft: EntryDraft = { url: '', magnet: '', title: '', description: '', tags: '' };
