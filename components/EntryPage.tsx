'use client';
// The permalink's content. The server renders it from its replica (so it works without JavaScript);
// in the browser it then follows the local replica, which may hold a newer version.
import { useEffect, useState } from 'react';
import type { EntryView } from '@/lib/crdt/entry-view';
import { isEntryId } from '@/lib/core/ids';
import { safeHref } from '@/lib/core/link';
import { parseMagnetUri, type ParsedMagnet } from '@/lib/core/magnet';
import { useEntry, useNode, useNodeState } from '@/lib/client/context';
import type { EntryViewDoc } from '@/lib/storage/rxdb-schema';
import { AuthorActions } from './AuthorActions';
import { DeleteEntryDialog } from './DeleteEntryDialog';
import { EntryEditor } from './EntryEditor';
import { formatBytes } from './format';
import { PreviewImage } from './PreviewImage';
import { ReportButton } from './ReportButton';

type Shown = Omit<
  Pick<
    EntryView,
    'id' | 'author' | 'url' | 'host' | 'magnet' | 'infohash' | 'displayName' | 'title' | 'description' | 'tags' | 'siteName' | 'image' | 'createdAt' | 'updatedAt' | 'deleted'
  >,
  'id' | 'author'
> & { id: string; author: string };

/** A fixed, locale-independent time, so server and client render the same text. */
function utc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

const VERSION_NAMES: Record<ParsedMagnet['version'], string> = { v1: 'BitTorrent v1', v2: 'BitTorrent v2', hybrid: 'Hybrid (v1 and v2)' };

/** What the magnet itself says about the torrent: its name, exact size, version, trackers, web seeds. */
function TorrentFacts({ magnet }: { magnet: ParsedMagnet }) {
  return (
    <>
      {magnet.displayName !== undefined && (
        <>
          <dt>Torrent name</dt>
          <dd>{magnet.displayName}</dd>
        </>
      )}
      {magnet.size !== undefined && (
        <>
          <dt>Size</dt>
          <dd>
            <data value={magnet.size} title={`${magnet.size.toLocaleString('en-US')} bytes`}>
              {formatBytes(magnet.size)}
            </data>
          </dd>
        </>
      )}
      <dt>Version</dt>
      <dd>{VERSION_NAMES[magnet.version]}</dd>
      {magnet.trackers.length > 0 && (
        <>
          <dt>Trackers</dt>
          <dd>
            <ul className="plain-list" aria-label="Trackers">
              {magnet.trackers.map((t) => (
                <li key={t}>
                  <code>{t}</code>
                </li>
              ))}
            </ul>
          </dd>
        </>
      )}
      {magnet.webSeeds.length > 0 && (
        <>
          <dt>Web seeds</dt>
          <dd>
            <ul className="plain-list" aria-label="Web seeds">
              {magnet.webSeeds.map((w) => {
                const href = safeHref(w);
                return <li key={w}>{href === undefined ? <code>{w}</code> : <a href={href} rel="nofollow ugc noopener noreferrer">{w}</a>}</li>;
              })}
            </ul>
          </dd>
        </>
      )}
    </>
  );
}

/** Copy link, the system share sheet where the browser has one, and the signed entry for verifiers. */
function ShareActions({ id, title }: { id: string; title: string }) {
  const [copied, setCopied] = useState(false);
  // Known only in the browser: rendered after hydration so the server's HTML matches the first paint.
  const [canShare, setCanShare] = useState(false);
  useEffect(() => setCanShare(typeof navigator.share === 'function'), []);
  const url = () => `${window.location.origin}/e/${id}`;
  return (
    <>
      <button type="button" onClick={() => void navigator.clipboard.writeText(url()).then(() => setCopied(true))}>
        {copied ? 'Link copied' : 'Copy link'}
      </button>
      {canShare && (
        <button type="button" onClick={() => void navigator.share({ title, url: url() }).catch(() => undefined)}>
          Share…
        </button>
      )}
      <a className="button" href={`/api/entries/${id}/signed`} type="application/json">
        Signed entry (JSON)
      </a>
    </>
  );
}

function newest(local: EntryViewDoc | null | undefined, initial: EntryView | undefined): Shown | undefined {
  if (local === null || local === undefined) return initial;
  if (initial === undefined || local.deleted || local.updatedAt >= initial.updatedAt) return local;
  return initial;
}

export function EntryPage({ id, initial }: { id: string; initial?: EntryView }) {
  const state = useNodeState();
  const local = useEntry(isEntryId(id) ? id : '');
  const [copied, setCopied] = useState(false);
  const node = useNode();
  const [editing, setEditing] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [failure, setFailure] = useState<string | undefined>();
  const entry = newest(local, initial);
  if (!isEntryId(id)) return <p className="empty">This is not an entry link.</p>;
  if (entry === undefined) {
    return <p className="empty">{state.status === 'ready' && local === null ? 'This entry is not in your replica yet. It will appear here when a peer has it.' : 'Loading…'}</p>;
  }
  if (entry.deleted) {
    return (
      <article className="entry-page">
        <h1>Deleted entry</h1>
        <p>The author deleted this entry.</p>
      </article>
    );
  }
  // The author edits what their own replica holds (the server's copy may be older).
  const mine = node !== undefined && local !== null && local !== undefined && node.replication.author === entry.author;
  if (editing && mine) {
    return (
      <article className="entry-page">
        <h1>Edit entry</h1>
        <EntryEditor entry={local} onDone={() => setEditing(false)} />
      </article>
    );
  }
  const href = safeHref(entry.url);
  const parsed = parseMagnetUri(entry.magnet);
  return (
    <article className="entry-page">
      {entry.image !== '' && <PreviewImage image={entry.image} label={`Preview image: ${entry.title}`} className="page-image" />}
      {entry.siteName !== '' && <p className="site-name">{entry.siteName}</p>}
      <h1>{entry.title}</h1>
      {entry.description !== '' && <p className="description">{entry.description}</p>}
      <dl>
        <dt>Link</dt>
        <dd>
          {href !== undefined ? (
            <a href={href} target="_blank" rel="noopener noreferrer nofollow ugc">
              {entry.url}
            </a>
          ) : (
            entry.url
          )}
          {entry.host !== '' && (
            <>
              {' · '}
              <a href={`/d/${entry.host}`}>More from {entry.host}</a>
            </>
          )}
        </dd>
        <dt>Magnet</dt>
        <dd className="magnet">
          <code className="magnet-uri">{entry.magnet}</code>
          <span className="actions start">
            <a className="button" href={entry.magnet} rel="nofollow">
              Open in torrent client
            </a>
            <button
              type="button"
              onClick={() => {
                void navigator.clipboard.writeText(entry.magnet).then(() => setCopied(true));
              }}
            >
              {copied ? 'Copied' : 'Copy magnet'}
            </button>
          </span>
        </dd>
        <dt>Infohash</dt>
        <dd>
          <code>{entry.infohash}</code>
        </dd>
        {parsed.ok && <TorrentFacts magnet={parsed.magnet} />}
        {entry.tags.length > 0 && (
          <>
            <dt>Tags</dt>
            <dd>{entry.tags.map((t) => `#${t}`).join(' ')}</dd>
          </>
        )}
        <dt>Author</dt>
        <dd>
          <a href={`/a/${entry.author}`} title={entry.author}>
            <code>{entry.author.slice(0, 16)}</code>
          </a>
        </dd>
        <dt>Posted</dt>
        <dd>
          <time dateTime={new Date(entry.createdAt).toISOString()}>{utc(entry.createdAt)}</time>
        </dd>
        {entry.updatedAt !== entry.createdAt && (
          <>
            <dt>Updated</dt>
            <dd>
              <time dateTime={new Date(entry.updatedAt).toISOString()}>{utc(entry.updatedAt)}</time>
            </dd>
          </>
        )}
      </dl>
      <div className="actions start entry-page-report">
        <ShareActions id={entry.id} title={entry.title} />
        {mine && <AuthorActions onEdit={() => setEditing(true)} onDelete={() => setConfirming(true)} />}
        <ReportButton entryId={entry.id} />
      </div>
      {failure !== undefined && (
        <p className="form-error" role="alert">
          {failure}
        </p>
      )}
      {confirming && <DeleteEntryDialog id={entry.id} title={entry.title} onClose={() => setConfirming(false)} onFailure={setFailure} />}
    </article>
  );
}
