// GET /api/entries/<id>/signed — the entry as the network holds it: every Automerge change (base64)
// with its author's Ed25519 signature over the change hash, for anyone who wants to verify it without
// trusting this instance. The same answers as /api/entries/<id> for what is unknown (404), deleted
// (410: a deleted entry's history still holds what its author took back) or taken down here (451).
import { toBase64, toHex } from '@/lib/core/bytes';
import { isEntryId } from '@/lib/core/ids';
import { describeChange } from '@/lib/crdt/entry-doc';
import { getServerRuntime } from '@/lib/server/runtime';

export const dynamic = 'force-dynamic';

export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const runtime = getServerRuntime();
  const replica = runtime?.replica;
  if (replica === undefined) return Response.json({ error: 'this instance keeps no replica' }, { status: 503 });
  if (!isEntryId(id)) return Response.json({ error: 'not found' }, { status: 404 });
  if (runtime?.moderation?.takenDown(id) !== undefined) {
    return Response.json({ error: 'unavailable: taken down by this instance', id }, { status: 451, headers: { 'Cache-Control': 'no-store' } });
  }
  const view = replica.getView(id);
  if (view === undefined) return Response.json({ error: 'not found' }, { status: 404 });
  if (view.deleted) return Response.json({ error: 'deleted', id, deletedAt: view.updatedAt }, { status: 410 });
  const changes = (await replica.signedChanges(id)) ?? [];
  return Response.json(
    {
      id,
      author: view.author,
      about:
        'Each change is an Automerge change chunk (base64). The change hash is the SHA-256 of the chunk after its 4-byte magic and 4-byte checksum; the entry ID is the first 16 bytes of the creating change’s hash; the signature is Ed25519 over the 32-byte hash by the key in the actor ID’s first 32 bytes, which must be the author.',
      changes: changes.map((c) => {
        const f = describeChange(c.change);
        return { hash: f.hash, actor: f.actor, seq: f.seq, time: f.time, deps: f.deps, change: toBase64(c.change), signature: toHex(c.sig) };
      }),
    },
    { headers: { 'Cache-Control': 'no-store', 'Content-Disposition': `inline; filename="lodestone-${id}.json"` } },
  );
}
