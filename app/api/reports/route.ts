import { CLIENT_ADDRESS_HEADER, getServerRuntime } from '@/lib/server/runtime';

export const dynamic = 'force-dynamic';

/** POST /api/reports {entryId, reason, note} — tells the operator about an entry; never shown publicly. */
export async function POST(request: Request) {
  const reports = getServerRuntime()?.reports;
  if (reports === undefined) return Response.json({ error: 'This instance takes no reports.' }, { status: 503 });
  const text = await request.text();
  if (text.length > 4096) return Response.json({ error: 'The report is too long.' }, { status: 413 });
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return Response.json({ error: 'Send the report as JSON.' }, { status: 400 });
  }
  // Set by server.ts from the socket's address (a client-sent value is overwritten), so the limit is per client.
  const client = request.headers.get(CLIENT_ADDRESS_HEADER) ?? 'unknown';
  const answer = await reports.report(body, client);
  const headers: Record<string, string> = { 'Cache-Control': 'no-store' };
  if ('retryAfterSeconds' in answer && answer.retryAfterSeconds !== undefined) headers['Retry-After'] = String(answer.retryAfterSeconds);
  return Response.json(answer.body, { status: answer.status, headers });
}
