// Metadata of a tag, author or site page: title, canonical URL, Open Graph, and its RSS feed.
import type { Metadata } from 'next';
import { publicBaseUrl } from './public-url';

export async function scopeMetadata(title: string, description: string, path: string, feedQuery: string): Promise<Metadata> {
  const base = await publicBaseUrl();
  const url = `${base}${path}`;
  return {
    title: `${title} · Lodestone`,
    description,
    alternates: { canonical: url, types: { 'application/rss+xml': [{ url: `${base}/feed.xml?${feedQuery}`, title: `Lodestone: ${title}` }] } },
    openGraph: { type: 'website', url, title: `${title} · Lodestone`, description, siteName: 'Lodestone' },
  };
}
