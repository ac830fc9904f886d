// Composition root of the Node process: one HTTP server carrying Next's pages, Socket.IO signaling and
// the server peer (a full replica in SQLite). Everything else lives in lib/server.
import { createServer } from 'node:http';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import '@automerge/automerge';
import next from 'next';
import { Server } from 'socket.io';
import { loadConfig } from './lib/server/config';
import { createServerLogger } from './lib/server/logger';
import { CLIENT_ADDRESS_HEADER, setServerRuntime } from './lib/server/runtime';
import { createUnfurler } from './lib/server/unfurl';
import { UnfurlService } from './lib/server/unfurl-service';
import { ReportService } from './lib/server/report-service';
import { ServerPeer } from './lib/server/server-peer';
import { attachSignalingHub } from './lib/server/signaling-hub';
import type { ClientToServerEvents, ServerToClientEvents } from './lib/net/signaling-events';
import packageJson from './package.json' with { type: 'json' };

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createServerLogger(config.LOG_LEVEL);
  const dev = process.argv.includes('--dev');
  const dir = dirname(fileURLToPath(import.meta.url));

  // The replica opens before anything listens, so no page is served from a half-open store.
  const peer =
    config.REPLICA === 'on'
      ? await ServerPeer.start({
          dataDir: resolve(config.DATA_DIR),
          network: config.NETWORK,
          powBits: config.POW_BITS,
          authorHourlyLimit: config.AUTHOR_HOURLY_LIMIT,
          authorBurst: config.AUTHOR_BURST,
          labelers: config.labelers,
          takedownLabels: config.takedownLabels,
          peers: config.peers,
          logger: log,
          publicUrl: config.PUBLIC_URL,
          instanceDiscovery: config.INSTANCE_DISCOVERY,
          instanceSearchMs: config.INSTANCE_SEARCH_SECONDS * 1000,
          instancesAllowLoopback: config.INSTANCE_ALLOW_LOOPBACK === '1',
          maxDhtBrowsers: config.DHT_BROWSER_LINKS,
        })
      : undefined;

  const allowLoopback = config.UNFURL_ALLOW_LOOPBACK === '1';
  if (allowLoopback) log.warn('UNFURL_ALLOW_LOOPBACK=1: link previews may fetch from this machine (tests only)');
  if (config.INSTANCE_ALLOW_LOOPBACK === '1') log.warn('INSTANCE_ALLOW_LOOPBACK=1: instances announced on this machine may be dialled (tests only)');

  const httpServer = createServer();
  const app = next({ dev, dir, hostname: config.HOST, port: config.PORT, httpServer });
  await app.prepare();
  const handle = app.getRequestHandler();
  httpServer.on('request', (req, res) => {
    // The unfurl rate limit is per client: name the client by its socket, never by what it claims.
    req.headers[CLIENT_ADDRESS_HEADER] = req.socket.remoteAddress ?? 'unknown';
    // A deleted entry's permalink answers 410 Gone (Next renders the tombstone page without content).
    const permalink = req.method === 'GET' || req.method === 'HEAD' ? /^\/e\/([0-9a-f]{32})$/.exec(decodedPath(req.url)) : null;
    // A permalink of what the instance takes down answers 451, with nothing of the entry's content.
    if (permalink !== null && peer?.moderation.takenDown(permalink[1]!) !== undefined) {
      Object.defineProperty(res, 'statusCode', { get: () => 451, set: () => {}, configurable: true });
      void app.render(req, res, '/unavailable', {});
      return;
    }
    if (permalink !== null && peer?.store.getView(permalink[1]!)?.deleted === true) {
      // Next's renderer always sets 200 for a page it renders; pin the status so the page it renders
      // for /gone goes out as 410.
      Object.defineProperty(res, 'statusCode', { get: () => 410, set: () => {}, configurable: true });
      void app.render(req, res, '/gone', {});
      return;
    }
    void handle(req, res);
  });

  // destroyUpgrade: false leaves other upgrades (Next's dev reload socket) to Next.
  const io = new Server<ClientToServerEvents, ServerToClientEvents>(httpServer, {
    destroyUpgrade: false,
    maxHttpBufferSize: 64 * 1024,
    serveClient: false,
  });
  const hub = attachSignalingHub(io, {
    logger: log,
    onJoin: (socket, peerId, role) => {
      if (peer === undefined || socket.data.network !== config.NETWORK) return false;
      peer.attach(socket, peerId, role);
      return true;
    },
  });

  setServerRuntime({
    version: packageJson.version,
    startedAt: Date.now(),
    network: config.NETWORK,
    iceServers: config.iceServers,
    publicUrl: config.PUBLIC_URL,
    signalingPeers: hub.peerCount,
    replica:
      peer === undefined
        ? undefined
        : {
            getView: (id) => peer.store.getView(id),
            list: (options) => peer.store.list(options),
            count: () => peer.store.count(),
            signedChanges: (id) => peer.signedChanges(id),
            connectedPeers: () => peer.engine.readyPeers().length,
          },
    images: peer === undefined ? undefined : { get: (hash) => peer.liveImage(hash) },
    dht: peer === undefined ? undefined : () => peer.dhtHealth(),
    moderation: peer?.moderation,
    reports: peer === undefined ? undefined : new ReportService(peer.store.moderation, (id) => peer.store.getView(id) !== undefined),
    unfurl: new UnfurlService({ unfurler: createUnfurler({ allowLoopback, logger: log }), logger: log }),
  });

  await new Promise<void>((ready) => httpServer.listen(config.PORT, config.HOST, ready));
  const address = httpServer.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.PORT;
  log.info('listening', { url: `http://${config.HOST}:${port}`, dev, replica: peer !== undefined, peers: config.peers });

  const shutdown = (signal: string) => {
    log.info('shutting down', { signal });
    setTimeout(() => process.exit(0), 5000).unref();
    io.close();
    void (async () => {
      await peer?.close();
      httpServer.close(() => process.exit(0));
    })();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/** The request path as Next routes it: without the query, percent-decoded. */
function decodedPath(url: string | undefined): string {
  const path = (url ?? '').split('?')[0]!;
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
