// Discovery through the DHT over the mesh: what the mesh manager uses once it has neighbours.
// Joins through each verified neighbour, announces us under the network's topic, finds candidate
// peers (contacts of the routing table we have a way to, then announcements), and carries WebRTC
// signals to a peer's node hop by hop, signed end to end.
import type { PeerId } from '../../core/ids';
import { silentLogger, type Logger } from '../../core/logger';
import type { DhtConfig } from './config';
import { VerifiedCache, type DhtSigner, type SignatureVerifier } from './crypto';
import { MeshDhtTransport } from './mesh-transport';
import { createDht, type DhtNode } from './node';
import { idToHex, nodeIdBytesOf, type NodeId } from './node-id';
import { topicKey, type NodeRecord, type PeerRole, type SignalKind } from './records';
import type { Scheduler } from './transport';

export interface MeshDiscoveryOptions {
  signer: DhtSigner;
  peerId: PeerId;
  network: string;
  scheduler: Scheduler;
  /** An instance announces under the instances' topic, with its URL; a browser under the network's. */
  role?: PeerRole;
  /** An instance's public base URL; without one, an instance takes part but does not announce. */
  url?: string;
  verifier?: SignatureVerifier;
  logger?: Logger;
  config?: Partial<DhtConfig>;
  /** Re-announce at most this often when neighbours change (the DHT also republishes on its own). */
  reannounceMs?: number;
  /** Verified objects by signature; a simulation shares one between all its nodes (see DhtComponents). */
  cache?: VerifiedCache;
  /** Random bytes for the DHT (request IDs, refresh targets, jitter); a seeded simulation passes its own. */
  random?: (n: number) => Uint8Array;
}

export interface Candidate {
  peerId: PeerId;
  nodeId: NodeId;
  /** Where it came from: our routing table (it talked to us lately) or an announcement. */
  source: 'table' | 'announcement';
}

/** A node that announced an instance URL: its signed claim to serve it, not yet checked. */
export interface InstanceClaim {
  peerId: PeerId;
  nodeId: NodeId;
  expiresAt: number;
}

/**
 * Another instance's URL found through announcements, with every node that claims it (newest
 * first, at most MAX_CLAIMS). Anyone may announce any URL under their own key, so one claim must not
 * hide another: the instance at the URL proves which one is true by the key it answers with.
 */
export interface FoundInstance {
  url: string;
  claims: InstanceClaim[];
}

const MAX_CLAIMS = 8;

export interface IncomingSignal {
  fromPeer: PeerId;
  from: NodeId;
  kind: SignalKind;
  payload: Uint8Array;
}

export interface MeshDiscoveryStatus {
  contacts: number;
  neighbours: number;
  routes: number;
  announced: boolean;
  lookups: number;
  signalsSent: number;
  signalsDelivered: number;
  drops: number;
}

export class MeshDiscovery {
  readonly transport: MeshDhtTransport;
  readonly node: DhtNode;
  /** Where we announce ourselves (none for an instance without a URL). */
  private readonly topic: Uint8Array | undefined;
  private readonly instanceTopic: Uint8Array;
  private readonly log: Logger;
  private readonly seeds: NodeRecord[] = [];
  private joining = false;
  private announcedAt = Number.NEGATIVE_INFINITY;
  private announced = false;
  private announceTimer: (() => void) | undefined;
  private stopped = false;
  private signalsSent = 0;
  private readonly unsubscribe: Array<() => void> = [];
  private readonly joinedListeners = new Set<() => void>();

  constructor(private readonly options: MeshDiscoveryOptions) {
    const cache = options.cache ?? new VerifiedCache(10_000);
    this.log = (options.logger ?? silentLogger).child('dht');
    // The node ID is the key's hash, known before the node exists: the transport needs it first.
    const id = idToHex(nodeIdBytesOf(options.signer.publicKey));
    this.transport = new MeshDhtTransport({ self: id, now: () => options.scheduler.now(), verifier: options.verifier, cache, logger: options.logger });
    const role = options.role ?? 'browser';
    this.node = createDht({ signer: options.signer, peerId: options.peerId, role, url: options.url, config: options.config })({
      transport: this.transport,
      scheduler: options.scheduler,
      verifier: options.verifier,
      cache,
      random: options.random,
      logger: options.logger,
    });
    this.instanceTopic = topicKey('instance', options.network);
    this.topic = role === 'browser' ? topicKey('network', options.network) : options.url === undefined ? undefined : this.instanceTopic;
  }

  get id(): NodeId {
    return this.node.id;
  }

  async start(): Promise<void> {
    await this.node.start();
    this.unsubscribe.push(
      this.transport.onNeighbour((record, up) => {
        if (up) return this.seed(record);
        // A neighbour that left: unless another way to it is known, it is gone from our table too.
        if (!this.transport.canReach(record.id)) this.node.table.remove(record.id);
      }),
    );
    // Introduce ourselves to the neighbours that came before the record was signed, and after.
    this.transport.setRecord(this.node.record);
    for (const r of this.transport.neighbourRecords()) this.seed(r);
  }

  stop(): void {
    this.stopped = true;
    for (const u of this.unsubscribe) u();
    this.announceTimer?.();
    if (this.topic !== undefined) this.node.withdraw(this.topic);
    this.node.stop();
  }

  /**
   * Whether the DHT can find peers to connect to: it knows another browser. An instance alone (every
   * browser's first DHT neighbour when its server takes part) can answer lookups but is not a peer
   * to dial, so until a browser is known the mesh keeps asking signaling.
   */
  get ready(): boolean {
    for (const c of this.node.table.contacts()) if (c.record.role === 'browser') return true;
    return false;
  }

  /** Whether the DHT has anyone to ask at all. */
  private get hasContacts(): boolean {
    return this.node.table.size > 0;
  }

  /**
   * Peers we could connect to, not yet checked alive: contacts of our routing table we have a way
   * to (freshest first), then, when those are fewer than `wanted`, announcers under the network's
   * topic. `exclude` (peers we are connected to already) are left out, and so are instances: they
   * have no WebRTC and are reached through their own server.
   */
  async candidates(exclude: ReadonlySet<PeerId> = new Set(), wanted = Number.POSITIVE_INFINITY): Promise<Candidate[]> {
    const out = new Map<PeerId, Candidate>();
    const self = this.options.peerId;
    const contacts = [...this.node.table.contacts()].sort((a, b) => b.lastSeen - a.lastSeen);
    for (const c of contacts) {
      const peer = c.record.peerId;
      if (peer !== self && c.record.role === 'browser' && !exclude.has(peer) && this.transport.canReach(c.record.id)) {
        out.set(peer, { peerId: peer, nodeId: c.record.id, source: 'table' });
      }
    }
    if (this.hasContacts && out.size < wanted) {
      const found = await this.node.findAnnouncements(topicKey('network', this.options.network));
      for (const a of found.records ?? []) {
        if (a.peerId !== self && a.role === 'browser' && !exclude.has(a.peerId) && !out.has(a.peerId)) {
          out.set(a.peerId, { peerId: a.peerId, nodeId: a.publisher, source: 'announcement' });
        }
      }
    }
    return [...out.values()];
  }

  /**
   * Other instances of this network that announced their URL, freshest claim per URL, ourselves left
   * out. Signed by their node keys, so nobody can announce for another node; a URL is still only a
   * claim (anyone may announce any URL under their own key): check it before trusting it.
   */
  async instances(): Promise<FoundInstance[]> {
    if (!this.hasContacts) return [];
    const found = await this.node.findAnnouncements(this.instanceTopic, { complete: true });
    // We may be one of the nodes that hold the topic: what others stored with us counts too.
    const held = this.node.store.get(idToHex(this.instanceTopic), this.options.scheduler.now(), Number.MAX_SAFE_INTEGER);
    const byUrl = new Map<string, FoundInstance>();
    for (const a of [...(found.records ?? []), ...held]) {
      if (a.role !== 'instance' || a.url === '' || a.publisher === this.id || a.url === this.options.url) continue;
      const entry = byUrl.get(a.url) ?? { url: a.url, claims: [] };
      byUrl.set(a.url, entry);
      const same = entry.claims.findIndex((c) => c.nodeId === a.publisher);
      if (same >= 0 && entry.claims[same]!.expiresAt >= a.expiresAt) continue;
      if (same >= 0) entry.claims.splice(same, 1);
      entry.claims.push({ peerId: a.peerId, nodeId: a.publisher, expiresAt: a.expiresAt });
      entry.claims.sort((x, y) => y.expiresAt - x.expiresAt);
      entry.claims.length = Math.min(entry.claims.length, MAX_CLAIMS);
    }
    return [...byUrl.values()];
  }

  /**
   * Whether the neighbour `peer` proved it holds one of the claimed node keys: its signed node
   * record, checked against the peer ID of our session with it, names that key.
   */
  proves(peer: PeerId, claims: readonly InstanceClaim[]): boolean {
    return this.transport.neighbourRecords().some((r) => r.peerId === peer && claims.some((c) => c.nodeId === r.id));
  }

  /** Whether a candidate answers a ping through the overlay (so a peer that left is not dialled). */
  isAlive(c: Candidate): Promise<boolean> {
    return this.node.pingId(c.nodeId);
  }

  /** Sends a WebRTC signal to a peer's node through the overlay. */
  async signal(to: NodeId, kind: SignalKind, payload: Uint8Array): Promise<void> {
    this.signalsSent++;
    const how = await this.node.sendSignal(to, kind, payload);
    this.log.debug('signal sent through the DHT', { to: to.slice(0, 8), kind, how });
  }

  /** After each join through new neighbours: the routing table may hold peers it did not before. */
  onJoined(listener: () => void): () => void {
    this.joinedListeners.add(listener);
    return () => this.joinedListeners.delete(listener);
  }

  onSignal(listener: (signal: IncomingSignal) => void): () => void {
    return this.node.onSignal((env) => listener({ fromPeer: env.fromPeer, from: env.from, kind: env.signal, payload: env.payload }));
  }

  status(): MeshDiscoveryStatus {
    const events = this.node.stats.events;
    const drops = Object.entries(events).reduce((n, [k, v]) => (k.startsWith('drop:') ? n + v : n), 0) + Object.values(this.transport.stats.drops).reduce((a, b) => a + b, 0);
    return {
      contacts: this.node.table.size,
      neighbours: this.transport.neighbourRecords().length,
      routes: this.transport.routeCount,
      announced: this.announced,
      lookups: this.node.stats.lookups,
      signalsSent: this.signalsSent,
      signalsDelivered: events['signal-delivered'] ?? 0,
      drops,
    };
  }

  // ---- joining and announcing -----------------------------------------------------------------

  /** A verified neighbour: look ourselves up through it (one join at a time; later seeds wait). */
  private seed(record: NodeRecord): void {
    if (this.stopped || !this.node.isRunning) return;
    this.seeds.push(record);
    if (!this.joining) this.join();
  }

  private join(): void {
    const seeds = this.seeds.splice(0);
    if (seeds.length === 0 || this.stopped) return;
    this.joining = true;
    this.node.join(seeds, (self) => {
      this.joining = false;
      this.log.debug('joined through neighbours', { seeds: seeds.length, closest: self.closest.length, contacts: this.node.table.size });
      this.scheduleAnnounce();
      for (const l of this.joinedListeners) l();
      if (this.seeds.length > 0) this.join();
    });
  }

  /**
   * Announces now if we never did, else once `reannounceMs` has passed since the last time: as the
   * mesh grows, the nodes closest to the topic change, and the announcement should be on them.
   */
  private scheduleAnnounce(): void {
    const topic = this.topic;
    if (this.stopped || this.announceTimer !== undefined || topic === undefined) return;
    const every = this.options.reannounceMs ?? 15_000;
    const wait = Math.max(0, this.announcedAt + every - this.options.scheduler.now());
    this.announceTimer = this.options.scheduler.setTimeout(() => {
      this.announceTimer = undefined;
      if (this.stopped) return;
      this.announcedAt = this.options.scheduler.now();
      this.node
        .announce(topic)
        .then((r) => {
          this.announced = this.announced || r.stored > 0;
          this.log.debug('announced', { stored: r.stored, asked: r.asked });
        })
        .catch((err: unknown) => this.log.warn('announcing failed', { err: String(err) }));
    }, wait);
  }
}
