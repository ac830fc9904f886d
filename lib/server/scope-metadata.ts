// What tag, author and site pages share: reading their path parameter, and their metadata (title,
// canonical URL, Open Graph, and the page's RSS feed).
import type { Metadata } from 'next';
import { publicBaseUrl } from './public-url';

/**
 * A page's path parameter, percent-decoded and lower-cased, when `valid` accepts it; undefined for
 * anything else, a malformed escape included (the page answers 404, not 500).
 */
export function scopeParam(raw: string, valid: (s: string) => boolean): string | undefined {
  let s: string;
  try {
    s = decodeURIComponent(raw).toLowerCase();
  } catch {
    return undefined;
  }
  return valid(s) ? s : undefined;
}

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
