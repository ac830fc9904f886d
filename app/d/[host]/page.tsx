// A linked site's page: every entry whose link is on one host, newest first, then live.
import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { ScopedPage } from '@/components/ScopedPage';
import { scopeMetadata, scopeParam } from '@/lib/server/scope-metadata';
import { getServerRuntime } from '@/lib/server/runtime';
import { toViewDoc } from '@/lib/storage/view-doc';

type Params = { params: Promise<{ host: string }> };

const HOST = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/;

const hostOf = async (params: Params['params']) => scopeParam((await params).host, (s) => HOST.test(s));

export async function generateMetadata({ params }: Params): Promise<Metadata> {
  const host = await hostOf(params);
  if (host === undefined) return { title: 'Not found · Lodestone' };
  return scopeMetadata(host, `Links to ${host} and their magnets, newest first.`, `/d/${host}`, `host=${encodeURIComponent(host)}`);
}

export default async function SitePage({ params }: Params) {
  const host = await hostOf(params);
  if (host === undefined) notFound();
  const initial = (getServerRuntime()?.replica?.list({ host, limit: 50 }).entries ?? []).map(toViewDoc);
  return <ScopedPage kind="Site" heading={host} scope={{ host }} feedUrl={`/feed.xml?host=${encodeURIComponent(host)}`} initial={initial} />;
}
