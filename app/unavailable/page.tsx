// Served with status 451 (by server.ts) for the permalink of an entry this instance takes down: nothing
// of its content, and a word on why.
import type { Metadata } from 'next';
import Link from 'next/link';

export const metadata: Metadata = { title: 'Unavailable · Lodestone', robots: { index: false } };

export default function Unavailable() {
  return (
    <article className="entry-page">
      <h1>Unavailable on this instance</h1>
      <p>This entry was taken down by the operator of this instance, and its content is not served here.</p>
      <p>
        <Link href="/">Back to the feed</Link>
      </p>
    </article>
  );
}
