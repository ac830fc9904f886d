// A tag's page: its newest entries from the server replica (without JavaScript too), then live.
import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { ScopedPage } from '@/components/ScopedPage';
import { isTag } from '@/lib/core/entry-fields';
import { scopeMetadata, scopeParam } from '@/lib/server/scope-metadata';
import { getServerRuntime } from '@/lib/server/runtime';
import { toViewDoc } from '@/lib/storage/view-doc';

type Params = { params: Promise<{ tag: string }> };

const tagOf = async (params: Params['params']) => scopeParam((await params).tag, isTag);

export async function generateMetadata({ params }: Params): Promise<Metadata> {
  const tag = await tagOf(params);
  if (tag === undefined) return { title: 'Not found · Lodestone' };
  return scopeMetadata(`#${tag}`, `Links and magnets tagged #${tag}, newest first.`, `/t/${encodeURIComponent(tag)}`, `tag=${encodeURIComponent(tag)}`);
}

export default async function TagPage({ params }: Params) {
  const tag = await tagOf(params);
  if (tag === undefined) notFound();
  const initial = (getServerRuntime()?.replica?.list({ tag, limit: 50 }).entries ?? []).map(toViewDoc);
  return <ScopedPage kind="Tag" heading={`#${tag}`} scope={{ tag }} feedUrl={`/feed.xml?tag=${encodeURIComponent(tag)}`} initial={initial} />;
}
