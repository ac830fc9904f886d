import { isEntryId } from '@/lib/core/ids';
import { getServerRuntime } from '@/lib/server/runtime';

export const dynamic = 'force-dynamic';

/** GET /api/entries/<id> — the materialised entry; 404 when unknown, 410 when deleted. */
export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const replica = getServerRuntime()?.replica;
  if (replica === undefined) return Response.json({ error: 'this instance keeps no replica' }, { status: 503 });
  const view = isEntryId(id) ? replica.getView(id) : undefined;
  if (view === undefined) return Response.json({ error: 'not found' }, { status: 404 });
  if (view.deleted) return Response.json({ error: 'deleted', id: view.id, deletedAt: view.updatedAt }, { status: 410 });
  return Response.json(view, { headers: { 'Cache-Control': 'no-store' } });
}
