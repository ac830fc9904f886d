import { getServerRuntime } from '@/lib/server/runtime';

export const dynamic = 'force-dynamic';

/**
 * GET /blobs/<sha256> — a preview image of a live entry. Content-addressed, so it never changes:
 * cacheable for a year. Anything else (unknown, or the image of a deleted entry) is 404.
 */
export async function GET(request: Request, { params }: { params: Promise<{ hash: string }> }) {
  const { hash } = await params;
  const images = getServerRuntime()?.images;
  const blob = /^[0-9a-f]{64}$/.test(hash) ? images?.get(hash) : undefined;
  if (blob === undefined) return new Response('Not found', { status: 404, headers: { 'Cache-Control': 'no-store' } });
  const etag = `"${hash}"`;
  const headers = {
    'Content-Type': blob.type,
    'Cache-Control': 'public, max-age=31536000, immutable',
    ETag: etag,
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "default-src 'none'; sandbox",
    // Chat apps and other sites fetch og:image from elsewhere.
    'Cross-Origin-Resource-Policy': 'cross-origin',
  };
  if (request.headers.get('if-none-match') === etag) return new Response(null, { status: 304, headers });
  return new Response(new Uint8Array(blob.bytes), { headers: { ...headers, 'Content-Length': String(blob.bytes.length) } });
}
