'use client';
// The "Preview image" control of the post and edit forms: pick a file (resized and re-encoded here, in
// the browser, before anything is kept), see the result, or remove it.
import { useId, useRef, useState } from 'react';
import { inspectImageBlob, type ImageRef } from '@/lib/core/preview-image';
import { ImageUploadError, prepareUploadImage } from '@/lib/client/image-upload';
import { localImageUrl } from '@/lib/client/preview-images';
import { PreviewImage } from './PreviewImage';

/** An image chosen for an entry: new bytes (picked or suggested), or the one the entry already names. */
export type ChosenImage =
  | { kind: 'new'; bytes: Uint8Array; ref: ImageRef; url: string; source: 'upload' | 'suggested' }
  | { kind: 'existing'; image: string };

export function chosenFromBytes(bytes: Uint8Array, source: 'upload' | 'suggested'): ChosenImage {
  const checked = inspectImageBlob(bytes);
  if (!checked.ok) throw new ImageUploadError(checked.message);
  return { kind: 'new', bytes, ref: checked.ref, url: localImageUrl(bytes, checked.ref.type), source };
}

export function PreviewImageInput({
  chosen,
  onChange,
  title,
}: {
  chosen: ChosenImage | undefined;
  onChange: (next: ChosenImage | undefined) => void;
  title: string;
}) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const pick = async (file: File | undefined) => {
    if (file === undefined) return;
    setError(undefined);
    setBusy(true);
    try {
      onChange(chosenFromBytes(await prepareUploadImage(file), 'upload'));
    } catch (err) {
      setError(err instanceof ImageUploadError ? err.message : 'The image could not be used.');
    } finally {
      setBusy(false);
      if (input.current !== null) input.current.value = '';
    }
  };

  const label = `Preview image: ${title.trim() === '' ? 'new entry' : title.trim()}`;
  return (
    <div className="field field-image">
      <div className="field-label">
        <label htmlFor={id}>Preview image</label>
        <span className="hint" id={`${id}-hint`}>
          resized to 1200 px and 64 KB in your browser
        </span>
      </div>
      <div className="image-picker">
        {chosen?.kind === 'new' && (
          // eslint-disable-next-line @next/next/no-img-element -- a local object URL
          <img className="preview-image thumb" src={chosen.url} alt={label} width={chosen.ref.width} height={chosen.ref.height} data-source={chosen.source} />
        )}
        {chosen?.kind === 'existing' && <PreviewImage image={chosen.image} label={label} className="thumb" />}
        <div className="image-picker-controls">
          <input
            ref={input}
            id={id}
            type="file"
            accept="image/jpeg,image/png,image/webp,image/gif,image/avif"
            aria-describedby={[`${id}-hint`, error !== undefined ? `${id}-error` : ''].filter(Boolean).join(' ')}
            aria-invalid={error !== undefined}
            disabled={busy}
            onChange={(e) => void pick(e.target.files?.[0])}
          />
          {busy && (
            <p className="hint" role="status">
              Resizing…
            </p>
          )}
          {chosen !== undefined && (
            <p className="image-facts">
              {chosen.kind === 'new' && (
                <span>
                  {chosen.ref.width}×{chosen.ref.height}, {Math.ceil(chosen.ref.size / 1024)} KB{chosen.source === 'suggested' ? ', suggested from the link' : ''}
                </span>
              )}{' '}
              <button type="button" onClick={() => onChange(undefined)}>
                Remove image
              </button>
            </p>
          )}
        </div>
      </div>
      {error !== undefined && (
        <p className="field-error" role="alert" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}
