// robots.txt: pages and feeds are for everyone; the API, images and moderation answers are not pages.
import type { MetadataRoute } from 'next';
import { publicBaseUrl } from '@/lib/server/public-url';

export const dynamic = 'force-dynamic';

export default async function robots(): Promise<MetadataRoute.Robots> {
  const base = await publicBaseUrl();
  return {
    rules: { userAgent: '*', allow: '/', disallow: ['/api/', '/blobs/', '/gone', '/unavailable'] },
    sitemap: `${base}/sitemap.xml`,
  };
}
