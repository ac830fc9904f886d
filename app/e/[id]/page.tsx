// The permalink: rendered on the server from the server replica (works without JavaScript and unfurls
// in chat apps), then kept live in the browser from the local replica.
import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { EntryPage } from '@/components/EntryPage';
import { isEntryId } from '@/lib/core/ids';
import type { EntryView } from '@/lib/crdt/entry-view';
import { publicBaseUrl } from '@/lib/server/public-url';
import { getServerRuntime } from '@/lib/server/runtime';

type Params = { params: Promise<{ id: string }> };

function lookup(id: string): { view: EntryView | undefined; hasReplica: boolean } {
  const replica = getServerRuntime()?.replica;
  return { view: isEntryId(id) && replica !== undefined ? replica.getView(id) : undefined, hasReplica: replica !== undefined };
}

function summary(view: EntryView): string {
  const text = view.description !== '' ? view.description : `${view.displayName || view.infohash} · ${view.host}`;
  return text.length > 200 ? `${text.slice(0, 197)}…` : text;
}

export async function generateMetadata({ params }: Params): Promise<Metadata> {
  const { id } = await params;
  const { view } = lookup(id);
  if (view === undefined) return { title: 'Not found · Lodestone' };
  if (view.deleted) return { title: 'Deleted entry · Lodestone', robots: { index: false } };
  const url = `${await publicBaseUrl()}/e/${view.id}`;
  const description = summary(view);
  return {
    title: `${view.title} · Lodestone`,
    description,
    alternates: { canonical: url },
    openGraph: { title: view.title, description, url, type: 'article', siteName: 'Lodestone' },
    twitter: { card: 'summary', title: view.title, description },
  };
}

/** JSON-LD describing the entry; `<` is escaped so no text can close the script element. */
function jsonLd(view: EntryView, url: string): string {
  return JSON.stringify({
    '@context': 'https://schema.org',
    '@type': 'CreativeWork',
    name: view.title,
    description: view.description || undefined,
    url,
    sameAs: view.url,
    keywords: view.tags.join(', ') || undefined,
    dateCreated: new Date(view.createdAt).toISOString(),
    dateModified: new Date(view.updatedAt).toISOString(),
    author: { '@type': 'Person', identifier: view.author },
  }).replace(/</g, '\\u003c');
}

export default async function Page({ params }: Params) {
  const { id } = await params;
  const { view, hasReplica } = lookup(id);
  if (!isEntryId(id) || (hasReplica && view === undefined)) notFound();
  const url = view === undefined ? undefined : `${await publicBaseUrl()}/e/${view.id}`;
  return (
    <>
      {view !== undefined && !view.deleted && url !== undefined && (
        <script type="application/ld+json" dangerouslySetInnerHTML={{ __html: jsonLd(view, url) }} />
      )}
      <EntryPage id={id} initial={view} />
    </>
  );
}
