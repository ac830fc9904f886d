import { getServerRuntime } from '@/lib/server/runtime';

export const dynamic = 'force-dynamic';

export function GET() {
  const rt = getServerRuntime();
  const counts = rt?.replica?.count();
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
    },
    { headers: { 'Cache-Control': 'no-store' } },
  );
}
