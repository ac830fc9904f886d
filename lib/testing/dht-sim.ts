// A discrete-event simulation of the DHT: the real node code (lib/discovery/dht) over in-memory
// transports and a virtual clock, with churn and malicious peers. Seeded: a seed replays exactly.
//
// What is real: every message is encoded, size-capped, decoded and validated; node records,
// announcements and relay envelopes are Ed25519-signed with WebCrypto, and verified with WebCrypto
// the first time each distinct signed object is seen; routing tables, lookups (α, d disjoint paths),
// liveness checks, per-source limits, bucket refresh, stores and relays all run the production code.
//
// What is simulated or faked (say so when quoting figures):
//   - keys derive from the seed (identityFromSeed), not from a CSPRNG;
//   - one verification cache is shared by all simulated nodes: a signed object is verified once
//     per run instead of once per node (the result is the same; only the CPU cost is saved);
//   - the transport delivers straight from node to node (no mesh, no hop-by-hop relay, no
//     connection setup), after a uniform random latency; `from` is trusted as the transport's;
//   - a departing peer crashes silently (no goodbye), a joining peer is handed 3 random live peers'
//     records (as signaling would hand it a sample);
//   - with bootstrap 'oracle', the first N peers start with routing tables filled from global
//     knowledge (up to k random peers per bucket range) instead of joining one by one; peers
//     that join later always join for real;
//   - malicious peers collude through global knowledge (they know every malicious peer), which
//     only makes them stronger.
import { toHex } from '../core/bytes';
import type { PeerId } from '../core/ids';
import { identityFromSeed, signerFromIdentity } from '../crdt/envelope';
import type { DhtConfig } from '../discovery/dht/config';
import { DEFAULT_CONFIG } from '../discovery/dht/config';
import { dhtSignerFrom, VerifiedCache, webCryptoVerifier, type DhtSigner } from '../discovery/dht/crypto';
import { MemoryDhtNetwork } from '../discovery/dht/memory-transport';
import { decodeMessage, encodeMessage, type DhtMessage } from '../discovery/dht/messages';
import { DhtNode } from '../discovery/dht/node';
import { compareDistance, type NodeId } from '../discovery/dht/node-id';
import type { LookupResult } from '../discovery/dht/query/lookup';
import { createNodeRecord, nodeRecordFrom, topicKey, type NodeRecord } from '../discovery/dht/records';
import type { DhtInbound, DhtTransport, Scheduler } from '../discovery/dht/transport';
import { seededRng, type Rng } from './rng';

// ---- virtual time ---------------------------------------------------------------------------

interface SimEvent {
  t: number;
  seq: number;
  fn: () => void | Promise<void>;
  cancelled: boolean;
}

/** A virtual clock with an event queue (binary heap on time, then insertion order). */
export class VirtualClock implements Scheduler {
  private heap: SimEvent[] = [];
  private seq = 0;
  time: number;
  processed = 0;

  constructor(start = 1_700_000_000_000) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void | Promise<void>, ms: number): () => void {
    const ev: SimEvent = { t: this.time + Math.max(0, Math.ceil(ms)), seq: this.seq++, fn, cancelled: false };
    this.push(ev);
    return () => {
      ev.cancelled = true;
    };
  }

  get pending(): number {
    return this.heap.length;
  }

  /** Runs events in order until the queue is empty or the next one is after `until`; awaits each. */
  async runUntil(until: number, maxEvents = Number.POSITIVE_INFINITY): Promise<void> {
    let n = 0;
    while (this.heap.length > 0 && this.heap[0]!.t <= until) {
      if (n++ >= maxEvents) throw new Error('virtual clock: too many events');
      const ev = this.pop();
      if (ev.cancelled) continue;
      this.time = ev.t;
      this.processed++;
      const r = ev.fn();
      if (r !== undefined) await r;
    }
    if (until !== Number.POSITIVE_INFINITY && this.time < until) this.time = until;
  }

  /** Runs until nothing is left (timers included). */
  runAll(maxEvents = 10_000_000): Promise<void> {
    return this.runUntil(Number.POSITIVE_INFINITY, maxEvents);
  }

  private less(a: SimEvent, b: SimEvent): boolean {
    return a.t < b.t || (a.t === b.t && a.seq < b.seq);
  }

  private push(ev: SimEvent): void {
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): SimEvent {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

// ---- identities -----------------------------------------------------------------------------

export interface SimIdentity {
  signer: DhtSigner;
  peerId: PeerId;
}

/** Deterministic Ed25519 identities (real WebCrypto keys from seeded bytes), made in parallel batches. */
export async function simIdentities(rng: Rng, count: number): Promise<SimIdentity[]> {
  const seeds = Array.from({ length: count }, () => ({ seed: rng.bytes(32), peerId: toHex(rng.bytes(16)) as PeerId }));
  const out: SimIdentity[] = [];
  for (let i = 0; i < seeds.length; i += 64) {
    const batch = await Promise.all(
      seeds.slice(i, i + 64).map(async ({ seed, peerId }) => ({ signer: dhtSignerFrom(await signerFromIdentity(await identityFromSeed(seed), '')), peerId })),
    );
    out.push(...batch);
  }
  return out;
}

// ---- the simulation -------------------------------------------------------------------------

export type Misbehaviour = 'drop' | 'misroute' | 'far' | 'bogus';
const MISBEHAVIOURS: readonly Misbehaviour[] = ['drop', 'misroute', 'far', 'bogus'];

export interface DhtSimOptions {
  seed: number;
  peers: number;
  /** Fraction of peers replaced per simulated minute (0.1 = 10 %). */
  churnPerMinute: number;
  /** Fraction of peers that misbehave (drop, misroute to colluders, answer far or forged contacts). */
  malicious: number;
  /** Measured minutes (with churn and lookups). */
  minutes: number;
  /** Minutes of churn before measuring (default 1). */
  warmupMinutes?: number;
  lookupsPerMinute: number;
  /** FIND_VALUE lookups per minute over announced topics (default lookupsPerMinute / 4). */
  valueLookupsPerMinute?: number;
  /** Topics announced (each by several honest peers), default 8. */
  topics?: number;
  /** Relayed signals per minute (default lookupsPerMinute / 4); delivered means within 30 s. */
  signalsPerMinute?: number;
  /** One-way latency range, ms (default 20–120). */
  latencyMs?: readonly [number, number];
  bootstrap?: 'join' | 'oracle';
  config?: Partial<DhtConfig>;
  onProgress?: (line: string) => void;
}

export interface DhtSimReport {
  seed: number;
  peers: number;
  churnPerMinute: number;
  malicious: number;
  bootstrap: 'join' | 'oracle';
  config: { k: number; alpha: number; paths: number };
  lookups: { total: number; succeeded: number; successRate: number; hopsMedian: number; hopsP99: number; rpcsPerLookup: number; messagesPerLookup: number; failedPerLookup: number };
  values: { total: number; succeeded: number; successRate: number };
  signals: { total: number; delivered: number; deliveryRate: number; viaLookup: number };
  network: {
    messages: number;
    bytes: number;
    messagesPerPeerPerMinute: number;
    joins: number;
    departures: number;
    verifications: number;
    /** Messages sent while measuring, by type. */
    byType: Record<string, number>;
  };
  /** Drops and other events summed over every node. */
  events: Record<string, number>;
  floors: { hopsBound: number; successFloor: number; successMet: boolean; hopsMet: boolean };
  /** Virtual events processed. */
  events_processed: number;
}

interface SimPeer {
  index: number;
  identity: SimIdentity;
  node: DhtNode;
  record: NodeRecord;
  misbehaviour: Misbehaviour | undefined;
  alive: boolean;
  ready: boolean;
}

const MINUTE = 60_000;

/** Nearest-rank percentile of sorted numbers. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function hopsBound(peers: number): number {
  return Math.ceil(Math.log(peers) / Math.log(16)) + 1;
}

export async function runDhtSim(options: DhtSimOptions): Promise<DhtSimReport> {
  const rng = seededRng(options.seed);
  const clock = new VirtualClock();
  const config: DhtConfig = { ...DEFAULT_CONFIG, ...options.config };
  const cache = new VerifiedCache(1_000_000);
  let verifications = 0;
  const verifier = {
    verify: (pk: Uint8Array, data: Uint8Array, sig: Uint8Array) => {
      verifications++;
      return webCryptoVerifier.verify(pk, data, sig);
    },
  };
  const [minLatency, maxLatency] = options.latencyMs ?? [20, 120];
  const bootstrapMode = options.bootstrap ?? 'join';
  const warmup = options.warmupMinutes ?? 1;
  const joinsExpected = Math.ceil(options.peers * options.churnPerMinute * (warmup + options.minutes)) + 8;
  const progress = options.onProgress ?? (() => {});

  progress(`generating ${options.peers + joinsExpected} identities`);
  const identities = await simIdentities(rng, options.peers + joinsExpected);
  let nextIdentity = 0;

  let measuring = false;
  const TYPE_NAMES = ['?', 'ping', 'pong', 'find-node', 'nodes', 'find-value', 'value', 'store', 'stored', 'relay', 'relayed'];
  const byType: Record<string, number> = {};
  const network = new MemoryDhtNetwork({
    deliver: (run, _from, _to, bytes) => {
      if (measuring) {
        const t = TYPE_NAMES[bytes[2] ?? 0] ?? '?';
        byType[t] = (byType[t] ?? 0) + 1;
      }
      clock.setTimeout(run, minLatency + rng.next() * (maxLatency - minLatency));
    },
  });

  const peers: SimPeer[] = [];
  const byId = new Map<NodeId, SimPeer>();
  const live: SimPeer[] = [];
  const removeLive = (p: SimPeer) => {
    const i = live.indexOf(p);
    if (i >= 0) {
      live[i] = live[live.length - 1]!;
      live.pop();
    }
  };

  // Malicious peers' colluding view: their records sorted by ID.
  let colluders: NodeRecord[] = [];
  let colludersDirty = true;
  const closestColluders = (target: Uint8Array, n: number): NodeRecord[] => {
    if (colludersDirty) {
      colluders = peers.filter((p) => p.alive && p.misbehaviour !== undefined).map((p) => p.record);
      colluders.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      colludersDirty = false;
    }
    const t = toHex(target);
    let lo = 0;
    let hi = colluders.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (colluders[mid]!.id < t) lo = mid + 1;
      else hi = mid;
    }
    const window = colluders.slice(Math.max(0, lo - 2 * n), lo + 2 * n);
    window.sort((a, b) => compareDistance(a.key, b.key, target));
    return window.slice(0, n);
  };
  const forgedCache = new Map<NodeId, NodeRecord>();
  const forge = (r: NodeRecord): NodeRecord => {
    let f = forgedCache.get(r.id);
    if (f === undefined) {
      const raw = r.raw.slice();
      raw[raw.length - 1]! ^= 0x01;
      f = nodeRecordFrom(raw)!;
      forgedCache.set(r.id, f);
    }
    return f;
  };

  /** What a malicious peer does with a request instead of the honest handler (undefined: handle honestly). */
  const misbehave = (p: SimPeer, from: NodeId, m: DhtMessage): DhtMessage | null | undefined => {
    const how = p.misbehaviour!;
    if (m.type === 'ping' || m.type === 'pong' || m.type === 'nodes' || m.type === 'value' || m.type === 'stored' || m.type === 'relayed') return undefined;
    // Acknowledge a relay (so nobody tries another hop), then drop it.
    if (m.type === 'relay') return { type: 'relayed', rpc: m.rpc };
    if (m.type === 'store') return how === 'drop' ? null : { type: 'stored', rpc: m.rpc, ok: true };
    if (how === 'drop') return null;
    const target = m.type === 'find-node' ? m.target : m.key;
    const k = config.k;
    let contacts: NodeRecord[];
    if (how === 'misroute') contacts = closestColluders(target, k).filter((r) => r.id !== from);
    else {
      const all = [...p.node.table.contacts()].map((c) => c.record);
      all.sort((a, b) => compareDistance(b.key, a.key, target)); // farthest first
      contacts = how === 'far' ? all.slice(0, k) : all.slice(-k).reverse().map(forge);
    }
    return m.type === 'find-node' ? { type: 'nodes', rpc: m.rpc, contacts } : { type: 'value', rpc: m.rpc, records: [], contacts };
  };

  const createPeer = async (misbehaviour: Misbehaviour | undefined): Promise<SimPeer> => {
    const identity = identities[nextIdentity++];
    if (identity === undefined) throw new Error('simulation ran out of identities');
    const now = clock.now();
    const record = await createNodeRecord(identity.signer, { peerId: identity.peerId, issuedAt: now, expiresAt: now + config.nodeRecordLifetimeMs });
    const index = peers.length;
    const nodeRng = seededRng((options.seed * 2654435761 + index * 40503 + 1) >>> 0);
    const base = network.attach(record.id);
    let peer: SimPeer;
    const transport: DhtTransport =
      misbehaviour === undefined
        ? base
        : {
            send: (to, bytes) => base.send(to, bytes),
            onMessage: (listener) =>
              base.onMessage((inbound: DhtInbound) => {
                const d = decodeMessage(inbound.bytes, cache);
                if (!d.ok) return listener(inbound);
                const answer = misbehave(peer, inbound.from, d.message);
                if (answer === undefined) return listener(inbound);
                if (answer !== null) base.send(inbound.from, encodeMessage(answer));
              }),
          };
    const node = new DhtNode(
      { signer: identity.signer, peerId: identity.peerId, record, config },
      { transport, scheduler: clock, verifier, cache, random: (n) => nodeRng.bytes(n) },
    );
    peer = { index, identity, node, record, misbehaviour, alive: true, ready: false };
    await node.start();
    peers.push(peer);
    byId.set(record.id, peer);
    live.push(peer);
    if (misbehaviour !== undefined) colludersDirty = true;
    return peer;
  };

  const pickMisbehaviour = (): Misbehaviour | undefined => (rng.chance(options.malicious) ? MISBEHAVIOURS[rng.int(MISBEHAVIOURS.length)] : undefined);

  const readyPeers = (honestOnly: boolean) => live.filter((p) => p.ready && (!honestOnly || p.misbehaviour === undefined));
  const samplePeers = (n: number, exclude?: SimPeer): NodeRecord[] => {
    const pool = live.filter((p) => p.ready && p !== exclude);
    const out: NodeRecord[] = [];
    for (let i = 0; i < n && pool.length > 0; i++) out.push(pool.splice(rng.int(pool.length), 1)[0]!.record);
    return out;
  };

  let joins = 0;
  const join = (p: SimPeer) => {
    joins++;
    p.node.join(samplePeers(3, p), () => {
      p.ready = true;
    });
  };

  // ---- build the initial network ----
  progress(`building ${options.peers} peers (${bootstrapMode})`);
  for (let i = 0; i < options.peers; i++) await createPeer(i === 0 ? undefined : pickMisbehaviour());
  if (bootstrapMode === 'oracle') {
    oracleFill(peers, config.k, rng);
    for (const p of peers) p.ready = true;
  } else {
    peers[0]!.ready = true;
    const spacing = 50;
    for (let i = 1; i < peers.length; i++) {
      const p = peers[i]!;
      clock.setTimeout(() => join(p), i * spacing);
    }
    const end = clock.now() + peers.length * spacing + 30_000;
    for (let t = clock.now(); t < end; t += MINUTE) {
      await clock.runUntil(Math.min(end, t + MINUTE));
      progress(`  joined ${peers.filter((p) => p.ready).length}/${peers.length} (virtual ${Math.round((clock.now() - 1_700_000_000_000) / 1000)} s, ${clock.processed} events)`);
    }
  }

  // ---- topics, announced by a few honest peers each ----
  const topicCount = options.topics ?? 8;
  const topics = Array.from({ length: topicCount }, (_, i) => topicKey(i === 0 ? 'network' : 'instance', i === 0 ? 'lodestone' : `instance-${i}`));
  const announcers = new Map<number, Uint8Array>();
  for (const topic of topics) {
    for (let j = 0; j < 3; j++) {
      const honest = readyPeers(true);
      const p = honest[rng.int(honest.length)]!;
      announcers.set(p.index, topic);
      // Every simulated peer is a browser node (an instance's announcement must carry a URL): the
      // topics only give lookups several keys to find records under.
      clock.setTimeout(() => p.node.announceWith(topic, 'browser', () => {}), rng.int(5_000));
    }
  }

  // ---- churn, lookups, value lookups and signals ----
  const report = {
    lookups: 0,
    lookupOk: 0,
    hops: [] as number[],
    rpcs: 0,
    messages: 0,
    failed: 0,
    values: 0,
    valueOk: 0,
    signals: 0,
    delivered: 0,
    viaLookup: 0,
  };
  let departures = 0;
  const delivered = new Set<string>();
  for (const p of peers) {
    p.node.onSignal((env) => delivered.add(`${env.from}>${env.toId}:${env.seq}`));
  }

  const churnOne = async () => {
    if (live.length === 0) return;
    const gone = live[rng.int(live.length)]!;
    gone.alive = false;
    gone.node.stop();
    network.detach(gone.record.id);
    removeLive(gone);
    if (gone.misbehaviour !== undefined) colludersDirty = true;
    departures++;
    const fresh = await createPeer(pickMisbehaviour());
    fresh.node.onSignal((env) => delivered.add(`${env.from}>${env.toId}:${env.seq}`));
    join(fresh);
    // An announcer that left is replaced by the newcomer, as another peer of the network would announce.
    const topic = announcers.get(gone.index);
    if (topic !== undefined && fresh.misbehaviour === undefined) {
      announcers.delete(gone.index);
      announcers.set(fresh.index, topic);
      clock.setTimeout(() => fresh.node.announceWith(topic, 'browser', () => {}), 30_000);
    }
  };

  const lookupOne = () => {
    const honest = readyPeers(true);
    if (honest.length < 2) return;
    const from = honest[rng.int(honest.length)]!;
    let to = honest[rng.int(honest.length)]!;
    while (to === from) to = honest[rng.int(honest.length)]!;
    const counted = measuring;
    from.node.lookupWith(to.record.key, { stopWhenFound: true }, (r: LookupResult) => {
      if (!counted) return;
      report.lookups++;
      report.rpcs += r.queried;
      report.messages += r.queried + r.answered;
      report.failed += r.failed;
      if (r.found?.id === to.record.id && r.hops !== undefined) {
        report.lookupOk++;
        report.hops.push(r.hops);
      }
    });
  };

  const valueOne = () => {
    const honest = readyPeers(true);
    if (honest.length === 0) return;
    const from = honest[rng.int(honest.length)]!;
    const topic = topics[rng.int(topics.length)]!;
    const counted = measuring;
    from.node.lookupWith(topic, { mode: 'value', stopWhenFound: true }, (r) => {
      if (!counted) return;
      report.values++;
      if (r.records.length > 0) report.valueOk++;
    });
  };

  const signalOne = async () => {
    const honest = readyPeers(true);
    if (honest.length < 2) return;
    const from = honest[rng.int(honest.length)]!;
    let to = honest[rng.int(honest.length)]!;
    while (to === from) to = honest[rng.int(honest.length)]!;
    const env = await from.node.signSignal(to.record.id, 'offer', new Uint8Array(600));
    const sent = from.node.relay(env);
    if (!measuring) return;
    report.signals++;
    if (sent === 'lookup') report.viaLookup++;
    const key = `${env.from}>${env.toId}:${env.seq}`;
    clock.setTimeout(() => {
      if (delivered.has(key)) report.delivered++;
    }, 30_000);
  };

  const valuesPerMinute = options.valueLookupsPerMinute ?? Math.ceil(options.lookupsPerMinute / 4);
  const signalsPerMinute = options.signalsPerMinute ?? Math.ceil(options.lookupsPerMinute / 4);
  const sentAtStart = { messages: 0, bytes: 0 };
  const totalMinutes = warmup + options.minutes;
  for (let minute = 0; minute < totalMinutes; minute++) {
    const start = clock.now();
    if (minute === warmup) {
      measuring = true;
      sentAtStart.messages = network.sent;
      sentAtStart.bytes = network.bytes;
    }
    const churn = Math.round(options.peers * options.churnPerMinute);
    for (let i = 0; i < churn; i++) clock.setTimeout(churnOne, rng.next() * MINUTE);
    if (minute >= warmup) {
      for (let i = 0; i < options.lookupsPerMinute; i++) clock.setTimeout(lookupOne, rng.next() * MINUTE);
      for (let i = 0; i < valuesPerMinute; i++) clock.setTimeout(valueOne, rng.next() * MINUTE);
      for (let i = 0; i < signalsPerMinute; i++) clock.setTimeout(signalOne, rng.next() * MINUTE);
    }
    await clock.runUntil(start + MINUTE);
    progress(
      `  minute ${minute + 1}/${totalMinutes}${minute < warmup ? ' (warm-up)' : ''}: ${live.length} live, lookups ${report.lookupOk}/${report.lookups}, ${clock.processed} events`,
    );
  }
  // Let the last lookups and signals finish (no new churn).
  await clock.runUntil(clock.now() + 30_000);
  measuring = false;

  const events: Record<string, number> = {};
  for (const p of peers) for (const [e, n] of Object.entries(p.node.stats.events)) events[e] = (events[e] ?? 0) + n;
  const hops = [...report.hops].sort((a, b) => a - b);
  const successRate = report.lookups === 0 ? 0 : report.lookupOk / report.lookups;
  const bound = hopsBound(options.peers);
  const hopsMedian = percentile(hops, 50);
  const measuredMessages = network.sent - sentAtStart.messages;
  for (const p of live) p.node.stop();
  return {
    seed: options.seed,
    peers: options.peers,
    churnPerMinute: options.churnPerMinute,
    malicious: options.malicious,
    bootstrap: bootstrapMode,
    config: { k: config.k, alpha: config.alpha, paths: config.paths },
    lookups: {
      total: report.lookups,
      succeeded: report.lookupOk,
      successRate,
      hopsMedian,
      hopsP99: percentile(hops, 99),
      rpcsPerLookup: report.rpcs / Math.max(1, report.lookups),
      messagesPerLookup: report.messages / Math.max(1, report.lookups),
      failedPerLookup: report.failed / Math.max(1, report.lookups),
    },
    values: { total: report.values, succeeded: report.valueOk, successRate: report.values === 0 ? 0 : report.valueOk / report.values },
    signals: { total: report.signals, delivered: report.delivered, deliveryRate: report.signals === 0 ? 0 : report.delivered / report.signals, viaLookup: report.viaLookup },
    network: {
      messages: network.sent,
      bytes: network.bytes,
      messagesPerPeerPerMinute: measuredMessages / options.peers / Math.max(1, options.minutes),
      joins,
      departures,
      verifications,
      byType,
    },
    events,
    floors: { hopsBound: bound, successFloor: 0.99, successMet: successRate >= 0.99, hopsMet: hopsMedian <= bound },
    events_processed: clock.processed,
  };
}

/**
 * Warm start: fills every peer's table as if the network had been running, with up to k random
 * peers from each bucket's range of the ID space (see the header: this is one of the fakes).
 */
function oracleFill(peers: readonly SimPeer[], k: number, rng: Rng): void {
  const sorted = peers.map((p) => ({ n: BigInt(`0x${p.record.id}`), p })).sort((a, b) => (a.n < b.n ? -1 : a.n > b.n ? 1 : 0));
  const lowerBound = (x: bigint) => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]!.n < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  for (const self of peers) {
    const s = BigInt(`0x${self.record.id}`);
    for (let i = 0; i < 256; i++) {
      const shift = BigInt(255 - i);
      // IDs sharing exactly i leading bits with ours: our first i bits, then the other bit i.
      const lo = ((s >> shift) ^ 1n) << shift;
      const hi = lo + (1n << shift);
      const a = lowerBound(lo);
      const b = lowerBound(hi);
      const picked = new Set<number>();
      while (picked.size < Math.min(k, b - a)) picked.add(a + rng.int(b - a));
      for (const j of picked) self.node.table.add(sorted[j]!.p.record, sorted[j]!.p.record.id);
      // Stop once the rest of the space on our side holds no one else.
      const ownLo = (s >> shift) << shift;
      const ownCount = lowerBound(ownLo + (1n << shift)) - lowerBound(ownLo);
      if (ownCount <= 1) break;
    }
  }
}

// ---- helpers for unit tests -----------------------------------------------------------------

/**
 * A node record with a random key and a meaningless signature: for pure logic (routing table,
 * lookup) that never verifies. Never passes verifySigned.
 */
export function unsignedRecord(rng: Rng, issuedAt = 1_700_000_000_000): NodeRecord {
  const raw = new Uint8Array(1 + 32 + 16 + 1 + 6 + 6 + 64);
  raw[0] = 1;
  raw.set(rng.bytes(48), 1);
  raw[49] = 0; // a browser
  let o = 50;
  for (const v of [issuedAt, issuedAt + 3_600_000]) {
    let x = v;
    while (x >= 0x80) {
      raw[o++] = (x % 128) | 0x80;
      x = Math.floor(x / 128);
    }
    raw[o++] = x;
  }
  raw.set(rng.bytes(64), o);
  return nodeRecordFrom(raw.slice(0, o + 64))!;
}

export interface TestDhtNetwork {
  clock: VirtualClock;
  network: MemoryDhtNetwork;
  nodes: DhtNode[];
  identities: SimIdentity[];
  /** Adds and starts a node (not joined). */
  add(config?: Partial<DhtConfig>, transport?: (base: DhtTransport) => DhtTransport): Promise<DhtNode>;
  /** Runs the virtual clock for `ms`. */
  run(ms: number): Promise<void>;
}

/** Honest nodes over the memory transport on a virtual clock (fixed 10 ms latency), each with its own verification cache. */
export async function createTestDhtNetwork(seed: number, count: number, config: Partial<DhtConfig> = {}): Promise<TestDhtNetwork> {
  const rng = seededRng(seed);
  const clock = new VirtualClock();
  const network = new MemoryDhtNetwork({ deliver: (run) => void clock.setTimeout(run, 10) });
  const nodes: DhtNode[] = [];
  const identities: SimIdentity[] = [];
  const add = async (extra: Partial<DhtConfig> = {}, wrap?: (base: DhtTransport) => DhtTransport): Promise<DhtNode> => {
    const [identity] = await simIdentities(rng, 1);
    identities.push(identity!);
    const record = await createNodeRecord(identity!.signer, { peerId: identity!.peerId, issuedAt: clock.now(), expiresAt: clock.now() + DEFAULT_CONFIG.nodeRecordLifetimeMs });
    const nodeRng = seededRng(rng.int(2 ** 31));
    const base = network.attach(record.id);
    const node = new DhtNode(
      { signer: identity!.signer, peerId: identity!.peerId, record, config: { ...config, ...extra } },
      { transport: wrap ? wrap(base) : base, scheduler: clock, random: (n) => nodeRng.bytes(n) },
    );
    await node.start();
    nodes.push(node);
    return node;
  };
  for (let i = 0; i < count; i++) await add();
  return { clock, network, nodes, identities, add, run: (ms) => clock.runUntil(clock.now() + ms) };
}

/** Joins every node in turn through the first one, letting each join finish. */
export async function joinAll(net: TestDhtNetwork, nodes: readonly DhtNode[] = net.nodes): Promise<void> {
  const first = nodes[0]!;
  for (const n of nodes.slice(1)) {
    let done = false;
    n.join([first.record], () => {
      done = true;
    });
    for (let i = 0; !done; i++) {
      if (i > 10_000) throw new Error('join did not finish');
      await net.run(1_000);
    }
  }
}
