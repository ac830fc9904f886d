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
// A relay also learns its way back to a frame's origin from the trail. Up to `waysPerNode` ways are
// kept per node (observed ones first, then the shorter), and ways through a neighbour are forgotten
// when it leaves. Every hop, the origin included, routes a frame afresh: straight to the furthest
// waypoint (or the destination) that is a neighbour, else along the shortest of its live ways to any
// waypoint still ahead that neither loops through the trail nor makes the path too long. So a
// frame whose next waypoint has left takes another way instead of being dropped, and routes only
// get shorter on the way. The DHT above times out what still gets lost.
// Frames are rate-limited per neighbour, the ones it originates and the ones it relays for others
// each with its own budget (a busy relay is not a flooder); malformed ones are reported to the
// session, which counts them against the neighbour like any bad message.
import type { PeerId } from '../../core/ids';
import { silentLogger, type Logger } from '../../core/logger';
import type { Overlay, OverlayLink } from '../../net/overlay';
import { verifySigned, VerifiedCache, webCryptoVerifier, type SignatureVerifier } from './crypto';
import { encodeHello, idBytes, idHex, MAX_PATH, readMeshFrame, sameId, writeRouted, type RoutedView } from './mesh-frame';
import { decodeMessage } from './messages';
import { ID_BYTES, type NodeId } from './node-id';
import { checkNodeRecordTime, nodeRecordFrom, type NodeRecord } from './records';
import type { DhtInbound, DhtTransport } from './transport';

export interface MeshTransportOptions {
  /** Our node ID, and our signed node record once the node has one (sent to every neighbour). */
  self: NodeId;
  now: () => number;
  verifier?: SignatureVerifier;
  cache?: VerifiedCache;
  logger?: Logger;
  /** Nodes (not neighbours) we keep ways to; the ones learned longest ago are forgotten first. */
  maxRoutes?: number;
  /** Ways kept to each of them (default 3). */
  waysPerNode?: number;
  /** Frames one neighbour may originate per second, on average over `rateWindowMs`. */
  framesPerSecond?: number;
  /** Frames one neighbour may relay for others per second (default 4 × framesPerSecond). */
  relayFramesPerSecond?: number;
  rateWindowMs?: number;
}

export interface MeshTransportStats {
  framesIn: number;
  framesOut: number;
  delivered: number;
  forwarded: number;
  /** Frames that did not go the way their route named (a shortcut, or another way around a gap). */
  rerouted: number;
  /** Counters by reason of frames dropped here (not the DHT's own drops). */
  drops: Record<string, number>;
}

interface Neighbour {
  link: OverlayLink;
  /** Set once the neighbour's hello verified. */
  record: NodeRecord | undefined;
  /** Settles when the first hello has been checked (frames that raced it wait for it). */
  ready: Promise<void>;
  settled: boolean;
  markReady: () => void;
  window: { since: number; own: number; relayed: number; flagged: boolean };
}

/** A way to a node that is not a neighbour: its waypoints, the first a neighbour and the node last. */
interface Way {
  first: NodeId;
  /** The waypoints' IDs back to back (ID_BYTES each): one allocation per way, not one per node. */
  path: Uint8Array;
  hops: number;
  /** A message actually came this way (the others are assumed from answers). */
  observed: boolean;
}

type Plan = { to: Neighbour; route: Uint8Array[]; rerouted: boolean } | { drop: string };

type Listener = (inbound: DhtInbound) => void | Promise<void>;

/** The codes of `nodes` and `value` messages (messages.ts). */
const NODES_CODE = 4;
const VALUE_CODE = 6;

/** Relayed requests whose replies are awaited (the oldest forgotten first). */
const MAX_REPLY_WAYS = 1024;

/** A DHT message's sender or addressee and its rpc (bytes 3–6 of every DHT message). */
const replyKey = (id: NodeId, m: Uint8Array): string => id + String.fromCharCode(m[3]!, m[4]!, m[5]!, m[6]!);

/** An assumed way counts as this many hops longer than an observed one when ways are compared. */
const ASSUMED_PENALTY = 2;

export class MeshDhtTransport implements DhtTransport, Overlay {
  readonly stats: MeshTransportStats = { framesIn: 0, framesOut: 0, delivered: 0, forwarded: 0, rerouted: 0, drops: {} };
  private readonly neighbours = new Map<OverlayLink, Neighbour>();
  /** Verified neighbours by node ID. */
  private readonly byNode = new Map<NodeId, Neighbour>();
  /** Verified neighbours, for matching node IDs as bytes. */
  private verified: Neighbour[] = [];
  /** Ways to nodes that are not neighbours, best first. */
  private readonly routes = new Map<NodeId, Way[]>();
  /** Requests relayed to us by a neighbour, by origin and rpc: where their replies go back. */
  private readonly replyWays = new Map<string, { via: Neighbour; path: Uint8Array }>();
  private readonly selfKey: Uint8Array;
  private listener: Listener | undefined;
  private ownRecord: NodeRecord | undefined;
  private readonly neighbourListeners = new Set<(record: NodeRecord, up: boolean) => void>();
  private readonly verifier: SignatureVerifier;
  private readonly cache: VerifiedCache;
  private readonly log: Logger;
  private readonly maxRoutes: number;
  private readonly waysPerNode: number;
  private readonly maxOwnPerWindow: number;
  private readonly maxRelayedPerWindow: number;
  private readonly rateWindowMs: number;

  constructor(private readonly options: MeshTransportOptions) {
    this.verifier = options.verifier ?? webCryptoVerifier;
    this.cache = options.cache ?? new VerifiedCache();
    this.log = (options.logger ?? silentLogger).child('dht-mesh');
    this.selfKey = idBytes(options.self);
    this.maxRoutes = options.maxRoutes ?? 4096;
    this.waysPerNode = Math.max(1, options.waysPerNode ?? 3);
    this.rateWindowMs = options.rateWindowMs ?? 10_000;
    const own = options.framesPerSecond ?? 100;
    this.maxOwnPerWindow = Math.ceil((own * this.rateWindowMs) / 1000);
    this.maxRelayedPerWindow = Math.ceil(((options.relayFramesPerSecond ?? 4 * own) * this.rateWindowMs) / 1000);
  }

  // ---- DhtTransport ---------------------------------------------------------------------------

  onMessage(listener: Listener): () => void {
    this.listener = listener;
    return () => {
      if (this.listener === listener) this.listener = undefined;
    };
  }

  send(to: NodeId, bytes: Uint8Array): boolean {
    const trail = [this.selfKey];
    // A reply (even type code) to a request a neighbour relayed goes back through that neighbour: the
    // origin a trail names is only that neighbour's word, and a reply straight to it would let the
    // neighbour reflect our answers (up to the whole message limit) at any node we can reach.
    const key = bytes.length >= 7 && bytes[2]! % 2 === 0 ? replyKey(to, bytes) : undefined;
    const back = key === undefined ? undefined : this.replyWays.get(key);
    if (back !== undefined) {
      this.replyWays.delete(key!);
      if (!this.neighbours.has(back.via.link)) {
        this.drop('reply-way-gone');
        return false;
      }
      this.emit(back.via, trail, [back.path], bytes);
      return true;
    }
    const plan = this.plan(trail, [idBytes(to)]);
    if ('drop' in plan) {
      // Whatever stood in the way, the DHT learns at once that nothing went (and asks someone else).
      this.drop('no-route');
      return false;
    }
    this.emit(plan.to, trail, plan.route, bytes);
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
    return this.byNode.has(id) || this.liveWays(id) !== undefined;
  }

  get routeCount(): number {
    return this.routes.size;
  }

  // ---- Overlay (called by the sync sessions) --------------------------------------------------

  linkUp(link: OverlayLink): void {
    let markReady: () => void = () => {};
    const ready = new Promise<void>((resolve) => (markReady = resolve));
    const n: Neighbour = {
      link,
      record: undefined,
      ready,
      settled: false,
      markReady: () => {
        n.settled = true;
        markReady();
      },
      window: { since: this.options.now(), own: 0, relayed: 0, flagged: false },
    };
    this.neighbours.set(link, n);
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
    this.verified = this.verified.filter((v) => v !== n);
    for (const [id, ways] of this.routes) {
      const left = ways.filter((w) => w.first !== record.id);
      if (left.length === 0) this.routes.delete(id);
      else if (left.length < ways.length) this.routes.set(id, left);
    }
    for (const l of this.neighbourListeners) l(record, false);
  }

  receive(link: OverlayLink, bytes: Uint8Array): string | undefined {
    const n = this.neighbours.get(link);
    if (n === undefined) return undefined;
    this.stats.framesIn++;
    const verdict = this.rate(n, bytes);
    if (verdict !== 'ok') return verdict === 'flood' ? 'dht-flood' : undefined;
    const decoded = readMeshFrame(bytes);
    if (!decoded.ok) return decoded.reason;
    if (decoded.kind === 'hello') {
      void this.hello(n, decoded.record);
      return undefined;
    }
    const view = decoded.view;
    if (n.settled) this.checked(n, view);
    else void n.ready.then(() => this.checked(n, view));
    return undefined;
  }

  // ---- inside ---------------------------------------------------------------------------------

  /**
   * Counts a frame against its neighbour: the ones it originates (and hellos) and the ones it
   * relays for others (a trail longer than itself) each have a budget per window. Past either,
   * frames are dropped; only the first one past it counts against the neighbour.
   */
  private rate(n: Neighbour, bytes: Uint8Array): 'ok' | 'drop' | 'flood' {
    const now = this.options.now();
    const w = n.window;
    if (now - w.since >= this.rateWindowMs) n.window = { since: now, own: 0, relayed: 0, flagged: false };
    const relayed = bytes[2] === 2 && (bytes[3] ?? 0) > 1;
    const over = relayed ? ++n.window.relayed > this.maxRelayedPerWindow : ++n.window.own > this.maxOwnPerWindow;
    if (!over) return 'ok';
    this.drop('rate');
    if (n.window.flagged) return 'drop';
    n.window.flagged = true;
    return 'flood';
  }

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
      this.verified = [...this.verified.filter((v) => v !== previous), n];
      this.routes.delete(record.id);
      if (previous === undefined) for (const l of this.neighbourListeners) l(record, true);
    } finally {
      n.markReady();
    }
  }

  /** A routed frame from `n`, once its hello was checked. */
  private checked(n: Neighbour, view: RoutedView): void {
    if (!this.neighbours.has(n.link)) return;
    // A hop may not lie about itself: the last node of the trail is the neighbour it came from.
    if (n.record === undefined || !sameId(view.trail[view.trail.length - 1]!, n.record.key)) return this.drop('bad-trail');
    this.routed(n, view);
  }

  private routed(from: Neighbour, { trail, route, payload }: RoutedView): void {
    const self = this.selfKey;
    for (const k of trail) if (sameId(k, self)) return this.drop('loop');
    // No honest hop passes on a frame it is already on, so a node twice on the trail is a loop too
    // (dropped, not held against the neighbour: the trail may have been made further back).
    for (let i = 1; i < trail.length; i++) for (let j = 0; j < i; j++) if (sameId(trail[i]!, trail[j]!)) return this.drop('loop');
    // Every hop sends a frame to the neighbour its route names first.
    if (!sameId(route[0]!, self)) return this.drop('not-for-us');
    if (route.length === 1) return this.deliver(from, trail, payload);
    this.stats.forwarded++;
    // The way back to the origin is the way the frame came (an answer may come back by it).
    if (trail.length > 1) this.learnTrail(trail, true);
    const next = [...trail, self];
    const plan = this.plan(next, route.slice(1));
    if ('drop' in plan) return this.drop(plan.drop);
    if (plan.rerouted) this.stats.rerouted++;
    this.emit(plan.to, next, plan.route, payload);
  }

  /**
   * Where a frame that went through `trail` (us last) goes next to reach the last of `ahead`: to the
   * furthest node ahead that is a neighbour, else along the best live way to a node ahead.
   */
  private plan(trail: readonly Uint8Array[], ahead: Uint8Array[]): Plan {
    const m = ahead.length;
    const inTrail = (k: Uint8Array, at = 0) => {
      for (const t of trail) if (sameId(k, t, at)) return true;
      return false;
    };
    for (let j = m - 1; j >= 0; j--) {
      const n = this.neighbourByKey(ahead[j]!);
      if (n !== undefined && !inTrail(ahead[j]!)) return { to: n, route: j === 0 ? ahead : ahead.slice(j), rerouted: j > 0 };
    }
    let best: { way: Way; j: number; cost: number } | undefined;
    let reason = 'no-route';
    for (let j = m - 1; j >= 0; j--) {
      const ways = this.liveWays(idHex(ahead[j]!));
      if (ways === undefined) continue;
      const rest = m - 1 - j;
      for (const way of ways) {
        if (trail.length + way.hops + rest > MAX_PATH) {
          if (reason === 'no-route') reason = 'path-too-long';
          continue;
        }
        let loops = false;
        for (let at = 0; at < way.path.length && !loops; at += ID_BYTES) loops = inTrail(way.path, at);
        if (loops) {
          reason = 'route-loop';
          continue;
        }
        const cost = way.hops + rest + (way.observed ? 0 : ASSUMED_PENALTY);
        if (best === undefined || cost < best.cost) best = { way, j, cost };
      }
    }
    if (best === undefined) return { drop: reason };
    const { way, j } = best;
    return { to: this.byNode.get(way.first)!, route: [way.path, ...ahead.slice(j + 1)], rerouted: j > 0 };
  }

  /** The verified neighbour whose ID is at byte `at` of `key`. */
  private neighbourByKey(key: Uint8Array, at = 0): Neighbour | undefined {
    for (const n of this.verified) if (sameId(key, n.record!.key, at)) return n;
    return undefined;
  }

  private deliver(from: Neighbour, trail: Uint8Array[], payload: Uint8Array): void {
    const origin = trail.length > 1 ? this.learnTrail(trail, true) : from.record!.id;
    if (payload.length >= 7 && payload[2]! % 2 === 1) this.expectReply(from, origin, trail, payload);
    this.learnFromAnswer(origin, payload);
    this.stats.delivered++;
    const r = this.listener?.({ from: origin, via: from.record!.id, bytes: payload });
    if (r !== undefined) r.catch((err: unknown) => this.log.error('DHT listener failed', { err: String(err) }));
  }

  /**
   * A request (odd type code, rpc at bytes 3–6) that a neighbour relayed for `origin`: its reply is to
   * go back through that neighbour (see send). A direct one clears what an earlier relayed one left.
   */
  private expectReply(from: Neighbour, origin: NodeId, trail: Uint8Array[], payload: Uint8Array): void {
    const key = replyKey(origin, payload);
    this.replyWays.delete(key);
    if (trail.length === 1) return;
    const path = new Uint8Array(trail.length * ID_BYTES);
    for (let i = 0; i < trail.length; i++) path.set(trail[trail.length - 1 - i]!, i * ID_BYTES);
    this.replyWays.set(key, { via: from, path });
    if (this.replyWays.size > MAX_REPLY_WAYS) this.replyWays.delete(this.replyWays.keys().next().value!);
  }

  /** The way back to a trail's origin is the trail reversed (its last node is a neighbour). Returns the origin. */
  private learnTrail(trail: Uint8Array[], observed: boolean): NodeId {
    const origin = idHex(trail[0]!);
    // Most frames come by a way we already keep: recognise it without building it again.
    const ways = this.routes.get(origin);
    if (ways !== undefined && ways.some((w) => w.observed === observed && w.hops === trail.length && isReversed(w.path, trail))) return origin;
    if (!this.wants(origin, trail.length, observed)) return origin;
    const path = new Uint8Array(trail.length * ID_BYTES);
    for (let i = 0; i < trail.length; i++) path.set(trail[trail.length - 1 - i]!, i * ID_BYTES);
    this.learn(origin, path, observed);
    return origin;
  }

  /** Contacts named in an answer from `from` are reached through `from`. */
  private learnFromAnswer(from: NodeId, payload: Uint8Array): void {
    // Only answers name contacts: the rest are left for the DHT to decode (byte 2 is the type).
    if (payload[2] !== NODES_CODE && payload[2] !== VALUE_CODE) return;
    const d = decodeMessage(payload, this.cache);
    if (!d.ok || (d.message.type !== 'nodes' && d.message.type !== 'value')) return;
    const direct = this.byNode.get(from);
    const via = direct !== undefined ? direct.record!.key : this.liveWays(from)?.[0]?.path;
    if (via === undefined) return;
    for (const c of d.message.contacts) {
      if (c.id === this.options.self || this.byNode.has(c.id)) continue;
      let onTheWay = false;
      for (let at = 0; at < via.length && !onTheWay; at += ID_BYTES) onTheWay = sameId(via, c.key, at);
      if (onTheWay || !this.wants(c.id, via.length / ID_BYTES + 1, false)) continue;
      const path = new Uint8Array(via.length + ID_BYTES);
      path.set(via);
      path.set(c.key, via.length);
      this.learn(c.id, path, false);
    }
  }

  /**
   * Keeps a way to `id` among its best `waysPerNode`. A way a message came by beats one assumed from
   * an answer (the node that named `id` may itself reach it back through us); between two of a
   * kind, the shorter wins.
   */
  private learn(id: NodeId, path: Uint8Array, observed: boolean): void {
    const hops = path.length / ID_BYTES;
    if (hops > MAX_PATH - 1 || this.byNode.has(id)) return;
    const first = this.neighbourByKey(path)?.record!.id;
    if (first === undefined) return;
    const known = this.liveWays(id);
    const ways = known ?? [];
    const same = ways.findIndex((w) => w.hops === hops && equalBytes(w.path, path));
    if (same >= 0) {
      if (ways[same]!.observed || !observed) return;
      ways.splice(same, 1);
    }
    const better = (a: Way) => (a.observed !== observed ? a.observed : a.hops <= hops);
    let at = 0;
    while (at < ways.length && better(ways[at]!)) at++;
    if (at >= this.waysPerNode) return;
    ways.splice(at, 0, { first, path, hops, observed });
    if (ways.length > this.waysPerNode) ways.length = this.waysPerNode;
    if (known !== undefined) return;
    // Past the limit, the node we first learned a way to longest ago is forgotten.
    this.routes.set(id, ways);
    if (this.routes.size > this.maxRoutes) this.routes.delete(this.routes.keys().next().value!);
  }

  /** Whether a new way of `hops` would be kept among the ways to `id` (a cheap test before building it). */
  private wants(id: NodeId, hops: number, observed: boolean): boolean {
    const ways = this.routes.get(id);
    if (ways === undefined || ways.length < this.waysPerNode) return true;
    const worst = ways[ways.length - 1]!;
    return worst.observed !== observed ? observed : worst.hops > hops;
  }

  /** Live ways to `id` (their first hop still a neighbour), best first; dead ones are forgotten. */
  private liveWays(id: NodeId): Way[] | undefined {
    const ways = this.routes.get(id);
    if (ways === undefined) return undefined;
    if (ways.every((w) => this.byNode.has(w.first))) return ways;
    const live = ways.filter((w) => this.byNode.has(w.first));
    if (live.length === 0) {
      this.routes.delete(id);
      return undefined;
    }
    this.routes.set(id, live);
    return live;
  }

  private emit(to: Neighbour, trail: readonly Uint8Array[], route: readonly Uint8Array[], payload: Uint8Array): void {
    this.stats.framesOut++;
    to.link.send(writeRouted(trail, route, payload));
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

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether `path` names the IDs of `trail` last to first. */
function isReversed(path: Uint8Array, trail: readonly Uint8Array[]): boolean {
  for (let i = 0; i < trail.length; i++) if (!sameId(path, trail[trail.length - 1 - i]!, i * ID_BYTES)) return false;
  return true;
}
