// One sync session over one PeerChannel: handshake, reconciliation rounds, serving `heads`
// requests, and handing received changes to the engine. A message that fails to decode or breaks
// the protocol is dropped and counted; past a threshold the session says goodbye and closes.
import type { ChangeHash, EntryId, PeerId } from '../core/ids';
import type { SignedChange } from '../crdt/envelope';
import { LIMITS } from '../core/limits';
import type { Logger } from '../core/logger';
import { PROTOCOL_VIOLATION, type PeerChannel } from '../net/peer-channel';
import { decodeMessage, encodeMessage, PROTOCOL_VERSION, type Message } from './messages';
import { BLOB_CAPABILITY, type BlobExchange } from './blob-exchange';
import { ReconSide } from './reconcile';
import { Replica, type IncomingEntry } from './replica';

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
}

export interface SessionHost {
  readonly peerId: PeerId;
  readonly network: string;
  readonly replica: Replica;
  readonly log: Logger;
  /** Verify, merge and forward changes received on a session. */
  ingest(from: SyncSession, entries: IncomingEntry[]): Promise<void>;
  sessionReady(session: SyncSession): void;
  sessionClosed(session: SyncSession): void;
  isBanned?(peerId: PeerId): boolean;
  /** Preview image exchange; a host without one answers every want with `blob-none`. */
  readonly blobs?: BlobExchange;
}

const TOO_MANY_BAD = 'too many bad messages';
const FLOODING = 'flooding';

/** Entries asked for and not yet answered, per session. */
const MAX_OUTSTANDING = 16_384;
/** Entries waiting to be asked for, per session. */
const MAX_BACKLOG = 262_144;

/** Bad messages tolerated from one peer before the session is closed. */
export const MAX_BAD_MESSAGES = 16;
/** Soft cap on the bytes of changes put into one outgoing message (the hard cap is LIMITS.messageBytes). */
const CHANGES_BATCH_BYTES = 192 * 1024;
/** Receivers refuse more (messages.ts); senders stay within. */
const MAX_CHANGES_PER_ENTRY = 1024;
const MAX_ENTRIES_PER_CHANGES = 1024;
const MAX_HEADS = 64;
const HEADS_BATCH_BYTES = 96 * 1024;
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
  readonly stats: SessionStats = {
    messagesIn: 0,
    messagesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    changesIn: 0,
    changesAccepted: 0,
    rejected: 0,
    reasons: {},
  };
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
  private inbox: Promise<void> = Promise.resolve();
  private readonly unsubscribe: Array<() => void> = [];
  private readonly log: Logger;

  constructor(
    readonly channel: PeerChannel,
    private readonly host: SessionHost,
  ) {
    this.log = host.log.child(channel.kind);
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
  settled(): Promise<void> {
    return this.inbox;
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
      capabilities: this.host.blobs === undefined ? ['recon-1'] : ['recon-1', BLOB_CAPABILITY],
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
    const bytes = encodeMessage(message);
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
      this.sendHeads(await this.host.replica.heads(batch));
    }
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
    for (const u of this.unsubscribe) u();
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
      if (msg.peerId === this.host.peerId) return this.close('connected to self');
      if (this.channel.remotePeerId !== undefined && this.channel.remotePeerId !== msg.peerId) return this.close('peer ID mismatch');
      if (this.host.isBanned?.(msg.peerId) === true) return this.close('banned');
      this.remotePeerId = msg.peerId;
      this.remoteCapabilities = msg.capabilities;
      this.state = 'ready';
      clearTimeout(this.handshakeTimer);
      this.host.sessionReady(this);
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
        const need = Replica.idsOf(side.need).filter((id) => !this.requested.has(id));
        // Taken: `requested` remembers what was asked for. Left in place, `need` would grow with every
        // message of a round and be rescanned in full each time (quadratic work, unbounded memory).
        side.need.clear();
        if (reply !== null) this.send({ type: 'recon', round: this.round, ranges: reply.ranges });
        if (need.length > 0) await this.requestMissing(need);
        return;
      }
      case 'heads': {
        const changes = await this.host.replica.changesFor(msg.entries);
        if (changes.length > 0) this.sendChanges(changes);
        // Heads we do not know mean the peer holds more than we do: ask for it in turn.
        const ahead = await this.host.replica.aheadOfUs(msg.entries);
        const ask = ahead.filter((id) => !this.requested.has(id));
        if (ask.length > 0) await this.requestMissing(ask);
        return;
      }
      case 'changes': {
        this.stats.changesIn += msg.entries.reduce((n, e) => n + e.changes.length, 0);
        for (const e of msg.entries) this.requested.delete(e.id);
        await this.host.ingest(this, msg.entries);
        await this.pump();
        return;
      }
      case 'blob-want':
      case 'blob-none':
      case 'blob-chunk':
        if (this.host.blobs !== undefined) return this.host.blobs.receive(this, msg);
        if (msg.type === 'blob-want') for (const hash of msg.hashes) this.send({ type: 'blob-none', hash, reason: 'missing' });
        else if (msg.type === 'blob-chunk') this.misbehaved('unsolicited-blob');
        return;
      case 'goodbye':
        this.log.info('peer said goodbye', { peer: this.remotePeerId, reason: msg.reason });
        this.channel.close('goodbye');
        this.closed(`peer said goodbye: ${msg.reason}`);
        return;
    }
  }
}
