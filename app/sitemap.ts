// sitemap.xml: the front page and the permalink of every live entry that is not taken down, newest
// first, at most 50,000 URLs (the sitemap protocol's limit for one file).
import type { MetadataRoute } from 'next';
import { publicBaseUrl } from '@/lib/server/public-url';
import { getServerRuntime } from '@/lib/server/runtime';

export const dynamic = 'force-dynamic';

const MAX_URLS = 50_000;

export default async function sitemap(): Promise<MetadataRoute.Sitemap> {
  const base = await publicBaseUrl();
  const out: MetadataRoute.Sitemap = [{ url: `${base}/`, changeFrequency: 'always' }];
  const replica = getServerRuntime()?.replica;
  let cursor: string | undefined;
  while (replica !== undefined && out.length < MAX_URLS) {
    const page = replica.list({ limit: 100, cursor });
    for (const e of page.entries) out.push({ url: `${base}/e/${e.id}`, lastModified: new Date(e.updatedAt) });
    if (page.nextCursor === undefined) break;
    cursor = page.nextCursor;
  }
  return out.slice(0, MAX_URLS);
}
