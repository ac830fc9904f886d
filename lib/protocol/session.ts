// One sync session over one PeerChannel: handshake, reconciliation rounds, serving `heads`
// requests, and handing received changes to the engine. A message that fails to decode or breaks
// the protocol is dropped and counted; past a threshold the session says goodbye and closes.
//
// What reconciliation finds is acted on per message: entries the peer lacks entirely are pushed at
// once (their whole history, through sendChanges; at most once per entry version per REPUSH_MS, so a
// peer cannot make us resend the replica by opening rounds), and entries held at another version go
// through the flow-controlled `heads` requests. Entries we lack entirely are the peer's to push: we
// know only their short items, not their IDs.
import type { ChangeHash, EntryId, PeerId } from '../core/ids';
import { describeChange } from '../crdt/entry-doc';
import type { SignedChange } from '../crdt/envelope';
import { LIMITS } from '../core/limits';
import type { Logger } from '../core/logger';
import type { Overlay, OverlayLink } from '../net/overlay';
import { PROTOCOL_VIOLATION, type PeerChannel } from '../net/peer-channel';
import { decodeMessage, DEFLATE_CAPABILITY, encodeMessage, LABELS_CAPABILITY, OVERLAY_CAPABILITY, powBitsOf, powCapability, PROTOCOL_VERSION, type Message } from './messages';
import { BLOB_CAPABILITY, type BlobExchange } from './blob-exchange';
import { ReconSide } from './reconcile';
import type { IncomingEntry, Replica } from './replica';
import { PeerBudget, PUSH_LIMIT, TokenBucket, type AdmissionLimits } from './admission';
import type { LabelExchange } from './label-exchange';

export interface SessionStats {
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  changesIn: number;
  changesAccepted: number;
  rejected: number;
  /** Counts of rejected messages and changes, by reason. */
  reasons: Record<string, number>;
  /** New entries from this peer deferred by a budget (admission.ts), in all. */
  deferred: number;
  /** New entries the peer may push unasked right now: its bucket, and reconciliation's credit. */
  budget: number;
  credit: number;
  /** New entries not gossiped to this peer because its push queue was full (reconciliation brings them). */
  gossipDropped: number;
}

export interface SessionHost {
  readonly peerId: PeerId;
  readonly network: string;
  readonly replica: Replica;
  readonly log: Logger;
  /** Verify, merge and forward changes received on a session; `solicited` are the entries we asked for. */
  ingest(from: SyncSession, entries: IncomingEntry[], solicited: ReadonlySet<EntryId>): Promise<void>;
  /** The budgets a peer's new entries are held to (admission.ts). */
  readonly limits: AdmissionLimits;
  /** The host's clock, which budgets run on. */
  readonly time: () => number;
  /** Entries kept here and handed to no peer (moderation). */
  readonly withholds: (id: EntryId) => boolean;
  sessionReady(session: SyncSession): void;
  sessionClosed(session: SyncSession): void;
  isBanned?(peerId: PeerId): boolean;
  /** Preview image exchange; a host without one answers every want with `blob-none`. */
  readonly blobs?: BlobExchange;
  /** The DHT over the mesh; a host without one does not list the capability and refuses `dht` frames. */
  readonly overlay?: Overlay;
  /** Moderation labels; a host without them does not list the capability and refuses label messages. */
  readonly labels?: LabelExchange<SyncSession>;
}

const TOO_MANY_BAD = 'too many bad messages';
const FLOODING = 'flooding';

/** Entries asked for and not yet answered, per session. */
const MAX_OUTSTANDING = 16_384;
/** Entries waiting to be asked for, per session. */
const MAX_BACKLOG = 262_144;
/** Entries whose histories are loaded and pushed at a time. */
const PUSH_BATCH = 1024;
/** Reconciliation asks name every change of an entry up to this many (a `heads` entry holds at most 64). */
const MAX_NAMED_CHANGES = 16;
/** What this side speaks besides the base protocol. */
const RECON_CAPABILITY = 'recon-2';

/** How soon an entry pushed whole may be pushed whole again, unchanged, in a later round. */
export const REPUSH_MS = 30_000;

/** Gossip waiting for the push budget, per session, at most. */
const MAX_OUT_QUEUE = 4_096;

/** True when an entry's changes include its creating change: a new entry to whoever lacks it. */
function bringsCreation(e: IncomingEntry): boolean {
  return e.changes.some((c) => {
    try {
      const f = describeChange(c.change);
      return f.seq === 1 && f.deps.length === 0;
    } catch {
      return false;
    }
  });
}

/** Bad messages tolerated from one peer before the session is closed. */
export const MAX_BAD_MESSAGES = 16;
/**
 * Soft cap on the bytes of changes put into one outgoing message (the hard cap is LIMITS.messageBytes).
 * A receiving browser decodes a whole message in one task before it can yield: about 160 entries per
 * message keeps that task short during a new visitor's catch-up, at a few percent of compression.
 */
const CHANGES_BATCH_BYTES = 64 * 1024;
/** Receivers refuse more (messages.ts); senders stay within. */
const MAX_CHANGES_PER_ENTRY = 1024;
const MAX_ENTRIES_PER_CHANGES = 1024;
const MAX_HEADS = 64;
const HEADS_BATCH_BYTES = 96 * 1024;
/**
 * `changes` messages being ingested at once, at most: the replica checks and merges the next while it
 * writes the last (a new visitor's catch-up otherwise waits on every IndexedDB commit).
 */
const MAX_INGESTING = 4;
/** Messages received and not yet handled before a peer is considered to be flooding us. */
const MAX_INBOX = 1024;
/** A peer that has not completed the handshake by then is dropped (it only holds a slot). */
const HANDSHAKE_TIMEOUT_MS = 15_000;
/** Bad behaviour is forgotten with this half-life, so a rare honest mistake never adds up to a ban. */
const BAD_HALF_LIFE_MS = 60_000;

export class SyncSession {
  state: 'handshake' | 'ready' | 'closed' = 'handshake';
  /** Why the session ended, once it has. */
  closeReason: string | undefined;
  remotePeerId: PeerId | undefined;
  /** What the peer said it supports, in its hello. */
  private remoteCapabilities: readonly string[] = [];
  /** This session as seen by the overlay, once ready with a peer that speaks it. */
  private overlayLink: OverlayLink | undefined;
  readonly stats: SessionStats = {
    messagesIn: 0,
    messagesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    changesIn: 0,
    changesAccepted: 0,
    rejected: 0,
    reasons: {},
    deferred: 0,
    budget: 0,
    credit: 0,
    gossipDropped: 0,
  };
  /** This peer's budget of new entries pushed unasked. */
  readonly budget: PeerBudget;
  /** Ours towards the peer: gossip of new entries is paced to the protocol's push limit. */
  private readonly outBudget: TokenBucket;
  /** Gossip waiting for the push budget, oldest first, and the entries it names. */
  private readonly outQueue: IncomingEntry[] = [];
  private readonly outQueued = new Set<EntryId>();
  /** How many of the first entries in `outQueue` are this peer's own (they go ahead of relayed ones). */
  private localAhead = 0;
  private outTimer: ReturnType<typeof setTimeout> | undefined;
  private recon: ReconSide | undefined;
  private inboxSize = 0;
  private badScore = 0;
  private badAt = 0;
  private handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  /** The items `recon` was built from (the replica returns the same array until they change). */
  private round = 0;
  private requested = new Set<EntryId>();
  private backlog: EntryId[] = [];
  private readonly backlogSet = new Set<EntryId>();
  /** Entries reconciliation found at another version, until their request is sent. */
  private readonly askedByRecon = new Set<EntryId>();
  /**
   * Entries pushed whole to the peer, with the heads digest they had and when. Pushed again only once
   * REPUSH_MS have passed: a peer that opens round after round cannot make us resend the replica more
   * than that often, and an entry it deferred and then forgot (admission.ts) comes again with a later
   * round that shows it still lacks it, under that round's credit.
   */
  private readonly pushed = new Map<EntryId, { digest: string; at: number }>();
  private inbox: Promise<void> = Promise.resolve();
  /** Ingests of received `changes` still running (each followed by a pump). */
  private readonly ingesting = new Set<Promise<void>>();
  private readonly unsubscribe: Array<() => void> = [];
  private readonly log: Logger;

  constructor(
    readonly channel: PeerChannel,
    private readonly host: SessionHost,
  ) {
    this.log = host.log.child(channel.kind);
    this.budget = new PeerBudget(host.limits, host.time());
    this.outBudget = new TokenBucket(PUSH_LIMIT.burst, PUSH_LIMIT.perSecond / 1000, host.time());
    this.unsubscribe.push(
      channel.onMessage((bytes) => {
        // Messages are handled one at a time, in order, so replies keep the order of requests.
        if (++this.inboxSize > MAX_INBOX) {
          this.close(FLOODING);
          return;
        }
        this.inbox = this.inbox
          .then(() => this.receive(bytes))
          .catch((err) => this.log.error('session error', { err: String(err) }))
          .finally(() => this.inboxSize--);
      }),
      channel.onClose((reason) => this.closed(reason)),
    );
  }

  /** Resolves when every message received so far has been handled. */
  async settled(): Promise<void> {
    for (;;) {
      await this.inbox;
      if (this.ingesting.size === 0) return;
      await Promise.all(this.ingesting);
    }
  }

  start(): void {
    this.handshakeTimer = setTimeout(() => {
      if (this.state === 'handshake') this.close('handshake timeout');
    }, HANDSHAKE_TIMEOUT_MS);
    this.send({
      type: 'hello',
      protocol: PROTOCOL_VERSION,
      peerId: this.host.peerId,
      network: this.host.network,
      capabilities: [
        RECON_CAPABILITY,
        DEFLATE_CAPABILITY,
        ...(this.host.blobs === undefined ? [] : [BLOB_CAPABILITY]),
        ...(this.host.overlay === undefined ? [] : [OVERLAY_CAPABILITY]),
        ...(this.host.labels === undefined ? [] : [LABELS_CAPABILITY]),
        powCapability(this.host.replica.powBits),
      ],
    });
  }

  hasCapability(name: string): boolean {
    return this.remoteCapabilities.includes(name);
  }

  /** The side with the smaller peer ID drives reconciliation, so exactly one side initiates. */
  get initiates(): boolean {
    return this.remotePeerId !== undefined && this.host.peerId < this.remotePeerId;
  }

  /** Starts a reconciliation round (initiator only); a catch-up after reconnecting or periodically. */
  reconcile(): void {
    if (this.state !== 'ready' || !this.initiates) return;
    this.recon = this.freshRecon();
    this.requested.clear();
    this.round++;
    this.send({ type: 'recon', round: this.round, ranges: this.recon.initiate().ranges });
  }

  /**
   * A reconciliation side for a new round. The index over our items (hashing every item) is built
   * once per version of the set by the replica and shared by all sessions, so a tiny `recon` naming a
   * new round costs no pass over the replica.
   */
  private freshRecon(): ReconSide {
    return new ReconSide(this.host.replica.reconIndex(), { maxItemsPerMessage: LIMITS.itemsPerMessage });
  }

  send(message: Message): void {
    if (this.state === 'closed' || !this.channel.isOpen) return;
    const bytes = encodeMessage(message, { deflate: message.type === 'changes' && this.hasCapability(DEFLATE_CAPABILITY) });
    this.stats.messagesOut++;
    this.stats.bytesOut += bytes.length;
    this.channel.send(bytes);
  }

  sendChanges(entries: readonly IncomingEntry[]): void {
    // Split by encoded size, including within one entry's history: the receiver applies the parts in
    // order, so a long history arrives as several messages instead of one it must refuse.
    let batch: IncomingEntry[] = [];
    let size = 0;
    const flush = () => {
      if (batch.length > 0) this.send({ type: 'changes', entries: batch });
      batch = [];
      size = 0;
    };
    for (const e of entries) {
      let part: SignedChange[] = [];
      for (const c of e.changes) {
        const bytes = c.change.length + c.sig.length + 8;
        const full = size + bytes + 64 > CHANGES_BATCH_BYTES || part.length >= MAX_CHANGES_PER_ENTRY || batch.length >= MAX_ENTRIES_PER_CHANGES;
        if (full && (part.length > 0 || batch.length > 0)) {
          if (part.length > 0) batch.push({ id: e.id, changes: part });
          part = [];
          flush();
        }
        part.push(c);
        size += bytes;
      }
      if (part.length > 0) {
        batch.push({ id: e.id, changes: part });
        size += 64;
      }
    }
    flush();
  }


  /**
   * Gossip: changes pushed unasked. New entries (those that bring a creating change) go out within
   * the protocol's push limit; past it they wait here (at most MAX_OUT_QUEUE, beyond which the next
   * reconciliation brings them), and so do later changes of entries that wait, to keep their order.
   */
  pushGossip(entries: readonly IncomingEntry[], local = false): void {
    const now = this.host.time();
    const ready: IncomingEntry[] = [];
    for (const e of entries) {
      const creation = bringsCreation(e);
      // This peer's own new entries go ahead of what it relays: a flood that honest peers passed on
      // (each within its budget) must not hold back a person's post behind minutes of paced gossip.
      const ahead = local && creation && !this.outQueued.has(e.id);
      const waits = this.outQueued.has(e.id) || (creation && ((ahead ? this.localAhead : this.outQueue.length) > 0 || !this.outBudget.take(now)));
      if (!waits) ready.push(e);
      else if (ahead) {
        // Full: the newest relayed entry gives way (the next reconciliation brings it).
        if (this.outQueue.length >= MAX_OUT_QUEUE && this.outQueue.length > this.localAhead) {
          this.outQueued.delete(this.outQueue.pop()!.id);
          this.stats.gossipDropped++;
        }
        if (this.outQueue.length < MAX_OUT_QUEUE) {
          this.outQueue.splice(this.localAhead++, 0, e);
          this.outQueued.add(e.id);
        } else this.stats.gossipDropped++;
      } else if (this.outQueue.length < MAX_OUT_QUEUE) {
        this.outQueue.push(e);
        this.outQueued.add(e.id);
      } else this.stats.gossipDropped++;
    }
    if (ready.length > 0) this.sendChanges(ready);
    this.scheduleGossip();
  }

  private scheduleGossip(): void {
    if (this.outTimer !== undefined || this.outQueue.length === 0 || this.state === 'closed') return;
    this.outTimer = setTimeout(() => {
      this.outTimer = undefined;
      this.flushGossip();
    }, Math.max(1, this.outBudget.waitMs(this.host.time())));
    (this.outTimer as { unref?: () => void }).unref?.();
  }

  /** Sends what waited for the push budget, as far as it goes now. */
  flushGossip(): void {
    if (this.state === 'closed') return;
    const now = this.host.time();
    const ready: IncomingEntry[] = [];
    while (this.outQueue.length > 0) {
      const e = this.outQueue[0]!;
      if (bringsCreation(e) && !this.outBudget.take(now)) break;
      this.outQueue.shift();
      if (this.localAhead > 0) this.localAhead--;
      ready.push(e);
    }
    this.outQueued.clear();
    for (const e of this.outQueue) this.outQueued.add(e.id);
    if (ready.length > 0) this.sendChanges(ready);
    this.scheduleGossip();
  }

  /** Sends the whole history of entries the peer lacks entirely, a batch of entries at a time. */
  private async pushEntries(ids: readonly EntryId[]): Promise<void> {
    const replica = this.host.replica;
    const fresh: EntryId[] = [];
    const now = this.now();
    for (const id of ids) {
      const digest = replica.digestOf(id);
      const before = this.pushed.get(id);
      if (digest === undefined || (before?.digest === digest && now - before.at < REPUSH_MS) || this.host.withholds(id)) continue;
      this.pushed.set(id, { digest, at: now });
      fresh.push(id);
    }
    for (let k = 0; k < fresh.length && this.state !== 'closed'; k += PUSH_BATCH) {
      const changes = await replica.changesFor(fresh.slice(k, k + PUSH_BATCH).map((id) => ({ id, heads: [] })));
      if (changes.length > 0) this.sendChanges(changes);
    }
  }

  /** Asks the peer for what it has of these entries beyond what we hold. */
  async requestMissing(ids: readonly EntryId[]): Promise<void> {
    for (const id of ids) {
      if (this.requested.has(id) || this.backlogSet.has(id)) continue;
      // Flow control: a bounded number of requests in flight, a bounded backlog behind them; what
      // does not fit is found again by the next reconciliation round.
      if (this.backlog.length >= MAX_BACKLOG) break;
      this.backlog.push(id);
      this.backlogSet.add(id);
    }
    await this.pump();
  }

  /** Sends heads in messages whose headers stay well under the 128 KiB header limit. */
  private sendHeads(entries: Array<{ id: EntryId; heads: ChangeHash[] }>): void {
    let batch: Array<{ id: EntryId; heads: ChangeHash[] }> = [];
    let size = 0;
    for (const e of entries) {
      // Past 64 heads (an author writing from many devices at once) ask for the whole history instead.
      const heads = e.heads.length > MAX_HEADS ? [] : e.heads;
      const bytes = 48 + heads.length * 67;
      if (batch.length > 0 && size + bytes > HEADS_BATCH_BYTES) {
        this.send({ type: 'heads', entries: batch });
        batch = [];
        size = 0;
      }
      batch.push({ id: e.id, heads });
      size += bytes;
    }
    if (batch.length > 0) this.send({ type: 'heads', entries: batch });
  }

  private async pump(): Promise<void> {
    while (this.backlog.length > 0 && this.requested.size < MAX_OUTSTANDING && this.state !== 'closed') {
      const room = Math.min(LIMITS.itemsPerMessage, MAX_OUTSTANDING - this.requested.size);
      const batch = this.backlog.splice(0, room);
      for (const id of batch) {
        this.backlogSet.delete(id);
        this.requested.add(id);
      }
      const heads = await this.host.replica.heads(batch);
      await this.nameWholeHistory(heads);
      this.sendHeads(heads);
    }
  }

  /**
   * For entries reconciliation found at another version on each side, names every change held (when
   * there are few) instead of the heads alone. Whichever side is behind cannot place the other's
   * heads, and would answer them with the entry's whole history; named in full, it sends only what
   * is missing.
   */
  private async nameWholeHistory(heads: Array<{ id: EntryId; heads: ChangeHash[] }>): Promise<void> {
    const ids = heads.filter((h) => this.askedByRecon.delete(h.id) && h.heads.length > 0).map((h) => h.id);
    if (ids.length === 0) return;
    const all = new Map((await this.host.replica.changesFor(ids.map((id) => ({ id, heads: [] })))).map((e) => [e.id, e.changes]));
    for (const h of heads) {
      const changes = all.get(h.id);
      if (changes === undefined || changes.length > MAX_NAMED_CHANGES || changes.length <= h.heads.length) continue;
      const named = new Set<ChangeHash>(h.heads);
      for (const c of changes) named.add(describeChange(c.change).hash as ChangeHash);
      h.heads = [...named];
    }
  }

  /** The host's clock. */
  now(): number {
    return this.host.time();
  }

  /** True while an entry is asked for and not yet answered. */
  isRequested(id: EntryId): boolean {
    return this.requested.has(id) || this.backlogSet.has(id);
  }

  /** Allows asking again for an entry, e.g. after its changes arrived incomplete. */
  forgetRequest(id: EntryId): void {
    this.requested.delete(id);
  }

  /** Counts rejected messages or changes; enough of them in a short time closes the session. */
  countRejected(reason: string, n = 1): void {
    this.stats.rejected += n;
    this.stats.reasons[reason] = (this.stats.reasons[reason] ?? 0) + n;
    // Halve the score for each whole half-life since it was last halved: a burst counts in full.
    const now = Date.now();
    const halvings = Math.floor((now - this.badAt) / BAD_HALF_LIFE_MS);
    if (halvings > 0) {
      this.badScore *= 0.5 ** halvings;
      this.badAt = now;
    }
    this.badScore += n;
    if (this.badScore >= MAX_BAD_MESSAGES) this.close(TOO_MANY_BAD);
  }

  close(reason: string): void {
    if (this.state === 'closed') return;
    this.send({ type: 'goodbye', reason });
    this.closeReason = reason;
    this.channel.close(reason);
    this.closed(reason);
  }

  /** True when the session was closed because the peer misbehaved. */
  get misbehavedOut(): boolean {
    const r = this.closeReason;
    return r === TOO_MANY_BAD || r === FLOODING || (r !== undefined && r.startsWith(PROTOCOL_VIOLATION));
  }

  private closed(reason = 'closed'): void {
    if (this.state === 'closed') return;
    this.closeReason ??= reason;
    this.state = 'closed';
    if (this.handshakeTimer !== undefined) clearTimeout(this.handshakeTimer);
    if (this.outTimer !== undefined) clearTimeout(this.outTimer);
    this.outQueue.length = 0;
    this.outQueued.clear();
    this.localAhead = 0;
    for (const u of this.unsubscribe) u();
    if (this.overlayLink !== undefined) this.host.overlay?.linkDown(this.overlayLink);
    this.host.labels?.sessionClosed(this);
    this.host.sessionClosed(this);
  }

  private misbehaved(reason: string): void {
    this.log.warn('dropped a bad message', { peer: this.remotePeerId, reason });
    this.countRejected(reason);
  }

  private async receive(bytes: Uint8Array): Promise<void> {
    if (this.state === 'closed') return;
    this.stats.messagesIn++;
    this.stats.bytesIn += bytes.length;
    const decoded = decodeMessage(bytes);
    if (!decoded.ok) return this.misbehaved(decoded.error.reason);
    const msg = decoded.message;
    if (this.state === 'handshake') {
      if (msg.type !== 'hello') return this.misbehaved('expected-hello');
      if (msg.protocol !== PROTOCOL_VERSION) return this.close(`unsupported protocol ${msg.protocol}`);
      if (msg.network !== this.host.network) return this.close('different network');
      // A peer judging creations by other rules would refuse what we accept, or relay what we refuse.
      const theirWork = powBitsOf(msg.capabilities);
      if (theirWork !== this.host.replica.powBits) {
        return this.close(`different proof-of-work rules: ${powCapability(this.host.replica.powBits)} here, ${theirWork === undefined ? 'unreadable' : powCapability(theirWork)} there`);
      }
      if (msg.peerId === this.host.peerId) return this.close('connected to self');
      if (this.channel.remotePeerId !== undefined && this.channel.remotePeerId !== msg.peerId) return this.close('peer ID mismatch');
      if (this.host.isBanned?.(msg.peerId) === true) return this.close('banned');
      this.remotePeerId = msg.peerId;
      this.remoteCapabilities = msg.capabilities;
      this.state = 'ready';
      clearTimeout(this.handshakeTimer);
      this.host.sessionReady(this);
      if (this.host.overlay !== undefined && this.hasCapability(OVERLAY_CAPABILITY)) {
        const peer = msg.peerId;
        this.overlayLink = { peerId: peer, kind: this.channel.kind, send: (data) => this.send({ type: 'dht', data }) };
        this.host.overlay.linkUp(this.overlayLink);
      }
      if (this.host.labels !== undefined && this.hasCapability(LABELS_CAPABILITY)) this.host.labels.sessionReady(this);
      this.reconcile();
      return;
    }
    switch (msg.type) {
      case 'hello':
        return this.misbehaved('repeated-hello');
      case 'recon': {
        if (this.initiates) {
          // A reply to a round we already replaced is stale, not hostile: ignore it.
          if (msg.round < this.round) return;
          if (this.recon === undefined || msg.round !== this.round) return this.misbehaved('unexpected-recon');
        } else if (this.recon === undefined || msg.round !== this.round) {
          // The initiator opened a new round: answer it from a fresh snapshot of our items.
          this.round = msg.round;
          this.recon = this.freshRecon();
          this.requested.clear();
        }
        const side = this.recon;
        let reply;
        try {
          reply = side.receive({ ranges: msg.ranges });
        } catch {
          return this.misbehaved('bad-recon');
        }
        const ask = [...side.ask].filter((id) => !this.requested.has(id));
        const push = [...side.push];
        // What the peer showed it holds and we lack is its to push: a catch-up, not a flood.
        this.budget.addCredit(side.need.size);
        // Taken: `requested` and `pushed` remember what was done. Left in place, these sets would grow
        // with every message of a round and be rescanned in full each time (quadratic work, unbounded memory).
        side.need.clear();
        side.have.clear();
        side.ask.clear();
        side.push.clear();
        if (reply !== null) this.send({ type: 'recon', round: this.round, ranges: reply.ranges });
        if (push.length > 0) await this.pushEntries(push);
        if (ask.length > 0) {
          // Bounded like the backlog: what is not remembered is asked for with heads alone.
          for (const id of ask) if (this.askedByRecon.size < MAX_BACKLOG) this.askedByRecon.add(id);
          await this.requestMissing(ask);
        }
        return;
      }
      case 'heads': {
        const changes = await this.host.replica.changesFor(msg.entries.filter((e) => !this.host.withholds(e.id)));
        if (changes.length > 0) this.sendChanges(changes);
        // Heads we do not know mean the peer holds more than we do: ask for it in turn.
        const ahead = await this.host.replica.aheadOfUs(msg.entries);
        const ask = ahead.filter((id) => !this.requested.has(id));
        if (ask.length > 0) {
          // Bounded like the backlog: what is not remembered is asked for with heads alone.
          for (const id of ask) if (this.askedByRecon.size < MAX_BACKLOG) this.askedByRecon.add(id);
          await this.requestMissing(ask);
        }
        return;
      }
      case 'changes': {
        this.stats.changesIn += msg.entries.reduce((n, e) => n + e.changes.length, 0);
        const solicited = new Set<EntryId>();
        for (const e of msg.entries) if (this.requested.delete(e.id)) solicited.add(e.id);
        // Not awaited to the end: the next message is decoded once this one is checked and merged, while
        // it is written. (Decoding it at once would run several messages' decoding in one task of the
        // page, back to back.) The replica keeps the order of batches; at most MAX_INGESTING run at once.
        const done = this.host
          .ingest(this, msg.entries, solicited)
          .then(() => this.pump())
          .catch((err: unknown) => this.log.error('session error', { err: String(err) }))
          .finally(() => this.ingesting.delete(done));
        this.ingesting.add(done);
        await Promise.race([done, this.host.replica.merged()]);
        while (this.ingesting.size >= MAX_INGESTING) await Promise.race(this.ingesting);
        return;
      }
      case 'blob-want':
      case 'blob-none':
      case 'blob-chunk':
        if (this.host.blobs !== undefined) return this.host.blobs.receive(this, msg);
        if (msg.type === 'blob-want') for (const hash of msg.hashes) this.send({ type: 'blob-none', hash, reason: 'missing' });
        else if (msg.type === 'blob-chunk') this.misbehaved('unsolicited-blob');
        return;
      case 'dht': {
        // Only from a peer that said it speaks the overlay, to a host that does.
        if (this.overlayLink === undefined || this.host.overlay === undefined) return this.misbehaved('unsolicited-dht');
        const problem = this.host.overlay.receive(this.overlayLink, msg.data);
        if (problem !== undefined) this.misbehaved(problem);
        return;
      }
      case 'label-sum':
      case 'labels':
        if (this.host.labels === undefined || !this.hasCapability(LABELS_CAPABILITY)) return this.misbehaved('unsolicited-labels');
        return this.host.labels.receive(this, msg);
      case 'goodbye':
        this.log.info('peer said goodbye', { peer: this.remotePeerId, reason: msg.reason });
        this.channel.close('goodbye');
        this.closed(`peer said goodbye: ${msg.reason}`);
        return;
    }
  }
}
