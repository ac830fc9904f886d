'use client';
// One entry in the feed. Everything from the entry renders as text (React escapes it); the link is
// re-checked as http(s) before it becomes an href.
import Link from 'next/link';
import { useMemo, useState } from 'react';
import type { EntryViewDoc } from '@/lib/storage/rxdb-schema';
import { safeHref } from '@/lib/core/link';
import { parseMagnetUri } from '@/lib/core/magnet';
import { useNode } from '@/lib/client/context';
import { AuthorActions } from './AuthorActions';
import { DeleteEntryDialog } from './DeleteEntryDialog';
import { EntryEditor } from './EntryEditor';
import { PreviewImage } from './PreviewImage';
import { MuteMenu, type OnMute } from './MuteMenu';
import { ReportButton } from './ReportButton';
import { formatBytes, relativeTime, shortKey } from './format';

export function EntryCard({ entry, now, onTag, onMute }: { entry: EntryViewDoc; now: number; onTag: (tag: string) => void; onMute?: OnMute }) {
  const node = useNode();
  const [editing, setEditing] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [copied, setCopied] = useState(false);
  const [failure, setFailure] = useState<string | undefined>();
  const mine = node !== undefined && node.replication.author === entry.author;
  const href = safeHref(entry.url);
  const size = useMemo(() => {
    const m = parseMagnetUri(entry.magnet);
    return m.ok ? m.magnet.size : undefined;
  }, [entry.magnet]);
  const headingId = `entry-${entry.id}-title`;

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(entry.magnet);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      setFailure('Copying is not allowed here; select the magnet link instead.');
    }
  };

  if (editing && node !== undefined) {
    return (
      <article className="card editing" aria-labelledby={headingId}>
        <h2 id={headingId} className="visually-hidden">
          Editing {entry.title}
        </h2>
        <EntryEditor entry={entry} onDone={() => setEditing(false)} />
      </article>
    );
  }

  return (
    <article className={entry.image !== '' ? 'card with-image' : 'card'} aria-labelledby={headingId}>
      {entry.image !== '' && <PreviewImage image={entry.image} label={`Preview image: ${entry.title}`} className="card-image" />}
      <h2 id={headingId} className="card-title">
        <Link href={`/e/${entry.id}`}>{entry.title}</Link>
      </h2>
      <p className="card-meta">
        {entry.siteName !== '' && (
          <>
            <span className="site-name">{entry.siteName}</span>
            <span className="sep" aria-hidden="true">·</span>
          </>
        )}
        {href !== undefined ? (
          <a className="host" href={href} target="_blank" rel="noopener noreferrer nofollow ugc">
            {entry.host}
          </a>
        ) : (
          <span className="host">{entry.host}</span>
        )}
        <span className="sep" aria-hidden="true">·</span>
        <span className="torrent" title={entry.infohash}>
          {entry.displayName !== '' ? entry.displayName : entry.infohash}
        </span>
        {size !== undefined && (
          <>
            <span className="sep" aria-hidden="true">·</span>
            <data className="size" value={size}>
              {formatBytes(size)}
            </data>
          </>
        )}
      </p>
      {entry.description !== '' && <p className="card-description">{entry.description}</p>}
      {entry.tags.length > 0 && (
        <ul className="tags" aria-label="Tags">
          {entry.tags.map((t) => (
            <li key={t}>
              <button type="button" className="tag" onClick={() => onTag(t)}>
                #{t}
              </button>
            </li>
          ))}
        </ul>
      )}
      <footer className="card-footer">
        <time dateTime={new Date(entry.createdAt).toISOString()} suppressHydrationWarning>
          {relativeTime(entry.createdAt, now)}
        </time>
        <span className="author" title={entry.author}>
          by{' '}
          <Link href={`/a/${entry.author}`} className="author-link" aria-label={`Entries by ${shortKey(entry.author)}`}>
            <code>{shortKey(entry.author)}</code>
          </Link>
          {mine && ' (you)'}
        </span>
        <span className="actions">
          <button type="button" onClick={copy}>
            {copied ? 'Copied' : 'Copy magnet'}
          </button>
          {mine && <AuthorActions onEdit={() => setEditing(true)} onDelete={() => setConfirming(true)} />}
          {!entry.deleted && <ReportButton entryId={entry.id} />}
          {!entry.deleted && onMute !== undefined && <MuteMenu author={entry.author} host={entry.host} tags={entry.tags} mine={mine} onMute={onMute} />}
        </span>
      </footer>
      {failure !== undefined && (
        <p className="form-error" role="alert">
          {failure}
        </p>
      )}
      {confirming && <DeleteEntryDialog id={entry.id} title={entry.title} onClose={() => setConfirming(false)} onFailure={setFailure} />}
    </article>
  );
}
