// The server peer: a full replica in SQLite that syncs with every browser over its Socket.IO
// connection and with other instances (PEERS), using the same protocol and the same verification as
// any browser. Nothing is kept only in memory.
import { join } from 'node:path';
import { io as connectTo, type Socket as ClientSocket } from 'socket.io-client';
import { randomHex } from '../core/bytes';
import { isBlobHash, type PeerId } from '../core/ids';
import type { Logger } from '../core/logger';
import type { ClientToServerEvents, PeerRole, ServerToClientEvents } from '../net/signaling-events';
import { Replica } from '../protocol/replica';
import { SyncEngine } from '../protocol/sync-engine';
import { parseImageRef } from '../core/preview-image';
import { SqlBlobStore } from '../storage/sql-blob-store';
import { SqlReplicaStore } from '../storage/sql-store';
import { SocketIoChannel } from '../transports/socketio';
import type { HubSocket } from './signaling-hub';

export interface ServerPeerOptions {
  dataDir: string;
  network: string;
  /** Other instances to replicate with, as base URLs. */
  peers: string[];
  logger: Logger;
  reconcileIntervalMs?: number;
}

/** Sync bytes a browser or instance may send per second (burst: 16×), beyond which its channel closes. */
const SYNC_BYTES_PER_SECOND = 2 * 1024 * 1024;

/** How often to look for live entries whose image is still missing, and for images no entry names. */
const BLOB_SWEEP_MS = 60_000;

export class ServerPeer {
  readonly store: SqlReplicaStore;
  readonly blobs: SqlBlobStore;
  readonly engine: SyncEngine;
  readonly peerId: PeerId;
  private readonly log: Logger;
  private readonly outbound: ClientSocket<ServerToClientEvents, ClientToServerEvents>[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  private blobTimer: ReturnType<typeof setInterval> | undefined;

  private constructor(
    private readonly options: ServerPeerOptions,
    store: SqlReplicaStore,
    blobs: SqlBlobStore,
    engine: SyncEngine,
  ) {
    this.store = store;
    this.blobs = blobs;
    this.engine = engine;
    this.peerId = engine.peerId;
    this.log = options.logger.child('server-peer');
  }

  static async start(options: ServerPeerOptions): Promise<ServerPeer> {
    const store = new SqlReplicaStore(join(options.dataDir, 'replica.db'));
    const blobs = new SqlBlobStore(store.db);
    const replica = new Replica({ store, logger: options.logger });
    await replica.open();
    const engine = new SyncEngine({
      replica,
      peerId: randomHex(16) as PeerId,
      network: options.network,
      logger: options.logger,
      blobs,
      // An instance keeps the image of every entry it holds, and hands out only those of live entries.
      eagerBlobs: true,
      canServeBlob: (hash) => store.isImageLive(hash),
    });
    const peer = new ServerPeer(options, store, blobs, engine);
    peer.timer = setInterval(() => engine.reconcileAll(), options.reconcileIntervalMs ?? 60_000);
    peer.blobTimer = setInterval(() => peer.sweepBlobs(), BLOB_SWEEP_MS);
    peer.blobTimer.unref();
    const dropped = store.dropUnreferencedBlobs();
    if (dropped > 0) peer.log.info('dropped images no live entry names', { dropped });
    for (const url of options.peers) peer.connectToInstance(url);
    peer.log.info('replica open', { entries: replica.size, peerId: engine.peerId });
    return peer;
  }

  /** A browser or instance joined signaling on this server: sync with it over its socket. */
  attach(socket: HubSocket, remotePeerId: string, role: PeerRole): void {
    const channel = new SocketIoChannel(socket, {
      remotePeerId: remotePeerId as PeerId,
      bytesPerSecond: SYNC_BYTES_PER_SECOND,
      burstBytes: SYNC_BYTES_PER_SECOND * 16,
      onLocalClose: (reason) => {
        this.log.info('closing a sync connection', { remotePeerId, role, reason });
        socket.disconnect(true);
      },
    });
    this.engine.addChannel(channel);
  }

  /** Replicates with another instance, reconnecting on its own. */
  private connectToInstance(url: string): void {
    const socket: ClientSocket<ServerToClientEvents, ClientToServerEvents> = connectTo(url, {
      transports: ['websocket'],
      reconnectionDelayMax: 10_000,
    });
    this.outbound.push(socket);
    socket.on('connect', () => {
      // Listen before joining: the other instance speaks first, before it acknowledges the join.
      const channel = new SocketIoChannel(socket, { bytesPerSecond: SYNC_BYTES_PER_SECOND, burstBytes: SYNC_BYTES_PER_SECOND * 16 });
      socket.emit('join', { network: this.options.network, peerId: this.peerId, role: 'instance' }, (res) => {
        if (res?.ok !== true || res.replica !== true) {
          this.log.warn('instance refused to replicate', { url, error: res?.error });
          channel.close('no replica there');
          // It may still hold our previous connection ("peer id in use"): try again later.
          setTimeout(() => {
            socket.disconnect();
            socket.connect();
          }, 5_000 + Math.floor(Math.random() * 5_000));
          return;
        }
        this.engine.addChannel(channel);
        this.log.info('replicating with instance', { url });
      });
    });
    socket.on('connect_error', (err) => this.log.debug('instance unreachable', { url, err: err.message }));
  }

  /**
   * Asks peers again for images of live entries that are still missing (their sender left before we
   * had them), and drops images no live entry names any more.
   */
  sweepBlobs(): void {
    for (const raw of this.store.missingImages()) {
      const ref = parseImageRef(raw);
      if (ref !== undefined) void this.engine.fetchBlob(ref);
    }
    this.store.dropUnreferencedBlobs();
  }

  /** A live entry's image, for the HTTP route that serves it; undefined for anything else. */
  liveImage(hash: string) {
    return isBlobHash(hash) && this.store.isImageLive(hash) ? this.blobs.getSync(hash) : undefined;
  }

  /** Stops syncing, lets queued writes finish, then closes the database. */
  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    if (this.blobTimer !== undefined) clearInterval(this.blobTimer);
    for (const s of this.outbound) s.close();
    this.engine.close();
    await this.engine.replica.settled();
    this.store.close();
  }
}
