'use client';
// The permalink page, rendered from this browser's replica. (The server-rendered version comes with
// the server replica.)
import { useState } from 'react';
import { isEntryId } from '@/lib/core/ids';
import { safeHref } from '@/lib/core/link';
import { useEntry, useNodeState } from '@/lib/client/context';
import { relativeTime, shortKey } from './format';

export function EntryPage({ id }: { id: string }) {
  const state = useNodeState();
  const entry = useEntry(isEntryId(id) ? id : '');
  const [copied, setCopied] = useState(false);
  if (!isEntryId(id)) return <p className="empty">This is not an entry link.</p>;
  if (state.status !== 'ready' || entry === undefined) return <p className="empty">Loading…</p>;
  if (entry === null) return <p className="empty">This entry is not in your replica yet. It will appear here when a peer has it.</p>;
  if (entry.deleted) {
    return (
      <article className="entry-page">
        <h1>Deleted entry</h1>
        <p>The author deleted this entry.</p>
      </article>
    );
  }
  const href = safeHref(entry.url);
  return (
    <article className="entry-page">
      <h1>{entry.title}</h1>
      {entry.description !== '' && <p className="description">{entry.description}</p>}
      <dl>
        <dt>Link</dt>
        <dd>{href !== undefined ? <a href={href} target="_blank" rel="noopener noreferrer nofollow ugc">{entry.url}</a> : entry.url}</dd>
        <dt>Magnet</dt>
        <dd>
          <a href={entry.magnet}>Open in torrent client</a>{' '}
          <button
            type="button"
            onClick={() => {
              void navigator.clipboard.writeText(entry.magnet).then(() => setCopied(true));
            }}
          >
            {copied ? 'Copied' : 'Copy magnet'}
          </button>
        </dd>
        <dt>Infohash</dt>
        <dd>
          <code>{entry.infohash}</code>
        </dd>
        {entry.tags.length > 0 && (
          <>
            <dt>Tags</dt>
            <dd>{entry.tags.map((t) => `#${t}`).join(' ')}</dd>
          </>
        )}
        <dt>Author</dt>
        <dd>
          <code title={entry.author}>{shortKey(entry.author)}</code>
        </dd>
        <dt>Posted</dt>
        <dd>{relativeTime(entry.createdAt, Date.now())}</dd>
      </dl>
    </article>
  );
}
