'use client';
// The entry's text inputs with their labels and per-field error messages, shared by the post form and
// the edit form. (The preview image has its own control, PreviewImageInput.)
import { useId, type ReactNode } from 'react';
import type { EntryDraft, FieldErrors } from '@/lib/core/entry-fields';
import { LIMITS } from '@/lib/core/limits';

type TextField = Exclude<keyof EntryDraft, 'image'>;

const FIELDS: Array<{ name: TextField; label: string; type: 'url' | 'text' | 'textarea'; placeholder: string; hint?: string }> = [
  { name: 'url', label: 'Link', type: 'url', placeholder: 'https://example.org/page' },
  { name: 'magnet', label: 'Magnet URI', type: 'text', placeholder: 'magnet:?xt=urn:btih:…' },
  { name: 'title', label: 'Title', type: 'text', placeholder: 'What is it?' },
  { name: 'description', label: 'Description', type: 'textarea', placeholder: 'Optional' },
  { name: 'tags', label: 'Tags', type: 'text', placeholder: 'video, open-source', hint: 'comma-separated' },
  { name: 'siteName', label: 'Site name', type: 'text', placeholder: 'Optional', hint: 'shown with the preview' },
];

export function EntryFieldInputs({
  draft,
  errors,
  onChange,
  afterLink,
  afterMagnet,
}: {
  draft: EntryDraft;
  errors: FieldErrors;
  onChange: (name: TextField, value: string) => void;
  /** Rendered right after the Link input (the post form's "Fetch preview"). */
  afterLink?: ReactNode;
  /** Rendered right after the Magnet input (the post form's "already posted" notice). */
  afterMagnet?: ReactNode;
}) {
  const base = useId();
  return (
    <>
      {FIELDS.map((f) => {
        const id = `${base}-${f.name}`;
        const error = errors[f.name];
        const common = {
          id,
          name: f.name,
          value: draft[f.name] ?? '',
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
              <input
                {...common}
                type="text"
                inputMode={f.type === 'url' ? 'url' : undefined}
                autoComplete="off"
                spellCheck={f.name === 'title' || f.name === 'description'}
                maxLength={f.name === 'siteName' ? LIMITS.siteNameChars * 2 : undefined}
              />
            )}
            {error !== undefined && (
              <p className="field-error" role="alert" id={`${id}-error`}>
                {error}
              </p>
            )}
            {f.name === 'url' && afterLink}
            {f.name === 'magnet' && afterMagnet}
          </div>
        );
      })}
    </>
  );
}

export const emptyDraft: EntryDraft = { url: '', magnet: '', title: '', description: '', tags: '', siteName: '', image: '' };
