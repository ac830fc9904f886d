import { getServerRuntime } from '@/lib/server/runtime';

export const dynamic = 'force-dynamic';

export function GET() {
  const rt = getServerRuntime();
  const counts = rt?.replica?.count();
  const dht = rt?.dht?.();
  return Response.json(
    {
      status: 'ok',
      version: rt?.version ?? 'unknown',
      network: rt?.network,
      replica: rt?.replica !== undefined,
      entries: counts?.entries ?? 0,
      deleted: counts?.deleted ?? 0,
      connectedPeers: rt?.replica?.connectedPeers() ?? 0,
      signalingPeers: rt?.signalingPeers() ?? 0,
      uptimeSeconds: rt === undefined ? 0 : Math.round((Date.now() - rt.startedAt) / 1000),
      dht:
        dht === undefined
          ? undefined
          : { nodeId: dht.nodeId, announcedUrl: dht.url ?? null, announced: dht.announced, contacts: dht.contacts, neighbours: dht.neighbours, browserLinks: dht.browserLinks },
      instances: dht?.instances.map((i) => ({ url: i.url, state: i.state, detail: i.detail, lastSeen: new Date(i.lastSeen).toISOString() })) ?? [],
    },
    { headers: { 'Cache-Control': 'no-store' } },
  );
}
