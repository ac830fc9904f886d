import { isEntryId } from '@/lib/core/ids';
import { getServerRuntime } from '@/lib/server/runtime';

export const dynamic = 'force-dynamic';

/** GET /api/entries/<id> — the materialised entry; 404 when unknown, 410 when deleted, 451 when taken down here. */
export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const replica = getServerRuntime()?.replica;
  if (replica === undefined) return Response.json({ error: 'this instance keeps no replica' }, { status: 503 });
  // Taken down here: 451, and nothing of the entry.
  if (isEntryId(id) && getServerRuntime()?.moderation?.takenDown(id) !== undefined) {
    return Response.json({ error: 'unavailable: taken down by this instance', id }, { status: 451, headers: { 'Cache-Control': 'no-store' } });
  }
  const view = isEntryId(id) ? replica.getView(id) : undefined;
  if (view === undefined) return Response.json({ error: 'not found' }, { status: 404 });
  if (view.deleted) return Response.json({ error: 'deleted', id: view.id, deletedAt: view.updatedAt }, { status: 410 });
  return Response.json(view, { headers: { 'Cache-Control': 'no-store' } });
}
