// An author's page: every entry signed by one key, newest first, from the server replica, then live.
import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { ScopedPage } from '@/components/ScopedPage';
import { isAuthorKey } from '@/lib/core/ids';
import { scopeMetadata } from '@/lib/server/scope-metadata';
import { getServerRuntime } from '@/lib/server/runtime';
import { toViewDoc } from '@/lib/storage/view-doc';

type Params = { params: Promise<{ author: string }> };

const short = (key: string) => `${key.slice(0, 8)}…${key.slice(-4)}`;

export async function generateMetadata({ params }: Params): Promise<Metadata> {
  const { author } = await params;
  if (!isAuthorKey(author)) return { title: 'Not found · Lodestone' };
  return scopeMetadata(`Author ${short(author)}`, `Links and magnets signed by ${author}, newest first.`, `/a/${author}`, `author=${author}`);
}

export default async function AuthorPage({ params }: Params) {
  const { author } = await params;
  if (!isAuthorKey(author)) notFound();
  const initial = (getServerRuntime()?.replica?.list({ author, limit: 50 }).entries ?? []).map(toViewDoc);
  return <ScopedPage kind="Author" heading={short(author)} scope={{ author }} feedUrl={`/feed.xml?author=${author}`} initial={initial} />;
}
