'use client';
// The "New entry" form: validates on submit, shows each problem next to its field, keeps what was
// typed, and publishes only valid entries. A pasted link is unfurled by the instance after a short
// pause (or on "Fetch preview"): the suggestion fills the fields that are still empty and offers the
// rest, and every part can be edited or removed before publishing.
import { useEffect, useRef, useState, type CSSProperties, type FormEvent } from 'react';
import { validateDraft, type EntryDraft, type FieldErrors } from '@/lib/core/entry-fields';
import { fromBase64 } from '@/lib/core/bytes';
import { parseLink } from '@/lib/core/link';
import { parseMagnetUri } from '@/lib/core/magnet';
import { formatImageRef } from '@/lib/core/preview-image';
import Link from 'next/link';
import { useEntryWithInfohash, useNode } from '@/lib/client/context';
import { EntryFieldInputs, emptyDraft } from './EntryFieldInputs';
import { chosenFromBytes, PreviewImageInput, type ChosenImage } from './PreviewImageInput';

/** How long typing in the Link field pauses before the preview is fetched on its own. */
const AUTO_FETCH_MS = 700;

interface Suggestion {
  url: string;
  title?: string;
  description?: string;
  siteName?: string;
  image?: ChosenImage;
  imageError?: string;
}

type SuggestState =
  | { status: 'idle' }
  | { status: 'loading'; url: string }
  | { status: 'error'; message: string }
  | { status: 'done'; suggestion: Suggestion };

type TextPart = 'title' | 'description' | 'siteName';
const PART_LABEL: Record<TextPart, string> = { title: 'title', description: 'description', siteName: 'site name' };

async function requestPreview(url: string, signal: AbortSignal): Promise<Suggestion> {
  const res = await fetch(`/api/unfurl?url=${encodeURIComponent(url)}`, { signal, headers: { accept: 'application/json' } });
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) throw new Error(typeof body.error === 'string' ? body.error : `The preview could not be fetched (${res.status}).`);
  const text = (k: string) => (typeof body[k] === 'string' && (body[k] as string).trim() !== '' ? (body[k] as string) : undefined);
  const suggestion: Suggestion = { url: text('url') ?? url, title: text('title'), description: text('description'), siteName: text('siteName') };
  const image = body.image as { data?: unknown } | undefined;
  if (image !== undefined && typeof image.data === 'string') {
    try {
      suggestion.image = chosenFromBytes(fromBase64(image.data), 'suggested');
    } catch (err) {
      suggestion.imageError = err instanceof Error ? err.message : 'The suggested image could not be used.';
    }
  } else if (typeof body.imageError === 'string') {
    suggestion.imageError = body.imageError;
  }
  return suggestion;
}

export function PostForm() {
  const node = useNode();
  const [draft, setDraft] = useState<EntryDraft>(emptyDraft);
  const [image, setImage] = useState<ChosenImage | undefined>();
  const [errors, setErrors] = useState<FieldErrors>({});
  const [busy, setBusy] = useState(false);
  /** How far the new entry's proof of work has come (chance found so far), while it is searched. */
  const [work, setWork] = useState<number | undefined>();
  const [failure, setFailure] = useState<string | undefined>();
  const [suggest, setSuggest] = useState<SuggestState>({ status: 'idle' });
  const fetched = useRef<string | undefined>(undefined);
  const inflight = useRef<AbortController | undefined>(undefined);

  const fetchPreview = async (raw: string) => {
    const link = parseLink(raw);
    if (!link.ok) {
      setSuggest({ status: 'error', message: link.error });
      return;
    }
    inflight.current?.abort();
    const controller = new AbortController();
    inflight.current = controller;
    fetched.current = link.url;
    setSuggest({ status: 'loading', url: link.url });
    try {
      const suggestion = await requestPreview(link.url, controller.signal);
      if (controller.signal.aborted) return;
      // Fill what is still empty; what the person typed stays, with the suggestion offered beside it.
      setDraft((d) => ({
        ...d,
        title: d.title.trim() === '' && suggestion.title !== undefined ? suggestion.title : d.title,
        description: d.description.trim() === '' && suggestion.description !== undefined ? suggestion.description : d.description,
        siteName: (d.siteName ?? '').trim() === '' && suggestion.siteName !== undefined ? suggestion.siteName : d.siteName,
      }));
      setImage((current) => current ?? suggestion.image);
      setSuggest({ status: 'done', suggestion });
    } catch (err) {
      if (controller.signal.aborted) return;
      setSuggest({ status: 'error', message: err instanceof Error ? err.message : String(err) });
    }
  };

  useEffect(() => {
    const link = parseLink(draft.url);
    if (!link.ok || link.url === fetched.current) return;
    const timer = setTimeout(() => void fetchPreview(draft.url), AUTO_FETCH_MS);
    return () => clearTimeout(timer);
    // fetchPreview reads only refs and setters.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [draft.url]);

  useEffect(() => () => inflight.current?.abort(), []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (node === undefined || busy) return;
    const checked = validateDraft({ ...draft, image: '' });
    if (!checked.ok) {
      setErrors(checked.errors);
      return;
    }
    setErrors({});
    setFailure(undefined);
    setBusy(true);
    try {
      const ref = image?.kind === 'new' ? await node.replication.storeImage(image.bytes) : undefined;
      await node.replication.create({ ...checked.fields, image: ref === undefined ? '' : formatImageRef(ref) }, { onProgress: setWork });
      setDraft(emptyDraft);
      setImage(undefined);
      // A preview still being fetched is for the link just published: its answer (or its failure,
      // shown as an alert) must not land in the emptied form.
      inflight.current?.abort();
      inflight.current = undefined;
      setSuggest({ status: 'idle' });
      fetched.current = undefined;
    } catch (err) {
      setFailure(`Could not publish: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      setBusy(false);
      setWork(undefined);
    }
  };

  const suggestion = suggest.status === 'done' ? suggest.suggestion : undefined;
  const offers = (['title', 'description', 'siteName'] as TextPart[]).filter((k) => {
    const v = suggestion?.[k];
    return v !== undefined && v !== (draft[k] ?? '');
  });

  const parsedMagnet = parseMagnetUri(draft.magnet ?? '');
  const duplicate = useEntryWithInfohash(parsedMagnet.ok ? parsedMagnet.magnet.infohash : undefined);

  return (
    <form className="post-form" aria-label="New entry" onSubmit={submit} noValidate>
      <h2 className="form-title">Share a link</h2>
      <EntryFieldInputs
        draft={draft}
        errors={errors}
        onChange={(name, value) => {
          setDraft((d) => ({ ...d, [name]: value }));
          if (errors[name] !== undefined) setErrors((x) => ({ ...x, [name]: undefined }));
        }}
        afterLink={
          <div className="unfurl">
            <button type="button" onClick={() => void fetchPreview(draft.url)} disabled={suggest.status === 'loading' || draft.url.trim() === ''}>
              Fetch preview
            </button>
            <span role="status" className="unfurl-status">
              {suggest.status === 'loading' && 'Fetching preview…'}
              {suggest.status === 'done' && 'Preview suggested: check the fields below.'}
            </span>
            {suggest.status === 'error' && (
              <p className="field-error" role="alert">
                No preview: {suggest.message}
              </p>
            )}
          </div>
        }
        afterMagnet={
          // A warning, not a rule: the same torrent may rightly be posted for another link.
          <p className="notice duplicate-notice" role="status">
            {duplicate !== undefined && (
              <>
                Already posted: <Link href={`/e/${duplicate.id}`}>{duplicate.title}</Link>. You can still publish it again.
              </>
            )}
          </p>
        }
      />
      <PreviewImageInput chosen={image} onChange={setImage} title={draft.title} />
      {suggestion !== undefined && (offers.length > 0 || (suggestion.image !== undefined && image !== suggestion.image) || suggestion.imageError !== undefined) && (
        <section className="suggestion" aria-label="Suggested preview">
          <p className="hint">Also suggested for this link:</p>
          <ul>
            {offers.map((k) => (
              <li key={k}>
                <span className="suggested-value">{suggestion[k]}</span>{' '}
                <button type="button" onClick={() => setDraft((d) => ({ ...d, [k]: suggestion[k] ?? '' }))}>
                  Use suggested {PART_LABEL[k]}
                </button>
              </li>
            ))}
            {suggestion.image !== undefined && image !== suggestion.image && (
              <li>
                <button type="button" onClick={() => setImage(suggestion.image)}>
                  Use suggested image
                </button>
              </li>
            )}
            {suggestion.imageError !== undefined && <li className="hint">No image: {suggestion.imageError}</li>}
          </ul>
        </section>
      )}
      {failure !== undefined && (
        <p className="form-error" role="alert">
          {failure}
        </p>
      )}
      <button
        type="submit"
        className="primary publish"
        disabled={node === undefined || busy}
        style={work === undefined ? undefined : ({ '--work': `${Math.round(work * 100)}%` } as CSSProperties)}
      >
        {busy ? (work === undefined ? 'Publishing…' : `Publishing… ${Math.round(work * 100)}%`) : 'Publish'}
      </button>
      {busy && work !== undefined && (
        <p className="hint" role="status">
          Proving this post is not spam: your browser does a moment of work that every peer can check.
        </p>
      )}
    </form>
  );
}
