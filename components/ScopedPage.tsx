// The head of a tag, author or site page (server-rendered): what the page is about, how many entries
// this instance holds, and its feed, then the live feed scoped to it.
import Link from 'next/link';
import type { EntryViewDoc } from '@/lib/storage/rxdb-schema';
import { Feed, type FeedScope } from './Feed';

export function ScopedPage({ kind, heading, scope, feedUrl, initial }: { kind: string; heading: string; scope: FeedScope; feedUrl: string; initial: EntryViewDoc[] }) {
  return (
    <div className="scoped-page">
      <header className="scope-header">
        <p className="scope-kind">{kind}</p>
        <h1>{heading}</h1>
        <p className="scope-links">
          <Link href="/">All entries</Link>
          <span aria-hidden="true"> · </span>
          <a href={feedUrl} type="application/rss+xml">
            RSS feed
          </a>
        </p>
      </header>
      <Feed initial={initial} scope={scope} />
    </div>
  );
}
