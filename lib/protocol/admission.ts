// Admission of new entries: local policy, never a validity rule. What a peer judges from the change
// alone (signature, proof of work, field rules: change-policy.ts) every replica judges alike; how
// many new entries it takes from one peer or one author, and when, is this replica's choice. So a
// budget never refuses an entry: it defers it. A deferred entry is not stored, not marked seen and not
// forwarded; its ID is remembered and asked for again (a `heads` request, so the sender need not push
// it twice) once the budget has room, and forgotten past a bound, when the next reconciliation finds
// it again. Two honest replicas that see the same changes therefore end with the same entries, later
// rather than sooner.
//
// Budgets:
//   - per peer, on new entries it pushes unasked: what reconciliation showed the peer holds and we lack
//     is credit (a new visitor's catch-up), beyond it a token bucket (gossip of fresh posts). Past the
//     bucket, entries are deferred; past `peerOverflow` deferred entries in the bucket's window, each
//     further one counts against the peer like a bad message, so a flooder is throttled, then banned;
//   - per author, on fresh new entries (created within `freshMs`): a token bucket of `authorBurst`
//     refilled at `authorPerHour`, which an author cannot dodge by changing peers. Older entries are history a catch-up brings.
// Edits and deletes of entries held here are never budgeted: an author's own changes never wait.
import type { AuthorKey, EntryId } from '../core/ids';
import { RecentMap } from '../core/recent-map';

/**
 * What any peer may push unasked to a neighbour, in new entries: `burst` at once, then `perSecond`.
 * Senders pace their gossip to it (session.ts), so an honest relay never goes past it however much it
 * forwards, and receivers take at least this much before they defer: past it, only a peer that
 * ignores the protocol pushes. A protocol rule like the message size limits, the same at every peer.
 */
export const PUSH_LIMIT = { burst: 200, perSecond: 20 } as const;

export interface AdmissionLimits {
  /** New entries a peer may push unasked at once, beyond reconciliation's credit. */
  peerBurst: number;
  /** ... and per second after that. */
  peerPerSecond: number;
  /** Entries deferred from one peer, in the bucket's window, before each further one counts as bad. */
  peerOverflow: number;
  /** Fresh new entries one author may add per hour; 0: no limit. */
  authorPerHour: number;
  /**
   * ... of which at most this many at once (the bucket's size, at most `authorPerHour`): a flood from
   * many keys then lands a few entries a key, not each key's hour at once, on every honest replica.
   */
  authorBurst: number;
  /**
   * Whether the author budget holds for every new entry (an instance: AUTHOR_HOURLY_LIMIT), or only for
   * those pushed beyond reconciliation's credit (a browser: its catch-up comes from instances that
   * applied theirs, and a prolific author's history must not stall it).
   */
  authorOnCatchUp: boolean;
  /** Entries created within this long before now are fresh (the author budget's reach). */
  freshMs: number;
  /** Deferred entry IDs remembered for a second ask, at most. */
  deferredMax: number;
}

/** How long a deferred entry waits on its peer's budget before it is asked for regardless. */
export const DEFERRED_PATIENCE_MS = 5_000;

/** A browser's limits: the protocol's push limit, authors at a human pace. */
export const BROWSER_LIMITS: AdmissionLimits = {
  peerBurst: PUSH_LIMIT.burst,
  peerPerSecond: PUSH_LIMIT.perSecond,
  peerOverflow: PUSH_LIMIT.burst,
  authorPerHour: 120,
  authorBurst: 20,
  authorOnCatchUp: false,
  freshMs: 24 * 3600_000,
  deferredMax: 16_384,
};

/** An instance holds every new entry to its authors' budgets (AUTHOR_HOURLY_LIMIT). */
export const INSTANCE_LIMITS: AdmissionLimits = {
  ...BROWSER_LIMITS,
  authorPerHour: 60,
  authorBurst: 10,
  authorOnCatchUp: true,
};

/** A token bucket: `capacity` at once, `perMs` refilled each millisecond. */
export class TokenBucket {
  private level: number;
  private at: number;

  constructor(
    readonly capacity: number,
    private readonly perMs: number,
    now: number,
  ) {
    this.level = capacity;
    this.at = now;
  }

  /** Tokens held at `now`. */
  tokens(now: number): number {
    this.refill(now);
    return this.level;
  }

  /** Takes one token if there is one. */
  take(now: number): boolean {
    this.refill(now);
    if (this.level < 1) return false;
    this.level -= 1;
    return true;
  }

  /** Gives back a token taken for something that did not happen after all. */
  giveBack(): void {
    this.level = Math.min(this.capacity, this.level + 1);
  }

  /** Milliseconds from `now` until a token is there (0 when there is one). */
  waitMs(now: number): number {
    this.refill(now);
    return this.level >= 1 ? 0 : Math.ceil((1 - this.level) / this.perMs);
  }

  private refill(now: number): void {
    if (now > this.at) this.level = Math.min(this.capacity, this.level + (now - this.at) * this.perMs);
    this.at = Math.max(this.at, now);
  }
}

/** A peer's side of admission: its bucket, its reconciliation credit, what was deferred from it. */
export class PeerBudget {
  readonly bucket: TokenBucket;
  /** New entries reconciliation showed the peer holds and we lack, not yet received. */
  credit = 0;
  /** Entries deferred from this peer since the bucket was last full. */
  overflow = 0;
  /** Entries deferred from this peer, in all. */
  deferred = 0;

  constructor(
    private readonly limits: AdmissionLimits,
    now: number,
  ) {
    this.bucket = new TokenBucket(limits.peerBurst, limits.peerPerSecond / 1000, now);
  }

  /** Reconciliation found `n` more items the peer holds and we lack. */
  addCredit(n: number): void {
    // Bounded like the session's backlog: a peer cannot bank more than a catch-up's worth.
    this.credit = Math.min(1_000_000, this.credit + n);
  }

  /** Whether the peer may push one more new entry unasked now. */
  admit(now: number): boolean {
    if (this.bucket.tokens(now) >= this.bucket.capacity) this.overflow = 0;
    if (this.credit > 0) {
      this.credit--;
      return true;
    }
    return this.bucket.take(now);
  }

  /** Records a deferral; true when it is past the overflow the peer is allowed (count it as bad). */
  defer(): boolean {
    this.deferred++;
    return ++this.overflow > this.limits.peerOverflow;
  }
}

export interface AdmissionStatus {
  /** Entry IDs waiting for a second ask. */
  deferred: number;
  /** Authors with a budget in use. */
  authors: number;
}

/** The author budgets and the deferred entries of one replica, shared by all its sessions. */
export class Admission<S> {
  private readonly authors: RecentMap<AuthorKey, TokenBucket>;
  /** Deferred entries, oldest first, with the session to ask, the author when known, and since when. */
  private readonly waiting = new Map<EntryId, { from: S; author: AuthorKey | undefined; at: number }>();
  /** Entries asked for again with their author's token already taken. */
  private readonly prepaid = new Set<EntryId>();
  /**
   * Entries whose author's token was taken and that are not stored yet. A token is taken before the
   * signature is checked, so one that fails gives its token back: changes signed by someone else
   * in an author's name must not spend that author's budget.
   */
  private readonly charged = new Map<EntryId, AuthorKey>();

  constructor(
    readonly limits: AdmissionLimits,
    private readonly now: () => number,
  ) {
    this.authors = new RecentMap(100_000);
  }

  /**
   * Whether a new entry by `author`, created at `createdMs`, may be added now (and its token taken).
   * Entries asked for again were paid for when asked.
   */
  admitAuthor(id: EntryId, author: AuthorKey, createdMs: number): boolean {
    if (this.prepaid.delete(id)) return true;
    if (this.limits.authorPerHour <= 0) return true;
    const now = this.now();
    if (now - createdMs > this.limits.freshMs) return true;
    if (!this.bucketOf(author).take(now)) return false;
    this.charge(id, author);
    return true;
  }

  /** The entry was refused (a bad signature, an invalid entry): its author's token, if taken, goes back. */
  refused(id: EntryId): void {
    const author = this.charged.get(id);
    if (author === undefined) return;
    this.charged.delete(id);
    this.authors.get(author)?.giveBack();
  }

  private charge(id: EntryId, author: AuthorKey): void {
    this.charged.set(id, author);
    // Bounded: an entry that never settles either way is forgotten with the oldest.
    while (this.charged.size > this.limits.deferredMax) this.charged.delete(this.charged.keys().next().value!);
  }

  /** Remembers a deferred entry to ask `from` for again; past the bound, the oldest is forgotten. */
  defer(id: EntryId, from: S, author: AuthorKey | undefined): void {
    this.waiting.delete(id);
    this.waiting.set(id, { from, author, at: this.now() });
    while (this.waiting.size > this.limits.deferredMax) this.waiting.delete(this.waiting.keys().next().value!);
  }

  /** Held now (by any route): nothing to ask for again. */
  settled(id: EntryId): void {
    this.waiting.delete(id);
    this.charged.delete(id);
  }

  /** Forgets what a closed session was to be asked for (the next reconciliation finds it again). */
  forgetSession(from: S): void {
    for (const [id, w] of this.waiting) if (w.from === from) this.waiting.delete(id);
  }

  /**
   * The deferred entries that may be asked for now, by session, with their author's token taken; at
   * most `max` in all. `mayAsk` tells whether a session can take one more (its own budget); `overdue`
   * says the entry has waited DEFERRED_PATIENCE_MS, when a session's budget must not be all that
   * decides: an honest relay's paced gossip can keep it at zero, and the entry would wait as long as
   * the relay has anything to relay.
   */
  due(max: number, mayAsk: (from: S, overdue: boolean) => boolean): Map<S, EntryId[]> {
    const out = new Map<S, EntryId[]>();
    const now = this.now();
    let n = 0;
    for (const [id, w] of this.waiting) {
      if (n >= max) break;
      const limited = w.author !== undefined && this.limits.authorPerHour > 0;
      if (limited && this.bucketOf(w.author as AuthorKey).tokens(now) < 1) continue;
      if (!mayAsk(w.from, now - w.at >= DEFERRED_PATIENCE_MS)) continue;
      if (limited) {
        this.bucketOf(w.author as AuthorKey).take(now);
        this.prepaid.add(id);
        this.charge(id, w.author as AuthorKey);
      }
      this.waiting.delete(id);
      let list = out.get(w.from);
      if (list === undefined) out.set(w.from, (list = []));
      list.push(id);
      n++;
    }
    // Bounded: a prepaid entry that never arrives is forgotten with the oldest.
    while (this.prepaid.size > this.limits.deferredMax) this.prepaid.delete(this.prepaid.values().next().value!);
    return out;
  }

  status(): AdmissionStatus {
    return { deferred: this.waiting.size, authors: this.authors.size };
  }

  private bucketOf(author: AuthorKey): TokenBucket {
    let b = this.authors.get(author);
    if (b === undefined) {
      const size = Math.max(1, Math.min(this.limits.authorBurst, this.limits.authorPerHour));
      b = new TokenBucket(size, this.limits.authorPerHour / 3600_000, this.now());
      this.authors.set(author, b);
    }
    return b;
  }
}
