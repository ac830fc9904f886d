import { CLIENT_ADDRESS_HEADER, getServerRuntime } from '@/lib/server/runtime';

export const dynamic = 'force-dynamic';

/** GET /api/unfurl?url= — a suggested title, description, site name and image for a link. */
export async function GET(request: Request) {
  const service = getServerRuntime()?.unfurl;
  if (service === undefined) return Response.json({ error: 'Previews are not available on this instance.', code: 'unavailable' }, { status: 503 });
  const url = new URL(request.url).searchParams.get('url');
  if (url === null || url.length === 0 || url.length > 2048) {
    return Response.json({ error: 'Give the link to preview as ?url=.', code: 'bad-url' }, { status: 400 });
  }
  // Set by server.ts from the socket's address (a client-sent value is overwritten), so the limit is per client.
  const client = request.headers.get(CLIENT_ADDRESS_HEADER) ?? 'unknown';
  const answer = await service.unfurl(url, client);
  const headers: Record<string, string> = { 'Cache-Control': 'no-store' };
  if ('retryAfterSeconds' in answer && answer.retryAfterSeconds !== undefined) headers['Retry-After'] = String(answer.retryAfterSeconds);
  return Response.json(answer.body, { status: answer.status, headers });
}
