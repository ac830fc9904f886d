// Composition root of the Node process: one HTTP server carrying Next's pages and Socket.IO
// signaling. Everything else lives in lib/server.
import { createServer } from 'node:http';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import next from 'next';
import { Server } from 'socket.io';
import { loadConfig } from './lib/server/config';
import { createServerLogger } from './lib/server/logger';
import { setServerRuntime } from './lib/server/runtime';
import { attachSignalingHub } from './lib/server/signaling-hub';
import type { ClientToServerEvents, ServerToClientEvents } from './lib/net/signaling-events';
import packageJson from './package.json' with { type: 'json' };

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createServerLogger(config.LOG_LEVEL);
  const dev = process.argv.includes('--dev');
  const dir = dirname(fileURLToPath(import.meta.url));

  const httpServer = createServer();
  const app = next({ dev, dir, hostname: config.HOST, port: config.PORT, httpServer });
  await app.prepare();
  const handle = app.getRequestHandler();
  httpServer.on('request', (req, res) => {
    void handle(req, res);
  });

  // destroyUpgrade: false leaves other upgrades (Next's dev reload socket) to Next.
  const io = new Server<ClientToServerEvents, ServerToClientEvents>(httpServer, {
    destroyUpgrade: false,
    maxHttpBufferSize: 64 * 1024,
    serveClient: false,
  });
  const hub = attachSignalingHub(io, { logger: log });

  setServerRuntime({
    version: packageJson.version,
    startedAt: Date.now(),
    network: config.NETWORK,
    iceServers: config.iceServers,
    signalingPeers: hub.peerCount,
  });

  await new Promise<void>((resolve) => httpServer.listen(config.PORT, config.HOST, resolve));
  const address = httpServer.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.PORT;
  log.info('listening', { url: `http://${config.HOST}:${port}`, dev });

  const shutdown = (signal: string) => {
    log.info('shutting down', { signal });
    io.close();
    httpServer.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 3000).unref();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
