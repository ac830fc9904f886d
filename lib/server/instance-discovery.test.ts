// Two instances that were never told about each other, each with one browser; the browsers meet.
// The instances must find each other's URL through the DHT over that mesh and replicate directly.
// Real ServerPeers (SQLite in a temporary directory), real Socket.IO hubs on 127.0.0.1; the browsers
// are Node sync engines with the browser's MeshDiscovery, joined to each other in memory.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server } from 'socket.io';
import { io as connectTo, type Socket as ClientSocket } from 'socket.io-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { randomHex } from '../core/bytes';
import type { PeerId } from '../core/ids';
import { silentLogger } from '../core/logger';
import { generateIdentity, signerFromIdentity } from '../crdt/envelope';
import { dhtSignerFrom } from '../discovery/dht/crypto';
import { MeshDiscovery } from '../discovery/dht/mesh-discovery';
import { realScheduler } from '../discovery/dht/transport';
import type { ClientToServerEvents, ServerToClientEvents } from '../net/signaling-events';
import { Replica } from '../protocol/replica';
import { SyncEngine } from '../protocol/sync-engine';
import { MemoryStore } from '../testing/memory-store';
import { sampleFields } from '../testing/samples';
import { MemoryNetwork } from '../transports/memory';
import { SocketIoChannel } from '../transports/socketio';
import { DHT_KEY_FILE, loadOrCreateDhtKey } from './dht-key';
import { ServerPeer } from './server-peer';
import { attachSignalingHub } from './signaling-hub';

const NETWORK = 'test';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startInstance(options: { allowLoopback: boolean }) {
  const dataDir = await mkdtemp(join(tmpdir(), 'lodestone-instance-'));
  const http = createServer();
  const io = new Server<ClientToServerEvents, ServerToClientEvents>(http, { serveClient: false, maxHttpBufferSize: 64 * 1024 });
  await new Promise<void>((ready) => http.listen(0, '127.0.0.1', ready));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/`;
  const peer = await ServerPeer.start({
    dataDir,
    network: NETWORK,
    peers: [],
    logger: silentLogger,
    publicUrl: url,
    instanceSearchMs: 200,
    instancesAllowLoopback: options.allowLoopback,
  });
  attachSignalingHub(io, {
    logger: silentLogger,
    onJoin: (socket, peerId, role) => {
      peer.attach(socket, peerId, role);
      return true;
    },
  });
  cleanups.push(async () => {
    await peer.close();
    await new Promise<void>((done) => {
      io.close(() => done());
      http.closeAllConnections();
    });
    await rm(dataDir, { recursive: true, force: true });
  });
  return { peer, url, dataDir };
}

/** A browser as replication.ts builds one, joined to an instance over Socket.IO. */
async function startBrowser(instanceUrl: string) {
  const peerId = randomHex(16) as PeerId;
  const dht = new MeshDiscovery({ signer: dhtSignerFrom(await signerFromIdentity(await generateIdentity(), 'dht')), peerId, network: NETWORK, scheduler: realScheduler });
  const replica = new Replica({ store: new MemoryStore() });
  await replica.open();
  const engine = new SyncEngine({ replica, peerId, network: NETWORK, overlay: dht.transport });
  await dht.start();
  const socket: ClientSocket<ServerToClientEvents, ClientToServerEvents> = connectTo(instanceUrl, { transports: ['websocket'], forceNew: true, reconnection: false });
  socket.on('connect', () => {
    const channel = new SocketIoChannel(socket);
    socket.emit('join', { network: NETWORK, peerId, role: 'browser' }, (ack) => {
      if (ack.ok && ack.replica === true) engine.addChannel(channel);
    });
  });
  cleanups.push(() => {
    socket.close();
    engine.close();
    dht.stop();
  });
  return { peerId, engine, dht };
}

const WAIT = { timeout: 20_000, interval: 50 };

describe('instances whose browsers meet', () => {
  it('find each other through the DHT and replicate directly', async () => {
    const x = await startInstance({ allowLoopback: true });
    const y = await startInstance({ allowLoopback: true });
    const a = await startBrowser(x.url);
    const b = await startBrowser(y.url);
    await vi.waitFor(() => expect(x.peer.engine.readyPeers().map((s) => s.remotePeerId)).toEqual([a.peerId]), WAIT);
    await vi.waitFor(() => expect(y.peer.engine.readyPeers().map((s) => s.remotePeerId)).toEqual([b.peerId]), WAIT);
    const [ab, ba] = new MemoryNetwork(true).pair(a.peerId, b.peerId);
    a.engine.addChannel(ab);
    b.engine.addChannel(ba);

    await vi.waitFor(() => {
      expect(x.peer.dhtHealth().instances.map((i) => [i.url, i.state])).toEqual([[y.url, 'connected']]);
      expect(y.peer.dhtHealth().instances.map((i) => [i.url, i.state])).toEqual([[x.url, 'connected']]);
    }, WAIT);
    expect(x.peer.dhtHealth()).toMatchObject({ url: x.url, announced: true });
    // One connection between the two, not one each way (a second one, if both dialled, is closed).
    await vi.waitFor(() => {
      expect(x.peer.engine.readyPeers().filter((s) => s.remotePeerId === y.peer.peerId)).toHaveLength(1);
      expect(y.peer.engine.readyPeers().filter((s) => s.remotePeerId === x.peer.peerId)).toHaveLength(1);
    }, WAIT);

    // With the browsers apart again, an entry made at Y reaches X over the instances' own link.
    ab.close('apart');
    await vi.waitFor(() => expect(a.engine.readyPeers().map((s) => s.remotePeerId)).toEqual([x.peer.peerId]), WAIT);
    const author = await signerFromIdentity(await generateIdentity(), randomHex(8));
    const view = await y.peer.engine.create(author, sampleFields({ title: 'Made at Y' }));
    await vi.waitFor(() => expect(x.peer.store.getView(view.id)?.title).toBe('Made at Y'), WAIT);
  }, 60_000);

  it('never dial an announced URL whose address is not public', async () => {
    // Without the test allowance, 127.0.0.1 is refused like any private address: listed, never dialled.
    const x = await startInstance({ allowLoopback: false });
    const y = await startInstance({ allowLoopback: false });
    const a = await startBrowser(x.url);
    const b = await startBrowser(y.url);
    await vi.waitFor(() => expect(x.peer.engine.readyPeers()).toHaveLength(1), WAIT);
    await vi.waitFor(() => expect(y.peer.engine.readyPeers()).toHaveLength(1), WAIT);
    const [ab, ba] = new MemoryNetwork(true).pair(a.peerId, b.peerId);
    a.engine.addChannel(ab);
    b.engine.addChannel(ba);
    await vi.waitFor(() => {
      expect(x.peer.dhtHealth().instances).toMatchObject([{ url: y.url, state: 'refused', detail: '127.0.0.1 is not at a public address' }]);
      expect(y.peer.dhtHealth().instances).toMatchObject([{ url: x.url, state: 'refused' }]);
    }, WAIT);
    expect(x.peer.engine.readyPeers().map((s) => s.remotePeerId)).toEqual([a.peerId]);
    expect(y.peer.engine.readyPeers().map((s) => s.remotePeerId)).toEqual([b.peerId]);
  }, 60_000);

  it('keep their DHT key across restarts, and refuse to start on a damaged one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lodestone-key-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const first = await loadOrCreateDhtKey(dir);
    expect((await loadOrCreateDhtKey(dir)).author).toBe(first.author);
    const { writeFile, stat } = await import('node:fs/promises');
    expect((await stat(join(dir, DHT_KEY_FILE))).mode & 0o077).toBe(0);
    await writeFile(join(dir, DHT_KEY_FILE), '{"format":"lodestone-dht-key"}');
    await expect(loadOrCreateDhtKey(dir)).rejects.toThrow(/is not a Lodestone DHT key/);
  });
});
