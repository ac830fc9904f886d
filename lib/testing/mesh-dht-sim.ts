// A discrete-event simulation of the mesh healing itself through the DHT that runs over it: every
// simulated peer runs the real MeshDiscovery (so the real DhtNode and MeshDhtTransport), its DHT
// frames travel hop by hop over in-memory neighbour links on a virtual clock, and a small mesh
// manager that mirrors lib/client/mesh.ts keeps each peer's neighbours. Seeded: a seed replays exactly.
//
// What is real: node records, announcements and relayed offers/answers are Ed25519-signed and
// verified with WebCrypto; hellos bind each neighbour's key to its peer ID; messages to non-neighbours
// follow the transport's learned ways; lookups, joins, announcements, liveness pings, relays, and the
// manager's policy (target and cap, candidates → ping → offer to one more than wanted, a full peer
// answers busy, a 60 s pause after a failed dial, a refill on every lost neighbour and every 10 s).
//
// What is simulated or faked (say so when quoting figures):
//   - keys derive from the seed (identityFromSeed), the DHT's randomness from a seeded stream;
//   - one VerifiedCache is shared by all peers (each signed object is verified once per run, not
//     once per peer: the same results, far less CPU and memory);
//   - a neighbour link is an in-memory pair of OverlayLinks (no SyncEngine, no WebRTC): frames arrive
//     in order after 20–80 ms; a WebRTC connection is "made" 100–300 ms after the answer arrives;
//   - the signaling hub exists only during the bootstrap phase: it hands a joining peer a sample of
//     3–12 joined peers and relays their offer/answer (100 ms each way); then it stops for good;
//   - a peer joining after that is handed an invitation: direct links to up to 3 live peers that have
//     room, the first an honest one (the friend who shared the link), the others random; all further
//     links come through the DHT; components count only peers that joined at least 5 s before;
//   - departures are silent: neighbours notice after 1–15 s (ICE/keep-alive timeout) and drop the
//     link; every departure is replaced by a newcomer, so the population stays N;
//   - malicious peers (a fraction M) keep links and answer pings and offers like anyone (so they sit in
//     the mesh and in tables), but drop every frame they should forward for others, and as DHT nodes
//     half of them drop find-node/find-value/store/relay requests ("drop") and half answer them with
//     the colluders closest to the target ("misroute"), acknowledging relays and stores they drop;
//     they know each other through global knowledge, which only makes them stronger;
//   - WebCrypto work finishes "instantly" in virtual time: after each event the simulation waits for
//     signatures in flight and resumes their continuations in the order they were asked for.
import type { PeerId } from '../core/ids';
import type { DhtConfig } from '../discovery/dht/config';
import { VerifiedCache, webCryptoVerifier, type DhtSigner, type SignatureVerifier } from '../discovery/dht/crypto';
import { MeshDiscovery, type Candidate, type IncomingSignal } from '../discovery/dht/mesh-discovery';
import { routedAhead } from '../discovery/dht/mesh-frame';
import { decodeMessage, encodeMessage, type DhtMessage } from '../discovery/dht/messages';
import { compareDistance, type NodeId } from '../discovery/dht/node-id';
import { topicKey, type NodeRecord } from '../discovery/dht/records';
import type { DhtInbound, Scheduler } from '../discovery/dht/transport';
import type { OverlayLink } from '../net/overlay';
import { hopsBound, percentile, simIdentities, VirtualClock } from './dht-sim';
import { seededRng, type Rng } from './rng';

export type MeshMisbehaviour = 'drop' | 'misroute';

export interface MeshDhtSimOptions {
  seed: number;
  peers: number;
  /** Fraction of peers replaced per simulated minute (0.1 = 10 %). */
  churnPerMinute: number;
  /** Fraction of peers that misbehave (see the header). */
  malicious: number;
  /** Measured minutes (with churn, lookups and samples of the mesh). */
  minutes: number;
  /** Minutes of churn after the hub stopped, before measuring (default 1). */
  warmupMinutes?: number;
  /** Minutes without churn at the end, before the last sample of the mesh (default 2). */
  healMinutes?: number;
  lookupsPerMinute: number;
  /** FIND_VALUE lookups of the network's topic per minute (default lookupsPerMinute / 4). */
  valueLookupsPerMinute?: number;
  /** Neighbours each peer aims for, and its cap (default 6 and 12, as in the browser). */
  targetPeers?: number;
  maxPeers?: number;
  /** How long the hub lets peers join (they arrive evenly), then how long it stays up (defaults 60 s, 60 s). */
  bootstrapJoinMs?: number;
  bootstrapSettleMs?: number;
  config?: Partial<DhtConfig>;
  onProgress?: (line: string) => void;
  /** How often the bootstrap reports progress (virtual ms, default a minute). */
  progressEveryMs?: number;
}

export interface MeshSample {
  /** Minutes since the hub stopped. */
  minute: number;
  live: number;
  honest: number;
  /** Connected components of the honest live peers (links between honest live peers only). */
  components: number;
  largest: number;
  /** Honest peers with no honest neighbour. */
  isolated: number;
  /** Components of all live peers (malicious ones included). */
  componentsAll: number;
  /** Honest peers below the target number of neighbours. */
  belowTarget: number;
}

export interface MeshDhtSimReport {
  seed: number;
  peers: number;
  churnPerMinute: number;
  malicious: number;
  targetPeers: number;
  maxPeers: number;
  lookups: { total: number; succeeded: number; successRate: number; hopsMedian: number; hopsP99: number; messagesPerLookup: number; framesPerLookup: number };
  values: { total: number; succeeded: number; successRate: number };
  /** Offers and answers relayed through the DHT, and how many reached their peer. */
  signals: { sent: number; delivered: number; deliveryRate: number };
  links: {
    viaHub: number;
    viaDht: number;
    viaInvite: number;
    dhtDials: number;
    busy: number;
    dialTimeouts: number;
    /** Refills through the DHT that found no one new to dial (then the hub was wanted). */
    noCandidates: number;
    /** Times a peer wanted the hub after it stopped. */
    hubWanted: number;
    /** Refills through the DHT that had candidates, and the liveness pings they sent (every fresh candidate is pinged, as in mesh.ts). */
    dhtRefills: number;
    alivePings: number;
  };
  mesh: { samples: MeshSample[]; end: MeshSample; alwaysOneComponent: boolean; endOneComponent: boolean };
  /** From losing a neighbour (below target) to being back at the target, honest peers after the hub stopped. */
  heal: { episodes: number; medianMs: number; p99Ms: number; unfinished: number; newcomerToTargetMedianMs: number };
  transport: { frames: number; hellos: number; bytes: number; lost: number; framesPerMessage: number; dhtMessages: number; drops: Record<string, number>; maliciousDropped: number };
  /** DHT events summed over every node ("drop:<reason>" and others). */
  events: Record<string, number>;
  errors: string[];
  floors: { hopsBound: number; successFloor: number; successMet: boolean; hopsMet: boolean; meshMet: boolean };
  eventsProcessed: number;
  virtualMinutes: number;
}

const MINUTE = 60_000;
const NETWORK = 'sim';
/** As lib/client/mesh.ts. */
const DHT_CONNECT_TIMEOUT_MS = 10_000;
const ACCEPT_TIMEOUT_MS = 20_000;
const DIAL_FAILURE_PAUSE_MS = 60_000;
const SAMPLE_BACKOFF_MS = 10_000;
const SAMPLE_BACKOFF_MAX_MS = 5 * 60_000;
const REFILL_EVERY_MS = 10_000;
const HUB_HOP_MS = 100;
/** Newcomers younger than this are left out of the mesh's components (their links are being set up). */
const SETTLING_MS = 5_000;
/** A non-trickle SDP is about this big; the relay envelope carries it end to end. */
const SDP_PADDING = 'x'.repeat(500);
/** Microtask turns given to promise chains after each event (mesh frames wait on hellos, lookups on verifications). */
const MICROTASK_TURNS = 8;

type Via = 'hub' | 'dht' | 'invite';

interface SimLink extends OverlayLink {
  readonly owner: MeshPeer;
  readonly other: MeshPeer;
  remote: SimLink | undefined;
  up: boolean;
  lastArrival: number;
}

interface Conn {
  state: 'dialing' | 'accepting' | 'open';
  via: Via;
  dial: number;
  link?: SimLink;
  cancel?: () => void;
}

interface MeshPeer {
  index: number;
  peerId: PeerId;
  id: NodeId;
  record: NodeRecord;
  disc: MeshDiscovery;
  misbehaviour: MeshMisbehaviour | undefined;
  alive: boolean;
  joined: boolean;
  joinedAt: number;
  conns: Map<MeshPeer, Conn>;
  dialFailures: Map<PeerId, number>;
  refilling: boolean;
  nextSampleAt: number;
  sampleBackoff: number;
  belowSince: number | undefined;
  reachedTarget: boolean;
}

/**
 * Lets WebCrypto promises resolve in a fixed order on the virtual clock: each sign or verify is
 * queued, and after every event the queue is awaited and its promises resolved in the order asked,
 * so a run replays exactly whatever order the thread pool finishes in.
 */
class CryptoGate {
  private queue: Array<{ real: Promise<unknown>; resolve: (v: unknown) => void; reject: (e: unknown) => void }> = [];

  defer<T>(real: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ real, resolve: resolve as (v: unknown) => void, reject });
    });
  }

  private settling = false;

  async settle(): Promise<void> {
    // Two loops at once would resolve batches in the thread pool's order, and a loop spinning on
    // an empty queue would starve the pool: callers settle one at a time.
    if (this.settling) throw new Error('simulation: crypto settled from two places at once');
    this.settling = true;
    try {
      await this.settleLoop();
    } finally {
      this.settling = false;
    }
  }

  private async settleLoop(): Promise<void> {
    for (;;) {
      for (let i = 0; i < MICROTASK_TURNS; i++) await undefined;
      if (this.queue.length === 0) return;
      const batch = this.queue.splice(0);
      const results = await Promise.allSettled(batch.map((b) => b.real));
      for (const [i, b] of batch.entries()) {
        const r = results[i]!;
        if (r.status === 'fulfilled') b.resolve(r.value);
        else b.reject(r.reason);
      }
    }
  }

  /** Settles until `p` is done: only for work that needs crypto, never virtual time (nor another drive). */
  async drive<T>(p: Promise<T>): Promise<T> {
    let done = false;
    const tracked = p.finally(() => {
      done = true;
    });
    for (let i = 0; !done; i++) {
      if (i > 10_000) throw new Error('simulation: a promise waited on virtual time inside an event');
      await this.settle();
    }
    return tracked;
  }
}

function shuffle<T>(items: T[], rng: Rng): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
}

export async function runMeshDhtSim(options: MeshDhtSimOptions): Promise<MeshDhtSimReport> {
  const rng = seededRng(options.seed);
  const clock = new VirtualClock();
  const gate = new CryptoGate();
  const progress = options.onProgress ?? (() => {});
  const target = options.targetPeers ?? 6;
  const maxPeers = options.maxPeers ?? 12;
  const warmup = options.warmupMinutes ?? 1;
  const healMinutes = options.healMinutes ?? 2;
  const joinMs = options.bootstrapJoinMs ?? 60_000;
  const settleMs = options.bootstrapSettleMs ?? 60_000;
  const config = options.config ?? {};
  const errors: string[] = [];
  const onError = (err: unknown) => {
    if (errors.length < 20) errors.push(String(err instanceof Error ? (err.stack ?? err.message) : err));
  };

  // One cache and one verifier for all peers (see the header).
  const cache = new VerifiedCache(2_000_000);
  let verifications = 0;
  const verifier: SignatureVerifier = {
    verify: (pk, data, sig) => {
      verifications++;
      return gate.defer(webCryptoVerifier.verify(pk, data, sig));
    },
  };
  const gatedSigner = (s: DhtSigner): DhtSigner => ({ publicKey: s.publicKey, sign: (data) => gate.defer(s.sign(data)) });

  /** Every event (ours and the DHT's timers) is followed by settling crypto and promise chains. */
  const at = (ms: number, fn: () => void | Promise<void>): (() => void) =>
    clock.setTimeout(() => {
      let r: void | Promise<void> = undefined;
      try {
        r = fn();
      } catch (err) {
        onError(err);
      }
      // Work an event starts may only wait for crypto, never for virtual time: it is driven to its
      // end here, so that no second settling loop runs beside the clock's (that would not replay).
      if (r instanceof Promise) return gate.drive(r).catch(onError).then(() => gate.settle());
      return gate.settle();
    }, ms);
  const scheduler: Scheduler = { now: () => clock.now(), setTimeout: (fn, ms) => at(ms, fn) };

  const joinsExpected = Math.ceil(options.peers * options.churnPerMinute * (warmup + options.minutes)) + 8;
  progress(`generating ${options.peers + joinsExpected} identities`);
  const identities = await simIdentities(rng, options.peers + joinsExpected);
  let nextIdentity = 0;

  const peers: MeshPeer[] = [];
  const byPeerId = new Map<PeerId, MeshPeer>();
  const live: MeshPeer[] = [];
  let hubRunning = true;
  let hubStoppedAt = Number.POSITIVE_INFINITY;
  let measuring = false;
  let dialSeq = 0;

  const stats = {
    frames: 0,
    hellos: 0,
    bytes: 0,
    lost: 0,
    maliciousDropped: 0,
    viaHub: 0,
    viaDht: 0,
    viaInvite: 0,
    dhtDials: 0,
    busy: 0,
    dialTimeouts: 0,
    noCandidates: 0,
    hubWanted: 0,
    dhtRefills: 0,
    alivePings: 0,
    signalsSent: 0,
    signalsDelivered: 0,
    dhtMessagesAtStart: 0,
    routedAtStart: 0,
  };
  const meshDrops: Record<string, number> = {};
  const healTimes: number[] = [];
  const newcomerTimes: number[] = [];

  // ---- malicious peers --------------------------------------------------------------------------

  let colluders: NodeRecord[] = [];
  let colludersDirty = true;
  const closestColluders = (key: Uint8Array, n: number, except: NodeId): NodeRecord[] => {
    if (colludersDirty) {
      colluders = live.filter((p) => p.misbehaviour !== undefined).map((p) => p.record);
      colludersDirty = false;
    }
    return [...colluders]
      .filter((r) => r.id !== except)
      .sort((a, b) => compareDistance(a.key, b.key, key))
      .slice(0, n);
  };

  /** What a malicious node does with a DHT message instead of the honest handler (undefined: handle it honestly). */
  const misbehave = (p: MeshPeer, from: NodeId, m: DhtMessage): DhtMessage | null | undefined => {
    if (m.type === 'ping' || m.type === 'pong' || m.type === 'nodes' || m.type === 'value' || m.type === 'stored' || m.type === 'relayed') return undefined;
    // Offers addressed to it are taken, so it gains neighbours; others' are acknowledged and dropped.
    if (m.type === 'relay') return m.envelope.toId === p.id ? undefined : { type: 'relayed', rpc: m.rpc };
    if (m.type === 'store') return p.misbehaviour === 'drop' ? null : { type: 'stored', rpc: m.rpc, ok: true };
    if (p.misbehaviour === 'drop') return null;
    const key = m.type === 'find-node' ? m.target : m.key;
    const contacts = closestColluders(key, 20, from);
    return m.type === 'find-node' ? { type: 'nodes', rpc: m.rpc, contacts } : { type: 'value', rpc: m.rpc, records: [], contacts };
  };

  // ---- peers --------------------------------------------------------------------------------------

  const createPeer = async (misbehaviour: MeshMisbehaviour | undefined): Promise<MeshPeer> => {
    const identity = identities[nextIdentity++];
    if (identity === undefined) throw new Error('simulation ran out of identities');
    const index = peers.length;
    const nodeRng = seededRng((options.seed * 2654435761 + index * 40503 + 7) >>> 0);
    const disc = new MeshDiscovery({
      signer: gatedSigner(identity.signer),
      peerId: identity.peerId,
      network: NETWORK,
      scheduler,
      verifier,
      cache,
      random: (n) => nodeRng.bytes(n),
      config,
    });
    if (misbehaviour !== undefined) {
      // The node's one listener is wrapped before start() subscribes it.
      const transport = disc.transport;
      const subscribe = transport.onMessage.bind(transport);
      transport.onMessage = (listener) =>
        subscribe((inbound: DhtInbound) => {
          const d = decodeMessage(inbound.bytes, cache);
          if (!d.ok) return listener(inbound);
          const answer = misbehave(peer, inbound.from, d.message);
          if (answer === undefined) return listener(inbound);
          if (answer !== null) transport.send(inbound.from, encodeMessage(answer));
        });
    }
    await disc.start();
    const peer: MeshPeer = {
      index,
      peerId: identity.peerId,
      id: disc.id,
      record: disc.node.record,
      disc,
      misbehaviour,
      alive: true,
      joined: false,
      joinedAt: clock.now(),
      conns: new Map(),
      dialFailures: new Map(),
      refilling: false,
      nextSampleAt: 0,
      sampleBackoff: SAMPLE_BACKOFF_MS,
      belowSince: undefined,
      reachedTarget: false,
    };
    disc.onSignal((s) => onSignal(peer, s));
    peers.push(peer);
    byPeerId.set(peer.peerId, peer);
    if (misbehaviour !== undefined) colludersDirty = true;
    const tick = () => {
      if (!peer.alive) return;
      refill(peer);
      at(REFILL_EVERY_MS, tick);
    };
    at(rng.next() * REFILL_EVERY_MS, tick);
    return peer;
  };

  const pickMisbehaviour = (): MeshMisbehaviour | undefined => (rng.chance(options.malicious) ? (rng.chance(0.5) ? 'drop' : 'misroute') : undefined);

  const openCount = (p: MeshPeer) => {
    let n = 0;
    for (const c of p.conns.values()) if (c.state === 'open') n++;
    return n;
  };

  const noteLinks = (p: MeshPeer) => {
    if (p.misbehaviour !== undefined || !p.alive || clock.now() < hubStoppedAt) return;
    const open = openCount(p);
    if (open >= target) {
      if (p.belowSince !== undefined) healTimes.push(clock.now() - p.belowSince);
      p.belowSince = undefined;
      if (!p.reachedTarget) {
        p.reachedTarget = true;
        if (p.joinedAt >= hubStoppedAt) newcomerTimes.push(clock.now() - p.joinedAt);
      }
    }
  };

  // ---- links --------------------------------------------------------------------------------------

  const makeLink = (owner: MeshPeer, other: MeshPeer): SimLink => {
    const link: SimLink = {
      peerId: other.peerId,
      kind: 'memory',
      owner,
      other,
      remote: undefined,
      up: true,
      lastArrival: 0,
      send: (frame) => sendFrame(link, frame),
    };
    return link;
  };

  const sendFrame = (link: SimLink, frame: Uint8Array) => {
    if (!link.up || !link.owner.alive) return;
    if (frame[2] === 1) stats.hellos++;
    else stats.frames++;
    stats.bytes += frame.length;
    // A data channel is ordered: a frame never overtakes the one before it.
    const arrival = Math.max(clock.now() + 20 + rng.next() * 60, link.lastArrival);
    link.lastArrival = arrival;
    at(arrival - clock.now(), () => {
      const remote = link.remote!;
      if (!link.other.alive || !remote.up) {
        stats.lost++;
        return;
      }
      receiveFrame(link.other, remote, frame);
    });
  };

  const receiveFrame = (p: MeshPeer, link: SimLink, frame: Uint8Array) => {
    if (p.misbehaviour !== undefined) {
      // Read in place: which frames it swallows needs no decoding (and the run's CPU is in frames).
      if (routedAhead(frame) > 1) {
        stats.maliciousDropped++;
        return;
      }
    }
    const reason = p.disc.transport.receive(link, frame);
    if (reason !== undefined) meshDrops[`bad-frame:${reason}`] = (meshDrops[`bad-frame:${reason}`] ?? 0) + 1;
  };

  const openLink = (a: MeshPeer, b: MeshPeer, via: Via) => {
    for (const [x, y] of [
      [a, b],
      [b, a],
    ] as const) {
      const c = x.conns.get(y);
      c?.cancel?.();
    }
    const la = makeLink(a, b);
    const lb = makeLink(b, a);
    la.remote = lb;
    lb.remote = la;
    a.conns.set(b, { state: 'open', via, dial: 0, link: la });
    b.conns.set(a, { state: 'open', via, dial: 0, link: lb });
    if (via === 'hub') stats.viaHub++;
    else if (via === 'dht') stats.viaDht++;
    else stats.viaInvite++;
    a.disc.transport.linkUp(la);
    b.disc.transport.linkUp(lb);
    noteLinks(a);
    noteLinks(b);
  };

  /** `a` noticed that its link to `b` is dead. */
  const closeLink = (a: MeshPeer, b: MeshPeer) => {
    const c = a.conns.get(b);
    if (!a.alive || c === undefined || c.state !== 'open') return;
    a.conns.delete(b);
    c.link!.up = false;
    a.disc.transport.linkDown(c.link!);
    if (a.misbehaviour === undefined && clock.now() >= hubStoppedAt && a.belowSince === undefined && openCount(a) < target) a.belowSince = clock.now();
    refill(a);
  };

  const depart = (p: MeshPeer) => {
    p.alive = false;
    const i = live.indexOf(p);
    if (i >= 0) {
      live[i] = live[live.length - 1]!;
      live.pop();
    }
    if (p.misbehaviour !== undefined) colludersDirty = true;
    p.disc.stop();
    for (const [q, c] of p.conns) {
      c.cancel?.();
      if (c.state !== 'open') continue;
      c.link!.up = false;
      at(1_000 + rng.next() * 14_000, () => closeLink(q, p));
    }
    p.conns.clear();
  };

  // ---- the mesh manager (lib/client/mesh.ts's policy) --------------------------------------------

  const wanted = (p: MeshPeer) => Math.min(target, maxPeers) - p.conns.size;

  const dialable = (p: MeshPeer, q: MeshPeer | undefined): q is MeshPeer => {
    if (q === undefined || q === p) return false;
    const failed = p.dialFailures.get(q.peerId);
    if (failed !== undefined && failed + DIAL_FAILURE_PAUSE_MS <= clock.now()) p.dialFailures.delete(q.peerId);
    return !p.conns.has(q) && !p.dialFailures.has(q.peerId);
  };

  const refill = (p: MeshPeer) => {
    if (!p.alive || !p.joined) return;
    if (wanted(p) <= 0) {
      p.sampleBackoff = SAMPLE_BACKOFF_MS;
      return;
    }
    if (p.disc.ready) void refillFromDht(p);
    else sampleFromHub(p);
  };

  const sampleFromHub = (p: MeshPeer) => {
    if (p.disc.ready) {
      if (clock.now() < p.nextSampleAt) return;
      p.nextSampleAt = clock.now() + p.sampleBackoff;
      p.sampleBackoff = Math.min(p.sampleBackoff * 2, SAMPLE_BACKOFF_MAX_MS);
    }
    if (!hubRunning) {
      stats.hubWanted++;
      return;
    }
    const pool = live.filter((q) => q.joined && q !== p);
    const n = 3 + rng.int(10);
    for (let i = 0; i < n && pool.length > 0; i++) {
      const q = pool.splice(rng.int(pool.length), 1)[0]!;
      if (wanted(p) <= 0) return;
      if (dialable(p, q)) hubDial(p, q);
    }
  };

  /** Offer and answer through the hub: it relays both at once, and the target turns it down when full. */
  const hubDial = (p: MeshPeer, q: MeshPeer) => {
    const conn: Conn = { state: 'dialing', via: 'hub', dial: ++dialSeq };
    p.conns.set(q, conn);
    const fail = (busy: boolean) => {
      if (p.conns.get(q) !== conn) return;
      p.conns.delete(q);
      p.dialFailures.set(q.peerId, clock.now());
      if (busy) stats.busy++;
      refill(p);
    };
    conn.cancel = at(ACCEPT_TIMEOUT_MS, () => fail(false));
    at(HUB_HOP_MS, () => {
      if (!q.alive || !hubRunning || p.conns.get(q) !== conn) return;
      if (q.conns.has(p)) return; // glare or already linked: the other attempt wins
      if (q.conns.size >= maxPeers) return void at(HUB_HOP_MS, () => fail(true));
      const accepting: Conn = { state: 'accepting', via: 'hub', dial: conn.dial };
      q.conns.set(p, accepting);
      accepting.cancel = at(ACCEPT_TIMEOUT_MS, () => {
        if (q.conns.get(p) === accepting) {
          q.conns.delete(p);
          refill(q);
        }
      });
      at(HUB_HOP_MS + 100 + rng.next() * 200, () => {
        if (p.alive && q.alive && p.conns.get(q) === conn && q.conns.get(p) === accepting) openLink(p, q, 'hub');
      });
    });
  };

  const refillFromDht = async (p: MeshPeer) => {
    if (p.refilling) return;
    p.refilling = true;
    try {
      const want = wanted(p);
      const exclude = new Set([...p.conns.keys()].map((q) => q.peerId));
      const candidates = await p.disc.candidates(exclude, want + 1);
      if (!p.alive) return;
      const fresh = candidates.filter((c) => dialable(p, byPeerId.get(c.peerId)));
      if (fresh.length === 0) {
        stats.noCandidates++;
        return sampleFromHub(p);
      }
      shuffle(fresh, rng);
      stats.dhtRefills++;
      stats.alivePings += fresh.length;
      let room = Math.min(want + 1, maxPeers - p.conns.size);
      await Promise.all(
        fresh.map(async (c) => {
          if (!(await p.disc.isAlive(c))) return;
          const q = byPeerId.get(c.peerId);
          if (!p.alive || room <= 0 || !dialable(p, q)) return;
          room--;
          dialThroughDht(p, q, c);
        }),
      );
    } finally {
      p.refilling = false;
    }
  };

  const signal = (from: MeshPeer, to: NodeId, kind: 'offer' | 'answer', body: Record<string, unknown>) => {
    stats.signalsSent++;
    const payload = new TextEncoder().encode(JSON.stringify({ ...body, sdp: SDP_PADDING }));
    from.disc.signal(to, kind, payload).catch(onError);
  };

  const dialThroughDht = (p: MeshPeer, q: MeshPeer, c: Candidate) => {
    const conn: Conn = { state: 'dialing', via: 'dht', dial: ++dialSeq };
    p.conns.set(q, conn);
    stats.dhtDials++;
    signal(p, c.nodeId, 'offer', { type: 'offer', dial: conn.dial });
    conn.cancel = at(DHT_CONNECT_TIMEOUT_MS, () => {
      if (p.conns.get(q) !== conn) return;
      p.conns.delete(q);
      p.dialFailures.set(q.peerId, clock.now());
      stats.dialTimeouts++;
      refill(p);
    });
  };

  const onSignal = (p: MeshPeer, s: IncomingSignal) => {
    if (!p.alive) return;
    stats.signalsDelivered++;
    const from = byPeerId.get(s.fromPeer);
    if (from === undefined) return;
    let body: { type?: unknown; dial?: unknown };
    try {
      body = JSON.parse(new TextDecoder().decode(s.payload)) as typeof body;
    } catch {
      return;
    }
    const existing = p.conns.get(from);
    if (body.type === 'busy') {
      if (existing?.state === 'dialing' && existing.dial === body.dial) {
        existing.cancel?.();
        p.conns.delete(from);
        p.dialFailures.set(from.peerId, clock.now());
        stats.busy++;
        refill(p);
      }
      return;
    }
    if (body.type === 'answer') {
      if (existing?.state !== 'dialing' || existing.dial !== body.dial) return;
      // The WebRTC connection opens a little after the answer (ICE).
      at(100 + rng.next() * 200, () => {
        const theirs = from.conns.get(p);
        if (p.alive && from.alive && p.conns.get(from) === existing && theirs?.state === 'accepting' && theirs.dial === existing.dial) openLink(p, from, 'dht');
      });
      return;
    }
    if (body.type !== 'offer') return;
    if (existing !== undefined) {
      // Both dialled each other at once: the smaller peer ID keeps its own attempt.
      if (existing.state !== 'dialing' || p.peerId < from.peerId) return;
      existing.cancel?.();
      p.conns.delete(from);
    }
    if (p.conns.size >= maxPeers) return signal(p, s.from, 'answer', { type: 'busy', dial: body.dial });
    const accepting: Conn = { state: 'accepting', via: 'dht', dial: Number(body.dial) };
    p.conns.set(from, accepting);
    accepting.cancel = at(ACCEPT_TIMEOUT_MS, () => {
      if (p.conns.get(from) !== accepting) return;
      p.conns.delete(from);
      refill(p);
    });
    signal(p, s.from, 'answer', { type: 'answer', dial: body.dial });
  };

  /** After the hub stopped: someone hands the newcomer an invitation to a few live peers. */
  const invite = (p: MeshPeer) => {
    const pool = live.filter((q) => q.joined && q !== p && q.conns.size < maxPeers);
    const inviters = pool.filter((q) => q.misbehaviour === undefined);
    for (let i = 0; i < 3 && pool.length > 0; i++) {
      // The first is whoever sent the invitation (an honest user), the others any live peers it names.
      const q = i === 0 && inviters.length > 0 ? inviters[rng.int(inviters.length)]! : pool[rng.int(pool.length)]!;
      pool.splice(pool.indexOf(q), 1);
      const conn: Conn = { state: 'dialing', via: 'invite', dial: ++dialSeq };
      p.conns.set(q, conn);
      q.conns.set(p, { state: 'accepting', via: 'invite', dial: conn.dial });
      at(100 + rng.next() * 200, () => {
        if (p.alive && q.alive && p.conns.get(q) === conn) openLink(p, q, 'invite');
        else {
          if (p.conns.get(q) === conn) p.conns.delete(q);
          if (q.conns.get(p)?.dial === conn.dial) q.conns.delete(p);
        }
      });
    }
  };

  const join = (p: MeshPeer) => {
    p.joined = true;
    p.joinedAt = clock.now();
    live.push(p);
    if (hubRunning) sampleFromHub(p);
    else invite(p);
  };

  // ---- measuring ----------------------------------------------------------------------------------

  const components = (honestOnly: boolean): { count: number; largest: number; isolated: number; members: number } => {
    // A peer that joined in the last few seconds is still opening its first links: not counted yet.
    const inGraph = (q: MeshPeer) => q.alive && q.joined && clock.now() - q.joinedAt >= SETTLING_MS && (!honestOnly || q.misbehaviour === undefined);
    const seen = new Set<MeshPeer>();
    let count = 0;
    let largest = 0;
    let isolated = 0;
    let members = 0;
    for (const start of live) {
      if (!inGraph(start) || seen.has(start)) continue;
      members++;
      count++;
      let size = 0;
      const stack = [start];
      seen.add(start);
      while (stack.length > 0) {
        const x = stack.pop()!;
        size++;
        for (const [y, c] of x.conns) {
          if (c.state !== 'open' || !inGraph(y) || seen.has(y)) continue;
          seen.add(y);
          stack.push(y);
        }
      }
      members += size - 1;
      if (size === 1) isolated++;
      largest = Math.max(largest, size);
    }
    return { count, largest, isolated, members };
  };

  const sample = (minute: number): MeshSample => {
    const honest = components(true);
    const all = components(false);
    const honestLive = live.filter((p) => p.joined && p.misbehaviour === undefined);
    return {
      minute,
      live: live.length,
      honest: honest.members,
      components: honest.count,
      largest: honest.largest,
      isolated: honest.isolated,
      componentsAll: all.count,
      belowTarget: honestLive.filter((p) => openCount(p) < target).length,
    };
  };

  const report = { lookups: 0, lookupOk: 0, hops: [] as number[], messages: 0, values: 0, valueOk: 0 };
  const asker = (): MeshPeer | undefined => {
    const pool = live.filter((p) => p.misbehaviour === undefined && p.disc.ready && openCount(p) > 0);
    return pool.length === 0 ? undefined : pool[rng.int(pool.length)];
  };
  const lookupOne = () => {
    const from = asker();
    // Targets joined at least 30 s ago (their join and announcement had time to finish).
    const targets = live.filter((p) => p.misbehaviour === undefined && p !== from && clock.now() - p.joinedAt >= 30_000);
    if (from === undefined || targets.length === 0) return;
    const to = targets[rng.int(targets.length)]!;
    const counted = measuring;
    from.disc.node.lookupWith(to.record.key, { stopWhenFound: true }, (r) => {
      if (!counted) return;
      report.lookups++;
      report.messages += r.queried + r.answered;
      if (r.found?.id === to.id && r.hops !== undefined) {
        report.lookupOk++;
        report.hops.push(r.hops);
      }
    });
  };
  const topic = topicKey('network', NETWORK);
  const valueOne = () => {
    const from = asker();
    if (from === undefined) return;
    const counted = measuring;
    from.disc.node.lookupWith(topic, { mode: 'value', stopWhenFound: true }, (r) => {
      if (!counted) return;
      report.values++;
      if (r.records.length > 0) report.valueOk++;
    });
  };

  const dhtMessages = () => peers.reduce((n, p) => n + p.disc.node.stats.sent, 0);

  // ---- the run ------------------------------------------------------------------------------------

  progress(`creating ${options.peers} peers`);
  for (let i = 0; i < options.peers; i++) await gate.drive(createPeer(i === 0 ? undefined : pickMisbehaviour()));
  const spacing = joinMs / options.peers;
  for (const [i, p] of peers.entries()) at(i * spacing, () => join(p));
  const t0 = clock.now();
  const hubStop = t0 + joinMs + settleMs;
  const step = options.progressEveryMs ?? MINUTE;
  for (let t = t0; t < hubStop; t += step) {
    await clock.runUntil(Math.min(hubStop, t + step));
    const s = sample(0);
    progress(
      `  bootstrap ${Math.round((clock.now() - t0) / 1000)} s: ${live.length} joined, ${s.components} component(s), ${s.belowTarget} below target, ${clock.processed} events, ${stats.frames} frames, ${dhtMessages()} DHT messages, ${stats.dhtDials} DHT dials`,
    );
  }
  hubRunning = false;
  hubStoppedAt = clock.now();
  for (const p of live) if (p.misbehaviour === undefined && openCount(p) < target) p.belowSince = clock.now();
  progress('  hub stopped: from now on links are made through the DHT');

  const churnOne = async () => {
    if (live.length === 0) return;
    depart(live[rng.int(live.length)]!);
    const fresh = await createPeer(pickMisbehaviour());
    join(fresh);
  };

  const samples: MeshSample[] = [];
  const valuesPerMinute = options.valueLookupsPerMinute ?? Math.ceil(options.lookupsPerMinute / 4);
  const totalMinutes = warmup + options.minutes;
  for (let minute = 0; minute < totalMinutes; minute++) {
    const start = clock.now();
    if (minute === warmup) {
      measuring = true;
      stats.dhtMessagesAtStart = dhtMessages();
      stats.routedAtStart = stats.frames;
      stats.signalsSent = 0;
      stats.signalsDelivered = 0;
    }
    const churn = Math.round(options.peers * options.churnPerMinute);
    for (let i = 0; i < churn; i++) at(rng.next() * MINUTE, churnOne);
    if (minute >= warmup) {
      for (let i = 0; i < options.lookupsPerMinute; i++) at(rng.next() * MINUTE, lookupOne);
      for (let i = 0; i < valuesPerMinute; i++) at(rng.next() * MINUTE, valueOne);
    }
    await clock.runUntil(start + MINUTE);
    const s = sample(minute + 1);
    if (minute >= warmup) samples.push(s);
    progress(
      `  minute ${minute + 1}/${totalMinutes}${minute < warmup ? ' (warm-up)' : ''}: ${live.length} live, ${s.components} honest component(s) (largest ${s.largest}/${s.honest}, ${s.isolated} isolated), ${s.belowTarget} below target, lookups ${report.lookupOk}/${report.lookups}, ${clock.processed} events`,
    );
  }
  // Let the last lookups finish; counted messages end here.
  await clock.runUntil(clock.now() + 30_000);
  measuring = false;
  const measuredMessages = dhtMessages() - stats.dhtMessagesAtStart;
  const measuredFrames = stats.frames - stats.routedAtStart;
  const signalsSent = stats.signalsSent;
  const signalsDelivered = stats.signalsDelivered;
  for (let m = 0; m < healMinutes; m++) {
    await clock.runUntil(clock.now() + MINUTE);
    progress(`  no churn, minute ${m + 1}/${healMinutes}: ${sample(0).belowTarget} below target`);
  }
  const end = sample(totalMinutes + healMinutes);

  const events: Record<string, number> = {};
  for (const p of peers) {
    for (const [e, n] of Object.entries(p.disc.node.stats.events)) events[e] = (events[e] ?? 0) + n;
    for (const [e, n] of Object.entries(p.disc.transport.stats.drops)) meshDrops[e] = (meshDrops[e] ?? 0) + n;
  }
  for (const p of live) p.disc.stop();

  const hops = [...report.hops].sort((a, b) => a - b);
  const heal = [...healTimes].sort((a, b) => a - b);
  const successRate = report.lookups === 0 ? 0 : report.lookupOk / report.lookups;
  const bound = hopsBound(options.peers);
  const hopsMedian = percentile(hops, 50);
  const framesPerMessage = measuredFrames / Math.max(1, measuredMessages);
  const messagesPerLookup = report.messages / Math.max(1, report.lookups);
  const alwaysOne = samples.every((s) => s.components === 1);
  const endOne = end.components === 1;
  return {
    seed: options.seed,
    peers: options.peers,
    churnPerMinute: options.churnPerMinute,
    malicious: options.malicious,
    targetPeers: target,
    maxPeers,
    lookups: {
      total: report.lookups,
      succeeded: report.lookupOk,
      successRate,
      hopsMedian,
      hopsP99: percentile(hops, 99),
      messagesPerLookup,
      framesPerLookup: messagesPerLookup * framesPerMessage,
    },
    values: { total: report.values, succeeded: report.valueOk, successRate: report.values === 0 ? 0 : report.valueOk / report.values },
    signals: { sent: signalsSent, delivered: signalsDelivered, deliveryRate: signalsSent === 0 ? 0 : signalsDelivered / signalsSent },
    links: {
      viaHub: stats.viaHub,
      viaDht: stats.viaDht,
      viaInvite: stats.viaInvite,
      dhtDials: stats.dhtDials,
      busy: stats.busy,
      dialTimeouts: stats.dialTimeouts,
      noCandidates: stats.noCandidates,
      hubWanted: stats.hubWanted,
      dhtRefills: stats.dhtRefills,
      alivePings: stats.alivePings,
    },
    mesh: { samples, end, alwaysOneComponent: alwaysOne, endOneComponent: endOne },
    heal: {
      episodes: heal.length,
      medianMs: percentile(heal, 50),
      p99Ms: percentile(heal, 99),
      unfinished: live.filter((p) => p.belowSince !== undefined).length,
      newcomerToTargetMedianMs: percentile([...newcomerTimes].sort((a, b) => a - b), 50),
    },
    transport: {
      frames: stats.frames,
      hellos: stats.hellos,
      bytes: stats.bytes,
      lost: stats.lost,
      framesPerMessage,
      dhtMessages: measuredMessages,
      drops: meshDrops,
      maliciousDropped: stats.maliciousDropped,
    },
    events: { ...events, verifications },
    errors,
    floors: { hopsBound: bound, successFloor: 0.99, successMet: successRate >= 0.99, hopsMet: hopsMedian <= bound, meshMet: alwaysOne && endOne },
    eventsProcessed: clock.processed,
    virtualMinutes: (clock.now() - t0) / MINUTE,
  };
}
