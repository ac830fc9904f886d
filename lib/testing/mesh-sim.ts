// A discrete-event simulation of the browser mesh over real peers (Replica, MemoryStore, SyncEngine):
// channels with per-message latency on a virtual clock, and the neighbour policy of lib/client/mesh.ts
// (dial from a random sample of 12 until 6 neighbours, accept up to 12, refill when below 6), with
// peers leaving, joining and coming back, partitions and healing. Nothing waits on real time: events
// run in virtual-time order, each handled to completion (its engine idle) before the next, so a seed
// replays the same run.
import { toHex } from '../core/bytes';
import type { EntryFields } from '../core/entry-fields';
import type { EntryId, PeerId } from '../core/ids';
import { identityFromSeed, signerFromIdentity, type Signer } from '../crdt/envelope';
import type { EntryView } from '../crdt/entry-view';
import type { PeerChannel } from '../net/peer-channel';
import { decodeFrame } from '../protocol/codec';
import { boundedGossip, type GossipFactory } from '../protocol/gossip-policy';
import { Replica } from '../protocol/replica';
import { SyncEngine } from '../protocol/sync-engine';
import { ChannelListeners } from '../transports/channel-listeners';
import { MemoryStore } from './memory-store';
import { seededRng, type Rng } from './rng';

export interface MeshSimOptions {
  seed: number;
  /** Each peer's gossip policy, given that peer's own seeded random stream. Default: boundedGossip(). */
  gossip?: (random: () => number) => GossipFactory;
  /** Neighbours a peer dials until it has (lib/client/mesh.ts: 6). */
  targetPeers?: number;
  /** Connections a peer accepts up to, counting those being set up (12). */
  maxPeers?: number;
  /** Peers in a signaling sample (12). */
  sampleSize?: number;
  /** One-way latency of a message, uniform in [min, max] virtual ms. */
  latencyMs?: readonly [number, number];
  /** From dialling to an open channel (signaling and ICE), when the other side accepts. */
  connectMs?: number;
  /** A dial nobody answers is given up after this long (mesh.ts: 20 s). */
  connectTimeoutMs?: number;
  /** A peer below its target asks for a new sample this often (mesh.ts: 10 s). */
  refillEveryMs?: number;
  /** Period of the reconciliation rounds the composition roots run (60 s), while enabled. */
  reconcileEveryMs?: number;
  /** Channel kind of every link ('memory'; 'socketio' would make every link always-on). */
  kind?: string;
  /**
   * Distinct authors the peers are devices of, in turn (0: each peer its own). Sharing a few keys
   * saves generating one per peer in large runs; each peer still signs with its own actor.
   */
  authors?: number;
}

export interface SimNode {
  readonly index: number;
  readonly peerId: PeerId;
  readonly store: MemoryStore;
  readonly replica: Replica;
  readonly engine: SyncEngine;
  signer: Signer;
  online: boolean;
  /** Peers in different groups cannot connect (a partition). */
  group: number;
  /** Open links, by the neighbour's index. */
  readonly links: Map<number, SimChannel>;
  /** Connections being set up (dialled or accepted), by the other side's index. */
  readonly pending: Set<number>;
}

export interface Traffic {
  messages: number;
  bytes: number;
  byType: Record<string, number>;
}

/** Someone came to hold a watched entry: when, and from which neighbour's message (none: made here). */
export interface Arrival {
  node: SimNode;
  id: EntryId;
  at: number;
  from: SimNode | undefined;
}

type EventKind = 'busy' | 'timer';
interface SimEvent {
  at: number;
  seq: number;
  kind: EventKind;
  run: () => void | Promise<void>;
}

export const SIM_EPOCH = 1_700_000_000_000;

export class MeshSim {
  /** Virtual milliseconds since the start. */
  now = 0;
  readonly nodes: SimNode[] = [];
  readonly traffic: Traffic = { messages: 0, bytes: 0, byType: {} };
  readonly options: Required<Omit<MeshSimOptions, 'gossip'>> & Pick<MeshSimOptions, 'gossip'>;
  /** Mesh decisions: samples, join order. Kept apart from latencies so that two policies see one topology. */
  readonly rng: Rng;
  private readonly latencyRng: Rng;
  private readonly heap: SimEvent[] = [];
  private seq = 0;
  private busyEvents = 0;
  private readonly online: SimNode[] = [];
  private readonly onlineAt = new Map<number, number>();
  private readonly ticking = new Set<number>();
  private reconciling = false;
  private current: SimNode | undefined;
  private readonly watched = new Set<string>();
  private readonly arrivals: Array<(a: Arrival) => void> = [];
  private readonly identities: Array<ReturnType<typeof identityFromSeed>> = [];

  constructor(options: MeshSimOptions) {
    this.options = {
      targetPeers: 6,
      maxPeers: 12,
      sampleSize: 12,
      latencyMs: [25, 75],
      connectMs: 150,
      connectTimeoutMs: 20_000,
      refillEveryMs: 10_000,
      reconcileEveryMs: 60_000,
      kind: 'memory',
      authors: 0,
      ...options,
    };
    this.rng = seededRng(options.seed);
    this.latencyRng = seededRng(options.seed ^ 0x5bd1e995);
  }

  get meanLatencyMs(): number {
    return (this.options.latencyMs[0] + this.options.latencyMs[1]) / 2;
  }

  /** Peers online now. */
  live(): SimNode[] {
    return [...this.online];
  }

  // ---- peers ----

  /** A new peer (empty replica) that joins the mesh now. */
  async addPeer(): Promise<SimNode> {
    const index = this.nodes.length;
    const rng = this.rng;
    const store = new MemoryStore();
    const clock = () => SIM_EPOCH + Math.floor(this.now);
    const replica = new Replica({ store, now: clock });
    await replica.open();
    const peerId = toHex(rng.bytes(16)) as PeerId;
    const own = seededRng((this.options.seed * 7919 + index * 104_729) >>> 0);
    const gossip = (this.options.gossip ?? ((random) => boundedGossip({ random })))(() => own.next());
    const engine = new SyncEngine({ replica, peerId, network: 'sim', now: clock, gossip });
    const signer = await signerFromIdentity(await this.identityFor(index), toHex(rng.bytes(8)));
    const node: SimNode = { index, peerId, store, replica, engine, signer, online: false, group: 0, links: new Map(), pending: new Set() };
    replica.onViews((views) => {
      if (this.watched.size === 0) return;
      for (const v of views) {
        if (!this.watched.has(v.id)) continue;
        const a: Arrival = { node, id: v.id, at: this.now, from: this.current };
        for (const l of this.arrivals) l(a);
      }
    });
    this.nodes.push(node);
    this.goOnline(node);
    return node;
  }

  private identityFor(index: number): ReturnType<typeof identityFromSeed> {
    const { authors } = this.options;
    if (authors <= 0) return identityFromSeed(this.rng.bytes(32));
    const slot = index % authors;
    this.identities[slot] ??= identityFromSeed(seededRng((this.options.seed ^ 0x68e31da4) + slot).bytes(32));
    return this.identities[slot]!;
  }

  /** The peer closes its tab: every link drops; its replica is kept for a later rejoin. */
  leave(node: SimNode): void {
    if (!node.online) return;
    node.online = false;
    const at = this.onlineAt.get(node.index)!;
    const last = this.online.pop()!;
    if (last !== node) {
      this.online[at] = last;
      this.onlineAt.set(last.index, at);
    }
    this.onlineAt.delete(node.index);
    node.pending.clear();
    for (const ch of [...node.links.values()]) ch.close('left');
  }

  /** The peer comes back with the replica it had. */
  rejoin(node: SimNode): void {
    if (!node.online) this.goOnline(node);
  }

  private goOnline(node: SimNode): void {
    node.online = true;
    this.onlineAt.set(node.index, this.online.length);
    this.online.push(node);
    if (this.reconciling) this.scheduleReconcile(node, this.rng.next() * this.options.reconcileEveryMs);
    this.refill(node);
  }

  /** Splits the mesh: links between groups close and no new ones form until heal(). */
  partition(groupOf: (node: SimNode) => number): void {
    for (const n of this.nodes) n.group = groupOf(n);
    for (const n of this.nodes) for (const [j, ch] of [...n.links]) if (this.nodes[j]!.group !== n.group) ch.close('partitioned');
  }

  /** Lifts a partition, and joins what stayed apart (as discovery would, through the DHT or a fresh sample). */
  heal(): void {
    for (const n of this.nodes) n.group = 0;
    this.bridgeComponents();
  }

  /** Connects the mesh's separate parts, each to the next, through peers with room for one more link. */
  bridgeComponents(): void {
    const parts = this.components();
    for (let i = 1; i < parts.length; i++) {
      const pick = (part: SimNode[]) => {
        const roomy = part.filter((n) => n.links.size + n.pending.size < this.options.maxPeers);
        return this.rng.pick(roomy.length > 0 ? roomy : part);
      };
      this.connectNow(pick(parts[i - 1]!), pick(parts[i]!));
    }
  }

  /** The connected parts of the mesh of online peers (open links only). */
  components(): SimNode[][] {
    const seen = new Set<number>();
    const parts: SimNode[][] = [];
    for (const start of this.online) {
      if (seen.has(start.index)) continue;
      const part: SimNode[] = [];
      const stack = [start];
      seen.add(start.index);
      while (stack.length > 0) {
        const n = stack.pop()!;
        part.push(n);
        for (const j of n.links.keys()) {
          if (!seen.has(j)) {
            seen.add(j);
            stack.push(this.nodes[j]!);
          }
        }
      }
      parts.push(part);
    }
    return parts;
  }

  /** A fingerprint of the current links, to check that two runs saw the same mesh. */
  topology(): string {
    let h = 0x811c9dc5;
    const edges: string[] = [];
    for (const n of this.online) for (const j of n.links.keys()) if (n.index < j) edges.push(`${n.index}-${j}`);
    for (const c of edges.sort().join(',')) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193);
    return `${edges.length}:${(h >>> 0).toString(16)}`;
  }

  degrees(): number[] {
    return this.online.map((n) => n.links.size);
  }

  // ---- authoring and watching ----

  /** Calls `listener` whenever a peer comes to hold one of the watched entries. */
  onArrival(listener: (a: Arrival) => void): () => void {
    this.arrivals.push(listener);
    return () => this.arrivals.splice(this.arrivals.indexOf(listener), 1);
  }

  watch(id: EntryId): void {
    this.watched.add(id);
  }

  unwatch(id: EntryId): void {
    this.watched.delete(id);
  }

  /** Publishes an entry at a peer, as its user would (watch its ID afterwards to follow it). */
  async create(node: SimNode, fields: EntryFields): Promise<EntryView> {
    const view = await node.engine.create(node.signer, fields);
    await node.engine.whenIdle();
    return view;
  }

  async edit(node: SimNode, id: EntryId, fields: Partial<EntryFields>): Promise<void> {
    await node.engine.edit(node.signer, id, fields);
    await node.engine.whenIdle();
  }

  async remove(node: SimNode, id: EntryId): Promise<void> {
    await node.engine.remove(node.signer, id);
    await node.engine.whenIdle();
  }

  // ---- periodic reconciliation ----

  /** Turns the composition roots' periodic reconciliation (each peer at its own phase) on or off. */
  setPeriodicReconcile(on: boolean): void {
    if (on === this.reconciling) return;
    this.reconciling = on;
    if (on) for (const n of this.online) this.scheduleReconcile(n, this.rng.next() * this.options.reconcileEveryMs);
  }

  private scheduleReconcile(node: SimNode, delay: number): void {
    this.at(this.now + delay, 'timer', () => {
      if (!this.reconciling || !node.online) return;
      node.engine.reconcileAll();
      this.scheduleReconcile(node, this.options.reconcileEveryMs);
    });
  }

  // ---- running ----

  /** Schedules work at a virtual time; 'busy' work keeps runWhileBusy going, timers do not. */
  at(time: number, kind: EventKind, run: () => void | Promise<void>): void {
    const e: SimEvent = { at: Math.max(time, this.now), seq: this.seq++, kind, run };
    if (kind === 'busy') this.busyEvents++;
    const h = this.heap;
    h.push(e);
    for (let i = h.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): SimEvent | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    if (top.kind === 'busy') this.busyEvents--;
    return top;
  }

  private async step(): Promise<boolean> {
    const e = this.pop();
    if (e === undefined) return false;
    this.now = Math.max(this.now, e.at);
    await e.run();
    return true;
  }

  /** Runs until no message is in flight and no connection is being set up (timers may remain). */
  async runWhileBusy(maxEvents = 50_000_000): Promise<void> {
    for (let n = 0; this.busyEvents > 0; n++) {
      if (n > maxEvents) throw new Error('the simulation did not quiesce');
      await this.step();
    }
  }

  /** Runs every event up to `ms` virtual milliseconds from now. */
  async advance(ms: number): Promise<void> {
    const until = this.now + ms;
    while (this.heap.length > 0 && this.heap[0]!.at <= until) await this.step();
    this.now = until;
  }

  // ---- the wire ----

  /** Called by a channel: counts the message and schedules its delivery, in order per direction. */
  transmit(from: SimChannel, bytes: Uint8Array): void {
    this.traffic.messages++;
    this.traffic.bytes += bytes.length;
    const type = this.messageType(bytes);
    this.traffic.byType[type] = (this.traffic.byType[type] ?? 0) + 1;
    const [lo, hi] = this.options.latencyMs;
    const at = Math.max(this.now + lo + this.latencyRng.next() * (hi - lo), from.lastArrival);
    from.lastArrival = at;
    const to = from.other!;
    this.at(at, 'busy', async () => {
      if (!to.isOpen) return;
      const before = this.current;
      this.current = from.owner;
      try {
        to.receive(bytes);
        await to.owner.engine.whenIdle();
      } finally {
        this.current = before;
      }
    });
  }

  /** A message's type; `changes` that carry a watched entry are counted apart, as `changes*`. */
  private messageType(bytes: Uint8Array): string {
    const d = decodeFrame(bytes);
    if (!d.ok) return 'invalid';
    const header = d.frame.header as { type?: unknown; entries?: unknown } | null;
    const t = header?.type;
    if (t === 'changes' && this.watched.size > 0 && Array.isArray(header?.entries)) {
      if (header.entries.some((e: unknown) => this.watched.has((e as { id?: string } | null)?.id ?? ''))) return 'changes*';
    }
    return typeof t === 'string' ? t : 'invalid';
  }

  /** Called when either end of a link closes. */
  linkClosed(owner: SimNode, remote: SimNode): void {
    owner.links.delete(remote.index);
    // mesh.ts refills as soon as a neighbour leaves.
    this.refill(owner);
  }

  // ---- the mesh policy (lib/client/mesh.ts) ----

  private size(n: SimNode): number {
    return n.links.size + n.pending.size;
  }

  /** Asks for a sample and dials until the target, like MeshManager.refill/offered. */
  refill(node: SimNode): void {
    const { targetPeers, maxPeers } = this.options;
    if (!node.online || this.size(node) >= Math.min(targetPeers, maxPeers)) return;
    for (const other of this.sample(node)) {
      if (this.size(node) >= Math.min(targetPeers, maxPeers)) break;
      if (!node.links.has(other.index) && !node.pending.has(other.index)) this.dial(node, other);
    }
    if (this.size(node) < targetPeers && !this.ticking.has(node.index)) {
      this.ticking.add(node.index);
      this.at(this.now + this.options.refillEveryMs, 'timer', () => {
        this.ticking.delete(node.index);
        this.refill(node);
      });
    }
  }

  /** A uniform sample of other online peers, as the signaling hub hands out. */
  private sample(node: SimNode): SimNode[] {
    const others = this.online.length - 1;
    const k = Math.min(this.options.sampleSize, others);
    const picked = new Set<number>();
    const out: SimNode[] = [];
    while (out.length < k) {
      const n = this.online[this.rng.int(this.online.length)]!;
      if (n === node || picked.has(n.index)) continue;
      picked.add(n.index);
      out.push(n);
    }
    return out;
  }

  private dial(a: SimNode, b: SimNode): void {
    a.pending.add(b.index);
    this.at(this.now + this.options.connectMs / 2, 'busy', () => this.offer(a, b));
  }

  /** The offer reaches b, which accepts while it has room (mesh.ts: maxPeers) and is reachable. */
  private offer(a: SimNode, b: SimNode): void {
    if (!a.online || !a.pending.has(b.index)) return;
    if (a.links.has(b.index)) {
      a.pending.delete(b.index);
      return;
    }
    const glare = b.pending.has(a.index);
    const accept = b.online && a.group === b.group && !b.links.has(a.index) && (glare || this.size(b) < this.options.maxPeers);
    if (!accept) {
      // Nobody answers: the dialler gives up after its connect timeout, then refills.
      this.at(this.now + this.options.connectTimeoutMs - this.options.connectMs / 2, 'timer', () => {
        if (a.pending.delete(b.index)) this.refill(a);
      });
      return;
    }
    b.pending.add(a.index);
    this.at(this.now + this.options.connectMs / 2, 'busy', () => this.open(a, b));
  }

  private async open(a: SimNode, b: SimNode): Promise<void> {
    const wanted = a.pending.delete(b.index);
    b.pending.delete(a.index);
    if (!wanted || !a.online || !b.online || a.group !== b.group || a.links.has(b.index)) {
      this.refill(a);
      this.refill(b);
      return;
    }
    await this.link(a, b);
  }

  /** Opens a link at once, whatever the mesh policy says (used to heal). */
  connectNow(a: SimNode, b: SimNode): void {
    if (a === b || a.links.has(b.index) || !a.online || !b.online) return;
    this.at(this.now, 'busy', () => this.link(a, b));
  }

  private async link(a: SimNode, b: SimNode): Promise<void> {
    if (a.links.has(b.index)) return;
    const ca = new SimChannel(this, a, b, this.options.kind);
    const cb = new SimChannel(this, b, a, this.options.kind);
    ca.other = cb;
    cb.other = ca;
    a.links.set(b.index, ca);
    b.links.set(a.index, cb);
    a.engine.addChannel(ca);
    b.engine.addChannel(cb);
    await Promise.all([a.engine.whenIdle(), b.engine.whenIdle()]);
  }
}

export class SimChannel implements PeerChannel {
  other: SimChannel | undefined;
  /** Virtual time the last message sent on this channel arrives: channels deliver in order. */
  lastArrival = 0;
  private open = true;
  private readonly listeners = new ChannelListeners();

  constructor(
    private readonly sim: MeshSim,
    readonly owner: SimNode,
    readonly remote: SimNode,
    readonly kind: string,
  ) {}

  get remotePeerId(): PeerId {
    return this.remote.peerId;
  }

  get isOpen(): boolean {
    return this.open;
  }

  send(message: Uint8Array): void {
    // A peer that left sends nothing more (its links drop while its engine notices).
    if (this.open && this.owner.online) this.sim.transmit(this, message.slice());
  }

  receive(bytes: Uint8Array): void {
    this.listeners.deliver(bytes);
  }

  close(reason = 'closed'): void {
    if (!this.open) return;
    this.open = false;
    this.listeners.closed(reason);
    this.sim.linkClosed(this.owner, this.remote);
    this.other?.close('remote closed');
  }

  onMessage(listener: (m: Uint8Array) => void): () => void {
    return this.listeners.onMessage(listener);
  }

  onClose(listener: (r: string) => void): () => void {
    return this.listeners.onClose(listener);
  }
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}


/** Whether every online peer holds the same set of entries at the same versions. */
export function converged(sim: MeshSim): boolean {
  const [first, ...rest] = sim.live();
  if (first === undefined) return true;
  const want = holdings(first);
  return rest.every((n) => holdings(n) === want);
}

/** What a peer holds: its entries at their versions, as one string. */
export function holdings(node: SimNode): string {
  return [...node.store.entries.values()]
    .map((e) => `${e.id}:${e.view.headsDigest}`)
    .sort()
    .join(',');
}
