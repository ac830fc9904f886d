// A tag's page: its newest entries from the server replica (without JavaScript too), then live.
import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { ScopedPage } from '@/components/ScopedPage';
import { scopeMetadata } from '@/lib/server/scope-metadata';
import { getServerRuntime } from '@/lib/server/runtime';
import { toViewDoc } from '@/lib/storage/view-doc';

type Params = { params: Promise<{ tag: string }> };

const TAG = /^[\p{L}\p{N}][\p{L}\p{N}_.+-]{0,31}$/u;

async function tagOf(params: Params['params']): Promise<string | undefined> {
  const raw = decodeURIComponent((await params).tag).toLowerCase();
  return TAG.test(raw) ? raw : undefined;
}

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
