// The permalink: rendered on the server from the server replica (works without JavaScript and unfurls
// in chat apps), then kept live in the browser from the local replica.
import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { EntryPage } from '@/components/EntryPage';
import { isEntryId } from '@/lib/core/ids';
import { parseImageRef } from '@/lib/core/preview-image';
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
  const base = await publicBaseUrl();
  const url = `${base}/e/${view.id}`;
  const description = summary(view);
  // The image is the instance's own copy of the blob: chat apps fetch it from here, never from the
  // site the entry links to.
  const ref = view.image === '' ? undefined : parseImageRef(view.image);
  const image = ref === undefined ? undefined : { url: `${base}/blobs/${ref.hash}`, width: ref.width, height: ref.height, type: ref.type, alt: view.title };
  return {
    title: `${view.title} · Lodestone`,
    description,
    alternates: { canonical: url },
    openGraph: {
      title: view.title,
      description,
      url,
      type: 'article',
      siteName: view.siteName !== '' ? view.siteName : 'Lodestone',
      images: image === undefined ? undefined : [image],
    },
    twitter: {
      card: image === undefined ? 'summary' : 'summary_large_image',
      title: view.title,
      description,
      images: image === undefined ? undefined : [{ url: image.url, alt: image.alt }],
    },
  };
}

/** JSON-LD describing the entry; `<` is escaped so no text can close the script element. */
function jsonLd(view: EntryView, url: string, base: string): string {
  const ref = view.image === '' ? undefined : parseImageRef(view.image);
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
    image: ref === undefined ? undefined : `${base}/blobs/${ref.hash}`,
  }).replace(/</g, '\\u003c');
}

export default async function Page({ params }: Params) {
  const { id } = await params;
  const { view, hasReplica } = lookup(id);
  if (!isEntryId(id) || (hasReplica && view === undefined)) notFound();
  const base = await publicBaseUrl();
  const url = view === undefined ? undefined : `${base}/e/${view.id}`;
  return (
    <>
      {view !== undefined && !view.deleted && url !== undefined && (
        <script type="application/ld+json" dangerouslySetInnerHTML={{ __html: jsonLd(view, url, base) }} />
      )}
      <EntryPage id={id} initial={view} />
    </>
  );
}
