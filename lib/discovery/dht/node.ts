// One DHT node: Kademlia over peers' keys, with S/Kademlia's disjoint lookups and per-source limits.
// Built by a factory that takes the narrow components it needs: createDht(init)(components).
//
// Inbound: bytes → decodeMessage (size, shape, no repeated contact) → a reply must answer a request
// of ours → signatures of every signed object in it (cached) → replies settle their request;
// requests add their (verified) sender to the table and go to a handler in rpc/handlers/; relay
// envelopes go to the relay handler. A message that fails any step is dropped and counted
// (stats.events["drop:<reason>"]); a reply with a forged record also costs its sender its place in
// the routing table. Nothing here throws on network input.
import { toHex } from '../../core/bytes';
import type { PeerId } from '../../core/ids';
import { silentLogger, type Logger } from '../../core/logger';
import { DEFAULT_CONFIG, type DhtConfig } from './config';
import { VerifiedCache, verifySigned, webCryptoVerifier, type DhtSigner, type SignatureVerifier } from './crypto';
import { decodeMessage, encodeMessage, isReply, type DhtMessage } from './messages';
import { compareDistance, idFromHex, idToHex, nodeIdBytesOf, randomIdInBucket, type NodeId } from './node-id';
import { lookup, type LookupResult, type QueryOutcome } from './query/lookup';
import { RecordStore } from './record-store';
import {
  checkAnnouncementTime,
  checkNodeRecordTime,
  createAnnouncement,
  createNodeRecord,
  createRelayEnvelope,
  type Announcement,
  type NodeRecord,
  type PeerRole,
  type RelayEnvelope,
  type SignalKind,
} from './records';
import { RelayGuard, routeRelay } from './relay';
import { RoutingTable } from './routing-table';
import { RpcClient } from './rpc';
import type { HandlerContext } from './rpc/handlers/context';
import { handleFindNode } from './rpc/handlers/find-node';
import { handleFindValue } from './rpc/handlers/find-value';
import { handlePing } from './rpc/handlers/ping';
import { handleRelay } from './rpc/handlers/relay';
import { handleStore } from './rpc/handlers/store';
import type { DhtInbound, DhtTransport, Scheduler } from './transport';

export interface DhtComponents {
  transport: DhtTransport;
  scheduler: Scheduler;
  /** Ed25519 verification; WebCrypto by default. */
  verifier?: SignatureVerifier;
  /** Verified objects by signature; a simulation may share one between nodes. */
  cache?: VerifiedCache;
  /** Random bytes (request IDs, refresh targets, jitter); crypto.getRandomValues by default. */
  random?: (n: number) => Uint8Array;
  logger?: Logger;
}

export interface DhtInit {
  signer: DhtSigner;
  /** The mesh peer this node answers as (in its node record and announcements). */
  peerId: PeerId;
  /** What kind of node this is, in its node record and announcements; 'browser' by default. */
  role?: PeerRole;
  /** An instance's base URL, carried in its announcements. */
  url?: string;
  /** Our signed node record, when made already; start() makes one otherwise. */
  record?: NodeRecord;
  config?: Partial<DhtConfig>;
}

export interface PublishResult {
  /** Nodes that said they stored it, of those asked. */
  stored: number;
  asked: number;
  lookup: LookupResult;
}

export interface DhtStats {
  sent: number;
  received: number;
  bytesSent: number;
  lookups: number;
  /** Counters by event, drops as "drop:<reason>". */
  events: Record<string, number>;
}

const defaultRandom = (n: number) => globalThis.crypto.getRandomValues(new Uint8Array(n));

export function createDht(init: DhtInit): (components: DhtComponents) => DhtNode {
  return (components) => new DhtNode(init, components);
}

export class DhtNode {
  readonly id: NodeId;
  readonly key: Uint8Array;
  readonly config: DhtConfig;
  readonly table: RoutingTable;
  readonly store: RecordStore;
  readonly stats: DhtStats = { sent: 0, received: 0, bytesSent: 0, lookups: 0, events: {} };
  private readonly rpc: RpcClient;
  private readonly relayGuard = new RelayGuard();
  private readonly verifier: SignatureVerifier;
  private readonly cache: VerifiedCache;
  private readonly random: (n: number) => Uint8Array;
  private readonly logger: Logger;
  private readonly ctx: HandlerContext;
  private readonly signalListeners = new Set<(envelope: RelayEnvelope) => void>();
  private readonly announcing = new Map<NodeId, { topic: Uint8Array; role: PeerRole; due: number }>();
  private ownRecord: NodeRecord | undefined;
  private running = false;
  private unsubscribe: (() => void) | undefined;
  private cancelMaintenance: (() => void) | undefined;
  private relaySeq = 0;
  private relayLookups = { since: Number.NEGATIVE_INFINITY, count: 0 };

  constructor(
    private readonly init: DhtInit,
    private readonly components: DhtComponents,
  ) {
    this.config = { ...DEFAULT_CONFIG, ...init.config };
    this.key = nodeIdBytesOf(init.signer.publicKey);
    this.id = idToHex(this.key);
    this.verifier = components.verifier ?? webCryptoVerifier;
    this.cache = components.cache ?? new VerifiedCache();
    this.random = components.random ?? defaultRandom;
    this.logger = (components.logger ?? silentLogger).child(`dht:${this.id.slice(0, 8)}`);
    this.ownRecord = init.record;
    const c = this.config;
    this.table = new RoutingTable({
      self: this.key,
      k: c.k,
      maxPerSourcePerBucket: c.maxPerSourcePerBucket,
      maxPerSource: c.maxPerSource,
      replacements: c.replacements,
      maxFailures: c.maxFailures,
      freshMs: c.freshMs,
      pingIntervalMs: c.pingIntervalMs,
      now: () => this.now(),
      ping: (contact, done) => this.ping(contact.record, done),
    });
    this.store = new RecordStore({ maxPerTopic: c.storeMaxPerTopic, maxTopics: c.storeMaxTopics });
    this.rpc = new RpcClient({
      send: (to, m) => this.send(to, m),
      scheduler: components.scheduler,
      random: this.random,
      timeoutMs: c.rpcTimeoutMs,
      onTimeout: (to) => this.table.failed(to),
    });
    this.ctx = {
      config: this.config,
      self: { id: this.id, key: this.key },
      table: this.table,
      store: this.store,
      relayGuard: this.relayGuard,
      now: () => this.now(),
      send: (to, m) => this.send(to, m),
      count: (e) => this.count(e),
      deliverSignal: (env) => {
        this.count('signal-delivered');
        for (const l of this.signalListeners) l(env);
      },
      forwardRelay: (env, hopsLeft, lane, cameFrom) => this.forwardRelay(env, hopsLeft, lane, new Set(cameFrom === undefined ? [] : [cameFrom]), 0),
    };
  }

  get record(): NodeRecord {
    if (this.ownRecord === undefined) throw new Error('DHT node not started');
    return this.ownRecord;
  }

  get isRunning(): boolean {
    return this.running;
  }

  now(): number {
    return this.components.scheduler.now();
  }

  /** Signs our node record if needed, listens, and starts maintenance. */
  async start(): Promise<void> {
    if (this.running) return;
    if (this.ownRecord === undefined || checkNodeRecordTime(this.ownRecord, this.now()) !== 'ok') await this.resign();
    this.running = true;
    this.unsubscribe = this.components.transport.onMessage((m) => this.receive(m));
    this.scheduleMaintenance();
  }

  stop(): void {
    this.running = false;
    this.unsubscribe?.();
    this.cancelMaintenance?.();
    this.rpc.close();
  }

  // ---- inbound --------------------------------------------------------------------------------

  private receive({ from, via, bytes }: DhtInbound): void | Promise<void> {
    if (!this.running) return;
    this.stats.received++;
    const d = decodeMessage(bytes, this.cache);
    if (!d.ok) return this.drop(d.reason, from);
    // An answer to nothing we asked is dropped before its (up to 40) signatures are checked: anyone
    // could make us verify a frame's worth of new or forged records at no cost to itself.
    if (isReply(d.message) && !this.rpc.matches(from, d.message)) return this.drop('unsolicited', from);
    if (d.forged) return this.refuse(from, d.message);
    if (d.unverified.length === 0) return this.dispatch(from, via, d.message);
    return Promise.all(d.unverified.map((o) => verifySigned(o, this.verifier, this.cache))).then((oks) => {
      if (!this.running) return;
      if (oks.every(Boolean)) this.dispatch(from, via, d.message);
      else this.refuse(from, d.message);
    });
  }

  /** A message with a forged signature: only a liar sends one (honest nodes verify what they pass on). */
  private refuse(from: NodeId, message: DhtMessage): void {
    this.drop('bad-signature', from);
    if (isReply(message)) this.rpc.reject(from, message);
    this.table.remove(from);
  }

  private dispatch(from: NodeId, via: string, msg: DhtMessage): void {
    try {
      this.handle(from, via, msg);
    } catch (err) {
      // A bug, not the peer's doing: count it, log it, and keep the node running.
      this.drop('internal-error', from);
      this.logger.error('DHT handler failed', { type: msg.type, error: String(err) });
    }
  }

  private handle(from: NodeId, via: string, msg: DhtMessage): void {
    if (isReply(msg)) {
      if (!this.rpc.resolve(from, msg)) this.drop('unsolicited', from);
      return;
    }
    if (msg.type === 'relay') return handleRelay(this.ctx, from, msg);
    const sender = msg.sender;
    if (sender.id !== from) return this.drop('sender-mismatch', from);
    const time = checkNodeRecordTime(sender, this.now());
    if (time !== 'ok') return this.drop(`sender-${time}`, from);
    // It talked to us: a candidate for our table, counted against the neighbour it came through.
    this.table.add(sender, via);
    switch (msg.type) {
      case 'ping':
        return handlePing(this.ctx, from, msg);
      case 'find-node':
        return handleFindNode(this.ctx, from, msg);
      case 'find-value':
        return handleFindValue(this.ctx, from, msg);
      case 'store':
        return handleStore(this.ctx, from, msg);
    }
  }

  private drop(reason: string, from?: NodeId): void {
    this.count(`drop:${reason}`);
    this.logger.debug('dropped a message', { reason, from });
  }

  private count(event: string): void {
    this.stats.events[event] = (this.stats.events[event] ?? 0) + 1;
  }

  private send(to: NodeId, message: DhtMessage): boolean | void {
    if (!this.running) return;
    const bytes = encodeMessage(message);
    this.stats.sent++;
    this.stats.bytesSent += bytes.length;
    return this.components.transport.send(to, bytes);
  }

  // ---- requests -------------------------------------------------------------------------------

  /** Liveness check of a node known only by ID (an announcer); resolves whether it answered in time. */
  pingId(id: NodeId): Promise<boolean> {
    return new Promise((resolve) => this.rpc.request(id, (rpc) => ({ type: 'ping', rpc, sender: this.record }), 'pong', (o) => resolve(o.ok)));
  }

  /** Liveness check; `done(true)` when it answered in time. */
  ping(contact: NodeRecord, done: (alive: boolean) => void): void {
    this.rpc.request(contact.id, (rpc) => ({ type: 'ping', rpc, sender: this.record }), 'pong', (o) => done(o.ok));
  }

  private query(contact: NodeRecord, introducer: NodeId | undefined, target: Uint8Array, mode: 'node' | 'value', done: (o: QueryOutcome) => void): void {
    const build = (rpc: number): DhtMessage => (mode === 'node' ? { type: 'find-node', rpc, sender: this.record, target } : { type: 'find-value', rpc, sender: this.record, key: target });
    this.rpc.request(contact.id, build, mode === 'node' ? 'nodes' : 'value', (o) => {
      if (!o.ok) return done({ ok: false });
      // It answered: a contact for our table, counted against whoever introduced it.
      this.table.add(contact, introducer ?? contact.id);
      const reply = o.reply;
      if (reply.type !== 'nodes' && reply.type !== 'value') return done({ ok: false });
      const now = this.now();
      const contacts = reply.contacts.filter((c) => checkNodeRecordTime(c, now) === 'ok');
      if (reply.type === 'nodes') return done({ ok: true, contacts });
      const topic = idToHex(target);
      const records = reply.records.filter((a) => a.topicId === topic && checkAnnouncementTime(a, now) === 'ok');
      if (records.length < reply.records.length) this.count('value-records-refused');
      done({ ok: true, contacts, records });
    });
  }

  // ---- lookups --------------------------------------------------------------------------------

  /** Callback form of a lookup (the simulation drives these without promises). */
  lookupWith(
    target: Uint8Array,
    options: { mode?: 'node' | 'value'; paths?: number; stopWhenFound?: boolean; seeds?: readonly NodeRecord[]; window?: number },
    done: (r: LookupResult) => void,
  ): void {
    const now = this.now();
    this.table.touch(target);
    this.stats.lookups++;
    const seeds = options.seeds ?? this.table.closest(target, this.config.k, (c) => c.record.expiresAt <= now).map((c) => c.record);
    const mode = options.mode ?? 'node';
    lookup(
      {
        target,
        mode,
        k: this.config.k,
        alpha: this.config.alpha,
        paths: options.paths ?? this.config.paths,
        self: this.id,
        seeds,
        stopWhenFound: options.stopWhenFound ?? false,
        window: options.window,
        query: (contact, introducer, cb) => this.query(contact, introducer, target, mode, cb),
      },
      done,
    );
  }

  /** Finds a node's signed record by its ID. */
  findNode(id: NodeId): Promise<LookupResult> {
    return new Promise((resolve) => this.lookupWith(idFromHex(id), { stopWhenFound: true }, resolve));
  }

  /** The k closest nodes to a key (where records under it are stored). */
  closestNodes(key: Uint8Array): Promise<LookupResult> {
    return new Promise((resolve) => this.lookupWith(key, {}, resolve));
  }

  /**
   * Announcements under a topic: who is in this network (or instance). By default the lookup stops
   * at the first node that holds some; `complete` asks all of the closest nodes and merges what they
   * hold, for topics with few announcers that must all be found (instances).
   */
  findAnnouncements(topic: Uint8Array, options: { complete?: boolean } = {}): Promise<LookupResult> {
    return new Promise((resolve) => this.lookupWith(topic, { mode: 'value', stopWhenFound: options.complete !== true }, resolve));
  }

  /**
   * Joins: looks ourselves up from `contacts` (signed records from signaling or mesh neighbours,
   * verified here), so the nodes nearest us learn of us, then refreshes every bucket farther out.
   */
  async bootstrap(contacts: readonly NodeRecord[]): Promise<LookupResult> {
    const checked = await Promise.all(contacts.map((c) => verifySigned(c, this.verifier, this.cache)));
    const seeds = contacts.filter((c, i) => checked[i] && checkNodeRecordTime(c, this.now()) === 'ok');
    return new Promise((resolve) => this.join(seeds, resolve));
  }

  /** Callback form of bootstrap for records already verified. */
  join(seeds: readonly NodeRecord[], done: (selfLookup: LookupResult) => void): void {
    this.lookupWith(this.key, { seeds: seeds.length > 0 ? seeds : undefined }, (self) => {
      // Then the buckets farther out that the self-lookup left less than half full.
      const sparse = this.table.buckets.slice(0, -1).flatMap((b, i) => (b.contacts.length < this.config.k / 2 ? [i] : []));
      let pending = sparse.length;
      if (pending === 0) return done(self);
      for (const i of sparse) this.refreshBucket(i, () => --pending === 0 && done(self));
    });
  }

  /** A lookup of a random ID in the bucket: its answers fill the bucket (one path, a narrow window). */
  private refreshBucket(index: number, done?: () => void): void {
    const target = randomIdInBucket(this.key, index, this.random(32), index === this.table.buckets.length - 1);
    this.count('refresh');
    this.lookupWith(target, { paths: 1, window: this.config.refreshWindow }, () => done?.());
  }

  // ---- records --------------------------------------------------------------------------------

  /** Announces us under `topic` until we stop: stored on the k closest nodes, republished periodically. */
  announce(topic: Uint8Array, role: PeerRole = this.init.role ?? 'browser'): Promise<PublishResult> {
    return new Promise((resolve, reject) => {
      this.announceWith(topic, role, resolve).catch(reject);
    });
  }

  /** Callback form of announce: resolves once signed and sent on its way; `done` when stored. */
  async announceWith(topic: Uint8Array, role: PeerRole, done: (r: PublishResult) => void): Promise<void> {
    const a = await this.signAnnouncement(topic, role);
    this.announcing.set(a.topicId, { topic, role, due: this.now() + this.config.republishIntervalMs });
    this.publish(a, done);
  }

  withdraw(topic: Uint8Array): void {
    this.announcing.delete(idToHex(topic));
  }

  signAnnouncement(topic: Uint8Array, role: PeerRole): Promise<Announcement> {
    const now = this.now();
    const url = role === 'instance' ? this.init.url : undefined;
    return createAnnouncement(this.init.signer, { topic, peerId: this.init.peerId, role, url, issuedAt: now, expiresAt: now + this.config.announcementLifetimeMs });
  }

  /** Stores a signed announcement on the k closest nodes to its topic. */
  publish(a: Announcement, done: (r: PublishResult) => void): void {
    this.lookupWith(a.topic, {}, (result) => {
      const targets = result.closest;
      let pending = targets.length;
      let stored = 0;
      if (pending === 0) return done({ stored, asked: 0, lookup: result });
      for (const t of targets) {
        this.rpc.request(t.id, (rpc) => ({ type: 'store', rpc, sender: this.record, record: a }), 'stored', (o) => {
          if (o.ok && o.reply.type === 'stored' && o.reply.ok) stored++;
          if (--pending === 0) done({ stored, asked: targets.length, lookup: result });
        });
      }
    });
  }

  // ---- signaling relay ------------------------------------------------------------------------

  onSignal(listener: (envelope: RelayEnvelope) => void): () => void {
    this.signalListeners.add(listener);
    return () => this.signalListeners.delete(listener);
  }

  /** Signs a WebRTC signal for node `to`. */
  signSignal(to: NodeId, signal: SignalKind, payload: Uint8Array): Promise<RelayEnvelope> {
    this.relaySeq = Math.max(this.relaySeq + 1, this.now());
    return createRelayEnvelope(this.init.signer, { signal, fromPeer: this.init.peerId, to: idFromHex(to), seq: this.relaySeq, expiresAt: this.now() + this.config.relayLifetimeMs, payload });
  }

  /**
   * Sends a signed envelope toward its target: one copy per lane (`relayCopies`), each to a
   * different contact closer to the target than we are. 'lookup' when there is none: then it goes
   * to the target directly if a lookup finds it.
   */
  relay(envelope: RelayEnvelope): 'sent' | 'lookup' | 'self' {
    if (envelope.toId === this.id) return 'self';
    this.relayGuard.firstSight(envelope);
    const hops = this.config.relayHops;
    if (this.table.has(envelope.toId)) {
      this.forwardRelay(envelope, hops, 0, new Set(), 0);
      return 'sent';
    }
    const closer = this.table.closest(envelope.to, this.config.relayCopies, (c) => compareDistance(c.record.key, this.key, envelope.to) >= 0);
    if (closer.length === 0) {
      this.relayByLookup(envelope, hops, 0);
      return 'lookup';
    }
    for (let lane = 0; lane < closer.length; lane++) this.forwardRelay(envelope, hops, lane, new Set(), 0);
    return 'sent';
  }

  /** One hop of an envelope, retried on other contacts (up to `relayAttempts`) when not acknowledged. */
  private forwardRelay(envelope: RelayEnvelope, hopsLeft: number, lane: number, exclude: Set<string>, attempt: number): void {
    const d = routeRelay(this.table, { id: this.id, key: this.key }, envelope, hopsLeft, exclude, lane);
    if (d.action === 'deliver') return;
    if (d.action === 'drop') {
      if (d.reason === 'hop-limit' || attempt > 0) return this.count(`relay-${d.reason}`);
      return this.relayByLookup(envelope, hopsLeft, lane);
    }
    const next = d.next.record.id;
    this.count(attempt === 0 ? 'relay-forwarded' : 'relay-retried');
    this.rpc.request(next, (rpc) => ({ type: 'relay', rpc, hopsLeft: hopsLeft - 1, lane, envelope }), 'relayed', (o) => {
      if (o.ok) return;
      if (attempt + 1 >= this.config.relayAttempts) return this.count('relay-gave-up');
      exclude.add(next);
      this.forwardRelay(envelope, hopsLeft, lane, exclude, attempt + 1);
    });
  }

  /** No contact is closer to the target than we are (a gap in our table): look it up, rate-limited. */
  private relayByLookup(envelope: RelayEnvelope, hopsLeft: number, lane: number): void {
    const now = this.now();
    if (now - this.relayLookups.since >= 60_000) this.relayLookups = { since: now, count: 0 };
    if (this.relayLookups.count >= this.config.relayLookupsPerMinute) return this.count('relay-no-route');
    this.relayLookups.count++;
    this.lookupWith(envelope.to, { stopWhenFound: true, paths: 1 }, (r) => {
      if (r.found === undefined) return this.count('relay-no-route');
      this.count('relay-looked-up');
      this.rpc.request(r.found.id, (rpc) => ({ type: 'relay', rpc, hopsLeft: hopsLeft - 1, lane, envelope }), 'relayed', () => {});
    });
  }

  async sendSignal(to: NodeId, signal: SignalKind, payload: Uint8Array): Promise<'sent' | 'lookup' | 'self'> {
    return this.relay(await this.signSignal(to, signal, payload));
  }

  // ---- maintenance ----------------------------------------------------------------------------

  private scheduleMaintenance(): void {
    const base = this.config.maintenanceIntervalMs;
    const jitter = (this.random(1)[0]! / 255 - 0.5) * 0.2 * base;
    this.cancelMaintenance = this.components.scheduler.setTimeout(() => {
      if (!this.running) return;
      const work = this.maintain();
      this.scheduleMaintenance();
      return work;
    }, base + jitter);
  }

  /** One round: sweep expired records and contacts, refresh stale buckets, republish, re-sign. */
  maintain(): Promise<void> | undefined {
    const now = this.now();
    this.store.sweep(now);
    for (const c of [...this.table.contacts()]) if (c.record.expiresAt <= now) this.table.remove(c.record.id);
    for (const i of this.table.staleBuckets(this.config.refreshIntervalMs).slice(0, this.config.refreshesPerRound)) this.refreshBucket(i);
    const due = [...this.announcing.values()].filter((a) => a.due <= now);
    const resign = this.ownRecord !== undefined && this.ownRecord.expiresAt - now < this.config.nodeRecordLifetimeMs / 2;
    if (due.length === 0 && !resign) return undefined;
    return (async () => {
      if (resign) await this.resign();
      for (const a of due) {
        a.due = now + this.config.republishIntervalMs;
        this.publish(await this.signAnnouncement(a.topic, a.role), () => this.count('republished'));
      }
    })();
  }

  private async resign(): Promise<void> {
    const now = this.now();
    this.ownRecord = await createNodeRecord(this.init.signer, { peerId: this.init.peerId, role: this.init.role, issuedAt: now, expiresAt: now + this.config.nodeRecordLifetimeMs });
  }

  /** Debug summary. */
  describe(): Record<string, unknown> {
    return { id: this.id, contacts: this.table.size, buckets: this.table.buckets.length, stored: this.store.size, key: toHex(this.key).slice(0, 16) };
  }
}
