// The server peer: a full replica in SQLite that syncs with every browser over its Socket.IO
// connection and with other instances (PEERS), using the same protocol and the same verification as
// any browser. Nothing is kept only in memory.
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import { io as connectTo, type Socket as ClientSocket } from 'socket.io-client';
import { randomHex } from '../core/bytes';
import { isBlobHash, type AuthorKey, type EntryId, type PeerId } from '../core/ids';
import type { LabelValue } from '../crdt/label';
import { Moderation } from './moderation';
import { LabelExchange } from '../protocol/label-exchange';
import { loadOrCreateOperatorKey } from './operator-key';
import type { Logger } from '../core/logger';
import type { ClientToServerEvents, PeerRole, ServerToClientEvents } from '../net/signaling-events';
import { Replica } from '../protocol/replica';
import { policyFor } from '../protocol/change-policy';
import { INSTANCE_LIMITS } from '../protocol/admission';
import { SyncEngine } from '../protocol/sync-engine';
import type { SyncSession } from '../protocol/session';
import { parseImageRef } from '../core/preview-image';
import { SqlBlobStore } from '../storage/sql-blob-store';
import { SqlReplicaStore } from '../storage/sql-store';
import { SocketIoChannel } from '../transports/socketio';
import { signerFromIdentity, type SignedChange } from '../crdt/envelope';
import { dhtSignerFrom } from '../discovery/dht/crypto';
import { MeshDiscovery, type MeshDiscoveryStatus } from '../discovery/dht/mesh-discovery';
import { isAnnouncedUrl } from '../discovery/dht/records';
import { realScheduler } from '../discovery/dht/transport';
import type { PeerChannel } from '../net/peer-channel';
import { loadOrCreateDhtKey } from './dht-key';
import { InstanceFinder, type InstanceDial, type InstanceDiscoveryMode, type InstanceStatus } from './instance-finder';
import { OverlayGate } from './overlay-gate';
import type { HubSocket } from './signaling-hub';
import { pinnedLookup } from './unfurl/connector';
import type { CheckedAddress, Resolver } from './unfurl/resolve';

export interface ServerPeerOptions {
  dataDir: string;
  network: string;
  /** The network's proof of work (config POW_BITS); 0 when unset. */
  powBits?: number;
  /** New entries kept per author per hour (config AUTHOR_HOURLY_LIMIT; 0: no limit). */
  authorHourlyLimit?: number;
  /** ... of which at most this many at once (config AUTHOR_BURST). */
  authorBurst?: number;
  /** Other instances to replicate with, as base URLs. */
  peers: string[];
  logger: Logger;
  reconcileIntervalMs?: number;
  /** This instance's public base URL: announced on the DHT so other instances can find it. */
  publicUrl?: string;
  /** What to do with instances found through the DHT (default: connect). */
  instanceDiscovery?: InstanceDiscoveryMode;
  /** How often to look for instances (default 60 s). */
  instanceSearchMs?: number;
  /** Test-only: found instances on loopback addresses may be dialled. */
  instancesAllowLoopback?: boolean;
  /** For tests: how host names of found instances resolve. */
  instanceResolver?: Resolver;
  /** Browsers that may be DHT neighbours of this instance at once (default 32). */
  maxDhtBrowsers?: number;
  /** Labelers honoured besides the operator (config LABELERS). */
  labelers?: AuthorKey[];
  /** Label values that take a subject down here (config TAKEDOWN_LABELS; default illegal and spam). */
  takedownLabels?: LabelValue[];
}

/** What /api/health tells about this instance's part in the DHT. */
export interface DhtHealth extends MeshDiscoveryStatus {
  nodeId: string;
  url: string | undefined;
  browserLinks: number;
  instances: InstanceStatus[];
}

/** Largest WebSocket message accepted from an instance we dial (its chunks are 16 KiB). */
const INSTANCE_MAX_PAYLOAD = 64 * 1024;

/** Sync bytes a browser or instance may send per second (burst: 16×), beyond which its channel closes. */
const SYNC_BYTES_PER_SECOND = 2 * 1024 * 1024;

/** How often to look for live entries whose image is still missing, and for images no entry names. */
const BLOB_SWEEP_MS = 60_000;

export class ServerPeer {
  readonly store: SqlReplicaStore;
  readonly blobs: SqlBlobStore;
  readonly engine: SyncEngine;
  readonly peerId: PeerId;
  readonly discovery: MeshDiscovery;
  readonly instances: InstanceFinder;
  /** The labels this instance honours and what they take down. */
  readonly moderation: Moderation;
  private readonly log: Logger;
  private readonly outbound: ClientSocket<ServerToClientEvents, ClientToServerEvents>[] = [];
  /** Roles that peers joined our hub with; our own outbound channels go to instances. */
  private readonly roles = new Map<string, PeerRole>();
  private readonly outboundChannels = new WeakSet<PeerChannel>();
  private readonly gate: OverlayGate;
  private readonly replica: Replica;
  private readonly url: string | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private blobTimer: ReturnType<typeof setInterval> | undefined;
  private moderationTimer: ReturnType<typeof setInterval> | undefined;
  private searchTimer: ReturnType<typeof setInterval> | undefined;

  private constructor(
    private readonly options: ServerPeerOptions,
    store: SqlReplicaStore,
    blobs: SqlBlobStore,
    replica: Replica,
    discovery: MeshDiscovery,
    peerId: PeerId,
    url: string | undefined,
    moderation: Moderation,
  ) {
    this.store = store;
    this.replica = replica;
    this.moderation = moderation;
    this.blobs = blobs;
    this.discovery = discovery;
    this.url = url;
    this.log = options.logger.child('server-peer');
    this.gate = new OverlayGate(discovery.transport, { isInstance: (peer) => this.isInstance(peer), maxBrowsers: options.maxDhtBrowsers ?? 32 });
    this.engine = new SyncEngine({
      replica,
      peerId,
      network: options.network,
      logger: options.logger,
      blobs,
      // An instance keeps the image of every entry it holds, and hands out only those of live entries.
      eagerBlobs: true,
      canServeBlob: (hash) => store.isImageLive(hash),
      overlay: this.gate,
      limits: {
        ...INSTANCE_LIMITS,
        authorPerHour: options.authorHourlyLimit ?? INSTANCE_LIMITS.authorPerHour,
        authorBurst: options.authorBurst ?? INSTANCE_LIMITS.authorBurst,
      },
      withhold: (id) => moderation.takenDown(id) !== undefined,
      // Labels of the labelers the instance honours travel to and from its peers; what arrives is kept
      // with the operator's and may take entries down here too.
      labels: new LabelExchange<SyncSession>({
        store: {
          all: async () => moderation.labels(),
          put: async (labels) => {
            for (const l of labels) moderation.accept(l);
          },
        },
        accepts: () => moderation.honoured,
        logger: options.logger,
      }),
    });
    this.peerId = this.engine.peerId;
    this.instances = new InstanceFinder({
      find: () => this.discovery.instances(),
      ownUrl: url,
      configured: options.peers,
      mode: options.instanceDiscovery ?? 'connect',
      proves: (peer, claims) => this.discovery.proves(peer, claims),
      peers: () => this.engine.readyPeers().flatMap((s) => (s.remotePeerId === undefined ? [] : [s.remotePeerId])),
      dial: (target, address) => this.connectToInstance(target.href, pinnedAgent(target, address)),
      resolver: options.instanceResolver,
      allowLoopback: options.instancesAllowLoopback,
      logger: this.log,
      now: () => Date.now(),
    });
  }

  static async start(options: ServerPeerOptions): Promise<ServerPeer> {
    const store = new SqlReplicaStore(join(options.dataDir, 'replica.db'));
    const blobs = new SqlBlobStore(store.db);
    const replica = new Replica({ store, logger: options.logger, policy: policyFor(options.powBits ?? 0) });
    await replica.open();
    // The DHT node's key is the instance's lasting identity on the overlay; its peer ID is per run.
    const keys = await loadOrCreateDhtKey(options.dataDir);
    const url = announcedUrl(options.publicUrl, options.logger);
    const peerId = randomHex(16) as PeerId;
    const discovery = new MeshDiscovery({
      signer: dhtSignerFrom(await signerFromIdentity(keys, 'dht')),
      peerId,
      network: options.network,
      scheduler: realScheduler,
      role: 'instance',
      url,
      logger: options.logger,
    });
    const operator = await loadOrCreateOperatorKey(options.dataDir);
    const moderation = new Moderation({
      store: store.moderation,
      operator: operator.author,
      labelers: options.labelers ?? [],
      takedown: options.takedownLabels ?? ['illegal', 'spam'],
      logger: options.logger,
    });
    const peer = new ServerPeer(options, store, blobs, replica, discovery, peerId, url, moderation);
    await discovery.start();
    await peer.engine.labels?.open();
    // The moderate command writes labels from another process: look for them, and hand them on.
    moderation.onChange(() => void peer.engine.labels?.add(moderation.labels()));
    peer.moderationTimer = setInterval(() => moderation.refresh(), 500);
    peer.moderationTimer.unref();
    peer.timer = setInterval(() => peer.engine.reconcileAll(), options.reconcileIntervalMs ?? 60_000);
    peer.blobTimer = setInterval(() => peer.sweepBlobs(), BLOB_SWEEP_MS);
    peer.blobTimer.unref();
    if ((options.instanceDiscovery ?? 'connect') !== 'off') {
      peer.searchTimer = setInterval(() => void peer.instances.round(), options.instanceSearchMs ?? 60_000);
      peer.searchTimer.unref();
    }
    const dropped = store.dropUnreferencedBlobs();
    if (dropped > 0) peer.log.info('dropped images no live entry names', { dropped });
    for (const u of options.peers) peer.connectToInstance(u);
    peer.log.info('replica open', { entries: replica.size, peerId: peer.engine.peerId, dhtNode: discovery.id, announcedUrl: url });
    return peer;
  }

  /** This instance's part in the DHT, for /api/health. */
  /** Every signed change of an entry as this replica holds it, for anyone who wants to verify it. */
  async signedChanges(id: EntryId): Promise<SignedChange[] | undefined> {
    const [entry] = await this.replica.changesFor([{ id, heads: [] }]);
    return entry?.changes;
  }

  dhtHealth(): DhtHealth {
    return { ...this.discovery.status(), nodeId: this.discovery.id, url: this.url, browserLinks: this.gate.browserLinks, instances: this.instances.list() };
  }

  private isInstance(peer: PeerId): boolean {
    if (this.roles.get(peer) === 'instance') return true;
    return this.engine.readyPeers().some((s) => s.remotePeerId === peer && this.outboundChannels.has(s.channel));
  }

  /** A browser or instance joined signaling on this server: sync with it over its socket. */
  attach(socket: HubSocket, remotePeerId: string, role: PeerRole): void {
    this.roles.set(remotePeerId, role);
    socket.once('disconnect', () => {
      if (this.roles.get(remotePeerId) === role) this.roles.delete(remotePeerId);
    });
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

  /**
   * Replicates with another instance, reconnecting on its own until closed. `agent` pins the
   * connection to a checked address (instances found through the DHT); configured ones resolve as
   * usual. The handle tells which peer the connection's own session reached, if any.
   */
  private connectToInstance(url: string, agent?: http.Agent): InstanceDial {
    const target = new URL(url);
    // The hub listens at <base>/socket.io; a path in the URL is not a Socket.IO namespace.
    const socket: ClientSocket<ServerToClientEvents, ClientToServerEvents> = connectTo(target.origin, {
      path: `${target.pathname.replace(/\/+$/, '')}/socket.io`,
      transports: ['websocket'],
      reconnectionDelayMax: 10_000,
      // A manager of its own, not one cached per URL for the life of the process.
      forceNew: true,
      // ws accepts 100 MiB messages by default, measured after inflating: an address from the network
      // could answer with a small compressed bomb. Our own messages are at most 16 KiB chunks.
      maxPayload: INSTANCE_MAX_PAYLOAD,
      perMessageDeflate: false,
      // engine.io-client hands these to ws in Node; its types only know the browser's meanings.
      ...(agent === undefined ? {} : { agent: agent as unknown as string }),
    } as unknown as Parameters<typeof connectTo>[1]);
    this.outbound.push(socket);
    let closed = false;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let session: SyncSession | undefined;
    socket.on('connect', () => {
      // Listen before joining: the other instance speaks first, before it acknowledges the join.
      const channel = new SocketIoChannel(socket, { bytesPerSecond: SYNC_BYTES_PER_SECOND, burstBytes: SYNC_BYTES_PER_SECOND * 16 });
      this.outboundChannels.add(channel);
      socket.emit('join', { network: this.options.network, peerId: this.peerId, role: 'instance' }, (res) => {
        if (closed) return channel.close('closed');
        if (res?.ok !== true || res.replica !== true) {
          this.log.warn('instance refused to replicate', { url, error: res?.error });
          channel.close('no replica there');
          // It may still hold our previous connection ("peer id in use"): try again later.
          retry = setTimeout(() => {
            if (closed) return;
            socket.disconnect();
            socket.connect();
          }, 5_000 + Math.floor(Math.random() * 5_000));
          return;
        }
        session = this.engine.addChannel(channel);
        this.log.info('replicating with instance', { url });
      });
    });
    socket.on('connect_error', (err) => this.log.debug('instance unreachable', { url, err: err.message }));
    return {
      peer: () => (session?.state === 'ready' ? session.remotePeerId : undefined),
      close: () => {
        if (closed) return;
        closed = true;
        clearTimeout(retry);
        socket.close();
        session?.close('hung up');
        const i = this.outbound.indexOf(socket);
        if (i >= 0) this.outbound.splice(i, 1);
      },
    };
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
    if (this.moderationTimer !== undefined) clearInterval(this.moderationTimer);
    if (this.searchTimer !== undefined) clearInterval(this.searchTimer);
    this.instances.stop();
    for (const s of this.outbound) s.close();
    this.engine.close();
    this.discovery.stop();
    await this.engine.replica.settled();
    this.store.close();
  }
}

/** PUBLIC_URL in the form announcements carry, or undefined (with a warning) when it cannot be. */
function announcedUrl(publicUrl: string | undefined, log: Logger): string | undefined {
  if (publicUrl === undefined) return undefined;
  let href: string;
  try {
    const u = new URL(publicUrl);
    u.search = '';
    u.hash = '';
    href = u.href;
  } catch {
    href = publicUrl;
  }
  if (isAnnouncedUrl(href, 'instance')) return href;
  log.warn('PUBLIC_URL cannot be announced on the DHT (http or https, no credentials, at most 256 bytes)', { publicUrl });
  return undefined;
}

/** An agent whose every connection goes to the checked address (Host and TLS name stay the URL's). */
function pinnedAgent(url: URL, address: CheckedAddress): http.Agent {
  const options = { lookup: pinnedLookup(address.address, address.family) };
  return url.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
}
