// Served with status 410 (by the proxy) for a deleted entry's permalink: nothing of its content.
import type { Metadata } from 'next';
import Link from 'next/link';

export const metadata: Metadata = { title: 'Deleted entry · Lodestone', robots: { index: false } };

export default function Gone() {
  return (
    <article className="entry-page">
      <h1>Deleted entry</h1>
      <p>The author deleted this entry. Its content is no longer served.</p>
      <p>
        <Link href="/">Back to the feed</Link>
      </p>
    </article>
  );
}
