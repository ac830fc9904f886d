// Who a change is pushed to: the gossip policy the sync engine consults whenever it has changes to
// send on. `flooding()` pushes to every other neighbour (the baseline); `boundedGossip()` (the default)
// pushes along a learnt, sparse subset of the links plus a few others, so a change costs well under
// half of flooding's messages on the bounded-degree mesh and still reaches nearly every peer within a
// few hops (bench/gossip.ts).
//
// Bounded gossip is Plumtree's eager/lazy split without Plumtree's control messages:
// - Every link is eager or lazy. A change pushed across a link one way makes it eager; two pushes of
//   the same change that cross on it make it lazy: both ends had the change from elsewhere, so the link
//   was redundant. Both ends see the same messages on their link, so they reach the same verdict
//   without telling each other (Plumtree sends PRUNE for this). Pushing changes over the eager links
//   thus prunes them towards a spanning tree of first arrivals.
// - A change received from a neighbour goes to every eager link and to a few lazy ones, never to a
//   neighbour known to hold it (it sent us the change, or we sent it the change). By default a peer
//   with fewer than two eager links to push to (a leaf of the tree) adds one lazy link, any other adds
//   one 30% of the time, and it picks the lazy links quiet the longest. A push over a lazy link that is
//   not answered in kind turns it eager again at both ends (Plumtree's GRAFT): shortcuts appear, and a
//   neighbour that churn cut off from the eager links is soon fed again.
// - When an eager link closes (a neighbour left), the peer pushes its latest change over one lazy link
//   not known to hold it (two if no eager link is left), which turns that link eager: whatever was fed
//   through the departed neighbour is fed again from the next change on.
// - A new link starts eager (both ends agree; `initialEager` < 1 starts a share of them lazy, by a hash
//   of the two peer IDs), so the first changes over a fresh mesh flood it and their crossings prune it.
// - A change made here goes to every neighbour: the author's own post must not hang on one slow link.
// - Links to an always-on replica (by default Socket.IO channels: the instance a browser syncs with,
//   and links between instances) get every change they are not known to hold; see PROTOCOL.md.
// Whatever pushes miss, reconciliation (on connect and periodically) repairs.
//
// Pure: no Node or DOM APIs; randomness is injected.
import { RecentMap } from '../core/recent-map';
import type { PeerId } from '../core/ids';

/** What a policy sees of a session. SyncSession satisfies it. */
export interface GossipLink {
  readonly remotePeerId: PeerId | undefined;
  readonly channel: { readonly kind: string };
}

export interface GossipPolicy<L extends GossipLink = GossipLink> {
  /** Changes (by hash) arrived on a link, new here or not: that peer holds them. */
  received(link: L, hashes: readonly string[]): void;
  /**
   * The links to push changes to, chosen among `ready`; the engine sends to every link returned.
   * `from` is the link they arrived on, or undefined for changes made here.
   */
  targets(hashes: readonly string[], from: L | undefined, ready: readonly L[]): L[];
  /**
   * A link closed. Returns the links to push our most recent change (`latest`, by hash) to again, so
   * that a peer the closed link was its only feed is fed again (the engine sends to every link returned).
   */
  closed?(link: L, ready: readonly L[], latest: string): L[];
}

/** Builds one engine's policy (policies keep per-link state). */
export type GossipFactory = <L extends GossipLink>(self: PeerId) => GossipPolicy<L>;

/** Every change to every other neighbour: what the engine did before bounded gossip. */
export function flooding(): GossipFactory {
  return <L extends GossipLink>(): GossipPolicy<L> => ({
    received() {},
    targets: (_hashes, from, ready) => ready.filter((l) => l !== from),
  });
}

export interface BoundedGossipOptions {
  /**
   * Lazy links a received change is pushed to, on average (fractions are rounded at random), given how
   * many eager links it goes to; a number for a constant.
   */
  lazyFanout?: number | ((eagerTargets: number) => number);
  /** Share of new links that start eager (1 by default); both ends agree, by a hash of their IDs. */
  initialEager?: number;
  /** Links that get every change they are not known to hold. */
  alwaysPush?: (link: GossipLink) => boolean;
  /** How many recent changes to remember who holds. */
  memory?: number;
  /** Uniform in [0, 1); Math.random by default. Simulations pass a seeded one. */
  random?: () => number;
}

/** One lazy link where the eager links are few, and one 30% of the time elsewhere. */
export const defaultLazyFanout = (eagerTargets: number): number => (eagerTargets >= 2 ? 0.3 : 1);
export const DEFAULT_INITIAL_EAGER = 1;
const DEFAULT_MEMORY = 10_000;

/** Instances are always-on replicas; browsers reach them over Socket.IO, and instances each other. */
export const isAlwaysOnLink = (link: GossipLink): boolean => link.channel.kind === 'socketio';

export function boundedGossip(options: BoundedGossipOptions = {}): GossipFactory {
  return <L extends GossipLink>(self: PeerId): GossipPolicy<L> => new BoundedGossip<L>(self, options);
}

interface Holders<L> {
  /** Links that sent us the change. */
  from: Set<L>;
  /** Links we sent the change to. */
  to: Set<L>;
}

class BoundedGossip<L extends GossipLink> implements GossipPolicy<L> {
  private readonly lazyFanout: (eagerTargets: number) => number;
  private readonly initialEager: number;
  private readonly alwaysPush: (link: GossipLink) => boolean;
  private readonly random: () => number;
  private readonly eager = new WeakMap<L, boolean>();
  /** When a change last crossed each link, in this policy's own count of events. */
  private readonly touched = new WeakMap<L, number>();
  private clock = 0;
  /** Per change hash, in insertion order so the oldest is forgotten first. */
  private readonly holders: RecentMap<string, Holders<L>>;

  constructor(
    private readonly self: PeerId,
    options: BoundedGossipOptions,
  ) {
    const fanout = options.lazyFanout ?? defaultLazyFanout;
    this.lazyFanout = typeof fanout === 'number' ? () => fanout : fanout;
    this.initialEager = options.initialEager ?? DEFAULT_INITIAL_EAGER;
    this.alwaysPush = options.alwaysPush ?? isAlwaysOnLink;
    this.holders = new RecentMap(Math.max(1, options.memory ?? DEFAULT_MEMORY));
    this.random = options.random ?? Math.random;
  }

  received(link: L, hashes: readonly string[]): void {
    let crossed = false;
    for (const h of hashes) {
      const k = this.holdersOf(h);
      k.from.add(link);
      if (k.to.has(link)) crossed = true;
    }
    this.eager.set(link, !crossed);
    this.touched.set(link, ++this.clock);
  }

  targets(hashes: readonly string[], from: L | undefined, ready: readonly L[]): L[] {
    const candidates = ready.filter((l) => l !== from && !this.holdsAll(l, hashes));
    let out: L[];
    if (from === undefined) {
      out = candidates;
    } else {
      out = [];
      const lazy: L[] = [];
      for (const l of candidates) {
        if (this.alwaysPush(l) || this.isEager(l)) out.push(l);
        else lazy.push(l);
      }
      const fanout = Math.max(0, this.lazyFanout(out.length));
      const whole = Math.floor(fanout);
      const picks = Math.min(lazy.length, whole + (this.random() < fanout - whole ? 1 : 0));
      // The lazy links quiet the longest, ties at random: a peer whose links all went quiet (cut off
      // from the eager links by churn) is soon picked by one of its neighbours.
      if (picks > 0) out.push(...this.oldestFirst(lazy).slice(0, picks));
    }
    for (const l of out) {
      for (const h of hashes) this.holdersOf(h).to.add(l);
      this.eager.set(l, true);
      this.touched.set(l, ++this.clock);
    }
    return out;
  }

  closed(link: L, ready: readonly L[], latest: string): L[] {
    if (!this.isEager(link)) return [];
    // An eager link is gone: the peers beyond it may no longer be fed (a subtree cut from the tree). A
    // one-way push turns a link eager at both ends, so push the latest change over a link not known to
    // hold it, the quietest first: one, or two when no eager link is left.
    const others = ready.filter((l) => l !== link);
    const attached = others.some((l) => this.alwaysPush(l) || this.isEager(l));
    const candidates = others.filter((l) => !this.alwaysPush(l) && !this.isEager(l) && !this.holdsAll(l, [latest]));
    const out = this.oldestFirst(candidates).slice(0, attached ? 1 : 2);
    for (const l of out) {
      this.holdersOf(latest).to.add(l);
      this.eager.set(l, true);
      this.touched.set(l, ++this.clock);
    }
    return out;
  }

  /** Links sorted by how long they have been quiet, ties at random. */
  private oldestFirst(links: L[]): L[] {
    for (let i = links.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [links[i], links[j]] = [links[j]!, links[i]!];
    }
    return links.sort((a, b) => (this.touched.get(a) ?? 0) - (this.touched.get(b) ?? 0));
  }

  private isEager(link: L): boolean {
    let e = this.eager.get(link);
    if (e === undefined) {
      const remote = link.remotePeerId ?? '';
      e = unitHash(this.self < remote ? `${this.self}|${remote}` : `${remote}|${this.self}`) < this.initialEager;
      this.eager.set(link, e);
    }
    return e;
  }

  private holdsAll(link: L, hashes: readonly string[]): boolean {
    if (hashes.length === 0) return false;
    for (const h of hashes) {
      const k = this.holders.get(h);
      if (k === undefined || !(k.from.has(link) || k.to.has(link))) return false;
    }
    return true;
  }

  private holdersOf(hash: string): Holders<L> {
    let k = this.holders.get(hash);
    if (k === undefined) {
      k = { from: new Set(), to: new Set() };
      this.holders.set(hash, k);
    }
    return k;
  }
}

/** FNV-1a of a string, mapped to [0, 1): the same on both ends of a link. */
export function unitHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // A final mix, so that nearby strings spread over the whole range.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return (h >>> 0) / 4294967296;
}
