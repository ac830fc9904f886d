import { getServerRuntime } from '@/lib/server/runtime';

export const dynamic = 'force-dynamic';

export function GET() {
  const rt = getServerRuntime();
  return Response.json(
    {
      status: 'ok',
      version: rt?.version ?? 'unknown',
      network: rt?.network,
      signalingPeers: rt?.signalingPeers() ?? 0,
      uptimeSeconds: rt === undefined ? 0 : Math.round((Date.now() - rt.startedAt) / 1000),
    },
    { headers: { 'Cache-Control': 'no-store' } },
  );
}
