import Link from 'next/link';

export default function NotFound() {
  return (
    <article className="entry-page">
      <h1>Not found</h1>
      <p>There is no entry at this address on this instance.</p>
      <p>
        <Link href="/">Back to the feed</Link>
      </p>
    </article>
  );
}
