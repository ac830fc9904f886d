import { z } from 'zod';
import { getServerRuntime } from '@/lib/server/runtime';

export const dynamic = 'force-dynamic';

const query = z.object({
  q: z.string().max(200).optional(),
  tag: z.string().max(32).optional(),
  limit: z.coerce.number().int().min(1).max(100).optional(),
  cursor: z.string().regex(/^\d{1,16}:[0-9a-f]{32}$/).optional(),
});

/** GET /api/entries?q=&tag=&limit=&cursor= — newest first, full-text search, keyset pagination. */
export function GET(request: Request) {
  const replica = getServerRuntime()?.replica;
  if (replica === undefined) return Response.json({ error: 'this instance keeps no replica' }, { status: 503 });
  const params = Object.fromEntries(new URL(request.url).searchParams);
  const r = query.safeParse(params);
  if (!r.success) {
    return Response.json({ error: 'bad query', issues: r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) }, { status: 400 });
  }
  const page = replica.list(r.data);
  return Response.json(page, { headers: { 'Cache-Control': 'no-store' } });
}
