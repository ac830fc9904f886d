// The DHT's transport over the mesh: no new connections, only the sync sessions the mesh already has
// (each a `dht` message stream, see lib/net/overlay.ts).
//
// Neighbours introduce themselves with a signed node record (a hello), which binds their DHT key to
// the peer ID their session's handshake confirmed; until that verifies, nothing they route is
// believed. A message for a node that is not a neighbour travels along a route of waypoints, each
// hop forwarding it to the next waypoint, or expanding the route with its own way there:
// - a message that reached us from X came back along its trail, so that is our way to X;
// - a node Y that X named in an answer is reached through X (X has a way to Y: it only names
//   contacts that talked to it), so our way to Y is our way to X, then Y.
// Ways through a neighbour are forgotten when it leaves. The DHT above times out what gets lost.
// Frames are rate-limited per neighbour; malformed ones are reported to the session, which counts
// them against the neighbour like any bad message.
import type { PeerId } from '../../core/ids';
import { silentLogger, type Logger } from '../../core/logger';
import type { Overlay, OverlayLink } from '../../net/overlay';
import { verifySigned, VerifiedCache, webCryptoVerifier, type SignatureVerifier } from './crypto';
import { decodeMeshFrame, encodeHello, encodeRouted, MAX_PATH } from './mesh-frame';
import { decodeMessage } from './messages';
import type { NodeId } from './node-id';
import { checkNodeRecordTime, nodeRecordFrom, type NodeRecord } from './records';
import type { DhtInbound, DhtTransport } from './transport';

export interface MeshTransportOptions {
  /** Our node ID, and our signed node record once the node has one (sent to every neighbour). */
  self: NodeId;
  now: () => number;
  verifier?: SignatureVerifier;
  cache?: VerifiedCache;
  logger?: Logger;
  /** Ways to non-neighbours kept; the oldest are forgotten first. */
  maxRoutes?: number;
  /** Frames one neighbour may send per second, on average over `rateWindowMs`. */
  framesPerSecond?: number;
  rateWindowMs?: number;
}

export interface MeshTransportStats {
  framesIn: number;
  framesOut: number;
  delivered: number;
  forwarded: number;
  /** Counters by reason of frames dropped here (not the DHT's own drops). */
  drops: Record<string, number>;
}

interface Neighbour {
  link: OverlayLink;
  /** Set once the neighbour's hello verified. */
  record: NodeRecord | undefined;
  /** Settles when the first hello has been checked (frames that raced it wait for it). */
  ready: Promise<void>;
  markReady: () => void;
  window: { since: number; frames: number };
}

type Listener = (inbound: DhtInbound) => void | Promise<void>;

export class MeshDhtTransport implements DhtTransport, Overlay {
  readonly stats: MeshTransportStats = { framesIn: 0, framesOut: 0, delivered: 0, forwarded: 0, drops: {} };
  private readonly neighbours = new Map<OverlayLink, Neighbour>();
  /** Verified neighbours by node ID. */
  private readonly byNode = new Map<NodeId, Neighbour>();
  /**
   * Ways to nodes that are not neighbours: waypoints, the first a neighbour, the destination last.
   * `observed` ways are ones a message actually came by; the others are assumed from answers.
   */
  private readonly routes = new Map<NodeId, { way: NodeId[]; observed: boolean }>();
  private listener: Listener | undefined;
  private ownRecord: NodeRecord | undefined;
  private readonly neighbourListeners = new Set<(record: NodeRecord, up: boolean) => void>();
  private readonly verifier: SignatureVerifier;
  private readonly cache: VerifiedCache;
  private readonly log: Logger;
  private readonly maxRoutes: number;
  private readonly maxFramesPerWindow: number;
  private readonly rateWindowMs: number;

  constructor(private readonly options: MeshTransportOptions) {
    this.verifier = options.verifier ?? webCryptoVerifier;
    this.cache = options.cache ?? new VerifiedCache();
    this.log = (options.logger ?? silentLogger).child('dht-mesh');
    this.maxRoutes = options.maxRoutes ?? 4096;
    this.rateWindowMs = options.rateWindowMs ?? 10_000;
    this.maxFramesPerWindow = Math.ceil(((options.framesPerSecond ?? 100) * this.rateWindowMs) / 1000);
  }

  // ---- DhtTransport ---------------------------------------------------------------------------

  onMessage(listener: Listener): () => void {
    this.listener = listener;
    return () => {
      if (this.listener === listener) this.listener = undefined;
    };
  }

  send(to: NodeId, bytes: Uint8Array): boolean {
    const direct = this.byNode.get(to);
    const route = direct === undefined ? this.liveRoute(to) : [to];
    if (route === undefined) {
      this.drop('no-route');
      return false;
    }
    this.emit(direct ?? this.byNode.get(route[0]!)!, [this.options.self], route, bytes);
    return true;
  }

  // ---- what the mesh manager asks -------------------------------------------------------------

  /** Starts introducing us to neighbours (now and as they come): the node signed its record. */
  setRecord(record: NodeRecord): void {
    const first = this.ownRecord === undefined;
    this.ownRecord = record;
    // A re-signed record goes to every neighbour too, before the one they hold expires.
    for (const n of this.neighbours.values()) this.sendHello(n.link);
    if (first) this.log.debug('introducing ourselves', { neighbours: this.neighbours.size });
  }

  /** Verified neighbours come (`up`) and go. */
  onNeighbour(listener: (record: NodeRecord, up: boolean) => void): () => void {
    this.neighbourListeners.add(listener);
    return () => this.neighbourListeners.delete(listener);
  }

  /** Neighbours whose DHT key is known. */
  neighbourRecords(): NodeRecord[] {
    return [...this.byNode.values()].map((n) => n.record!);
  }

  /** Whether a message to `id` has somewhere to go (a neighbour, or a way through one). */
  canReach(id: NodeId): boolean {
    return this.byNode.has(id) || this.liveRoute(id) !== undefined;
  }

  get routeCount(): number {
    return this.routes.size;
  }

  // ---- Overlay (called by the sync sessions) --------------------------------------------------

  linkUp(link: OverlayLink): void {
    let markReady: () => void = () => {};
    const ready = new Promise<void>((resolve) => (markReady = resolve));
    this.neighbours.set(link, { link, record: undefined, ready, markReady, window: { since: this.options.now(), frames: 0 } });
    if (this.ownRecord !== undefined) this.sendHello(link);
  }

  linkDown(link: OverlayLink): void {
    const n = this.neighbours.get(link);
    if (n === undefined) return;
    this.neighbours.delete(link);
    n.markReady();
    const record = n.record;
    if (record === undefined || this.byNode.get(record.id) !== n) return;
    this.byNode.delete(record.id);
    for (const [id, route] of this.routes) if (route.way[0] === record.id) this.routes.delete(id);
    for (const l of this.neighbourListeners) l(record, false);
  }

  receive(link: OverlayLink, bytes: Uint8Array): string | undefined {
    const n = this.neighbours.get(link);
    if (n === undefined) return undefined;
    this.stats.framesIn++;
    const now = this.options.now();
    if (now - n.window.since >= this.rateWindowMs) n.window = { since: now, frames: 0 };
    if (++n.window.frames > this.maxFramesPerWindow) {
      // Past the rate, frames are dropped; only the first one past it counts against the neighbour.
      this.drop('rate');
      return n.window.frames === this.maxFramesPerWindow + 1 ? 'dht-flood' : undefined;
    }
    const decoded = decodeMeshFrame(bytes);
    if (!decoded.ok) return decoded.reason;
    const frame = decoded.frame;
    if (frame.kind === 'hello') {
      void this.hello(n, frame.record);
      return undefined;
    }
    // A hop may not lie about itself: the last node of the trail is the neighbour it came from.
    const { trail, route, payload } = frame;
    void n.ready.then(() => {
      if (!this.neighbours.has(link)) return;
      if (n.record === undefined || trail[trail.length - 1] !== n.record.id) return this.drop('bad-trail');
      this.routed(n, trail, route, payload);
    });
    return undefined;
  }

  // ---- inside ---------------------------------------------------------------------------------

  private async hello(n: Neighbour, raw: Uint8Array): Promise<void> {
    try {
      const record = nodeRecordFrom(raw);
      if (record === undefined) return this.drop('bad-hello');
      // The key must name the peer this session's handshake confirmed, or anyone could claim
      // to be any neighbour's key.
      if (record.peerId !== n.link.peerId) return this.drop('hello-peer-mismatch');
      if (record.id === this.options.self) return this.drop('hello-self');
      if (checkNodeRecordTime(record, this.options.now()) !== 'ok') return this.drop('hello-time');
      if (n.record !== undefined && n.record.id !== record.id) return this.drop('hello-key-changed');
      if (!(await verifySigned(record, this.verifier, this.cache))) return this.drop('hello-bad-signature');
      if (!this.neighbours.has(n.link)) return;
      const first = n.record === undefined;
      n.record = record;
      if (!first) return;
      const previous = this.byNode.get(record.id);
      // The same key over two sessions (a reconnect racing the old close): the newest wins.
      this.byNode.set(record.id, n);
      this.routes.delete(record.id);
      if (previous === undefined) for (const l of this.neighbourListeners) l(record, true);
    } finally {
      n.markReady();
    }
  }

  private routed(from: Neighbour, trail: NodeId[], route: NodeId[], payload: Uint8Array): void {
    const self = this.options.self;
    if (trail.includes(self)) return this.drop('loop');
    // Every hop sends a frame to the neighbour its route names first.
    if (route[0] !== self) return this.drop('not-for-us');
    const ahead = route.slice(1);
    if (ahead.length === 0) return this.deliver(from, trail, payload);
    this.stats.forwarded++;
    this.forward([...trail, self], ahead, payload);
  }

  /** Sends toward `route[0]`: straight to it when it is a neighbour, else along our own way to it. */
  private forward(trail: NodeId[], route: NodeId[], payload: Uint8Array): void {
    const next = route[0]!;
    const direct = this.byNode.get(next);
    if (direct !== undefined) return this.emit(direct, trail, route, payload);
    const way = this.liveRoute(next);
    if (way === undefined) return this.drop('no-route');
    const expanded = [...way, ...route.slice(1)];
    if (trail.length + expanded.length > MAX_PATH) return this.drop('path-too-long');
    if (expanded.some((id) => trail.includes(id))) return this.drop('route-loop');
    this.emit(this.byNode.get(expanded[0]!)!, trail, expanded, payload);
  }

  private deliver(from: Neighbour, trail: NodeId[], payload: Uint8Array): void {
    const origin = trail[0]!;
    const via = from.record!.id;
    // The way back is the way it came.
    if (trail.length > 1) this.learn(origin, trail.slice(1).reverse().concat(origin), true);
    this.learnFromAnswer(origin, payload);
    this.stats.delivered++;
    const r = this.listener?.({ from: origin, via, bytes: payload });
    if (r !== undefined) r.catch((err: unknown) => this.log.error('DHT listener failed', { err: String(err) }));
  }

  /** Contacts named in an answer from `from` are reached through `from`. */
  private learnFromAnswer(from: NodeId, payload: Uint8Array): void {
    const d = decodeMessage(payload, this.cache);
    if (!d.ok || (d.message.type !== 'nodes' && d.message.type !== 'value')) return;
    const via = this.byNode.has(from) ? [from] : this.liveRoute(from);
    if (via === undefined) return;
    for (const c of d.message.contacts) {
      if (c.id === this.options.self || this.byNode.has(c.id) || via.includes(c.id)) continue;
      this.learn(c.id, [...via, c.id], false);
    }
  }

  /**
   * Keeps a way to `id`. A way a message came by beats one assumed from an answer (the node that
   * named `id` may itself reach it back through us); between two of a kind, the shorter wins.
   */
  private learn(id: NodeId, way: NodeId[], observed: boolean): void {
    if (way.length > MAX_PATH - 1 || !this.byNode.has(way[0]!) || this.byNode.has(id)) return;
    const known = this.liveRoute(id) === undefined ? undefined : this.routes.get(id);
    if (known !== undefined && (known.observed && !observed || known.observed === observed && known.way.length < way.length)) return;
    this.routes.delete(id);
    this.routes.set(id, { way, observed });
    if (this.routes.size > this.maxRoutes) this.routes.delete(this.routes.keys().next().value!);
  }

  private liveRoute(id: NodeId): NodeId[] | undefined {
    const route = this.routes.get(id);
    if (route === undefined) return undefined;
    if (this.byNode.has(route.way[0]!)) return route.way;
    this.routes.delete(id);
    return undefined;
  }

  private emit(to: Neighbour, trail: NodeId[], route: NodeId[], payload: Uint8Array): void {
    this.stats.framesOut++;
    to.link.send(encodeRouted(trail, route, payload));
  }

  private sendHello(link: OverlayLink): void {
    if (this.ownRecord === undefined) return;
    this.stats.framesOut++;
    link.send(encodeHello(this.ownRecord.raw));
  }

  private drop(reason: string): void {
    this.stats.drops[reason] = (this.stats.drops[reason] ?? 0) + 1;
  }

  /** For diagnostics. */
  describe(): { neighbours: number; verified: number; routes: number; peers: PeerId[] } {
    return { neighbours: this.neighbours.size, verified: this.byNode.size, routes: this.routes.size, peers: [...this.byNode.values()].map((n) => n.link.peerId) };
  }
}
