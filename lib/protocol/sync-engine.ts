// The sync engine: one replica, any number of sessions over any PeerChannels. New changes (local or
// received) are pushed to neighbours chosen by a gossip policy (gossip-policy.ts: bounded gossip by
// default, flooding as the baseline), deduplicated by change hash, so a change crosses the mesh hop by
// hop; reconciliation on connect (and periodically) catches up what pushes missed. It knows nothing of
// WebRTC, sockets or storage engines.
import { RecentMap } from '../core/recent-map';
import type { EntryFields } from '../core/entry-fields';
import type { BlobHash, EntryId, PeerId } from '../core/ids';
import { parseImageRef, type ImageRef } from '../core/preview-image';
import type { BlobStore } from '../net/blob-store';
import { BlobExchange } from './blob-exchange';
import { boundedGossip, type GossipFactory, type GossipPolicy } from './gossip-policy';
import { silentLogger, type Logger } from '../core/logger';
import { describeChange, type ChangeFacts } from '../crdt/entry-doc';
import type { Signer } from '../crdt/envelope';
import type { EntryView } from '../crdt/entry-view';
import type { Overlay } from '../net/overlay';
import type { PeerChannel } from '../net/peer-channel';
import { Replica, type CreateOptions, type IncomingEntry } from './replica';
import { Admission, BROWSER_LIMITS, type AdmissionLimits } from './admission';
import type { LabelExchange } from './label-exchange';
import { authorOfActor } from '../crdt/envelope';
import { SyncSession, type SessionHost, type SessionStats } from './session';

export interface SyncEngineOptions {
  replica: Replica;
  peerId: PeerId;
  /** Peers only sync within one network (an instance's name), so test and production meshes never mix. */
  network: string;
  logger?: Logger;
  /** How many change hashes to remember for deduplication. */
  seenLimit?: number;
  now?: () => number;
  /** Where preview images are kept; without it the engine neither serves nor fetches them. */
  blobs?: BlobStore;
  /** Fetch the image of every entry received, from its sender first (an instance keeps them all). */
  eagerBlobs?: boolean;
  /** Whether a held blob may be handed to peers (an instance serves only images of live entries). */
  canServeBlob?: (hash: BlobHash) => boolean | Promise<boolean>;
  /** Which neighbours a change is pushed to (default: boundedGossip(); flooding() is the baseline). */
  gossip?: GossipFactory;
  /** The DHT over the mesh, carried by this engine's sessions to peers that speak it. */
  overlay?: Overlay;
  /** Budgets of new entries per peer and per author (default: a browser's). */
  limits?: AdmissionLimits;
  /**
   * Entries this peer keeps but hands to no one (what its moderation takes down or hides): not
   * gossiped, not pushed by reconciliation, not answered in `heads`.
   */
  withhold?: (id: EntryId) => boolean;
  /** Moderation labels exchanged with peers (label-exchange.ts); without it, none are. */
  labels?: LabelExchange<SyncSession>;
}

export interface PeerSummary {
  peerId: PeerId | undefined;
  kind: string;
  state: SyncSession['state'];
  stats: SessionStats;
  closeReason?: string;
  /** How the peer was found ("signaling", "dht", "server"), when the host knows. */
  foundVia?: string;
}

/** How long a peer that was disconnected for misbehaving is refused: doubling per strike, capped. */
export const BAN_BASE_MS = 60_000;
export const BAN_MAX_MS = 60 * 60_000;
const HISTORY = 20;
const MAX_BANS = 10_000;
/** How often deferred entries are looked at again, while any wait. */
const DEFERRED_RETRY_MS = 1_000;
/** Deferred entries asked for again at most per look. */
const DEFERRED_PER_ASK = 256;

type EngineEvent = 'peers' | 'activity';

export class SyncEngine implements SessionHost {
  readonly replica: Replica;
  readonly peerId: PeerId;
  readonly network: string;
  readonly log: Logger;
  private readonly sessions = new Set<SyncSession>();
  private readonly seen: RecentMap<string, true>;
  private readonly listeners = new Map<EngineEvent, Set<() => void>>();
  private pending = 0;
  /**
   * New entries admitted and not yet stored. The same entry often arrives from two neighbours at once
   * (a post gossiped directly and relayed by an instance); charged twice, an honest author's budget
   * ran out at half its size (bench/spam-flood.ts).
   */
  private readonly admitting = new Set<EntryId>();
  private readonly bans = new Map<string, { until: number; strikes: number }>();
  private readonly history: PeerSummary[] = [];
  private readonly now: () => number;
  /** Bumped whenever work finishes, so whenIdle can tell whether more work was queued meanwhile. */
  private settledCount = 0;
  readonly blobs: BlobExchange | undefined;
  readonly overlay: Overlay | undefined;
  private readonly eagerBlobs: boolean;
  private readonly gossip: GossipPolicy<SyncSession>;
  /** The last change pushed, for the gossip policy to re-attach this peer when a link closes. */
  private latest: { entry: IncomingEntry; hash: string } | undefined;
  private closing = false;
  readonly limits: AdmissionLimits;
  readonly time = (): number => this.now();
  readonly withholds: (id: EntryId) => boolean;
  readonly labels: LabelExchange<SyncSession> | undefined;
  /** Author budgets and deferred entries, across sessions. */
  readonly admission: Admission<SyncSession>;
  private deferTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: SyncEngineOptions) {
    this.replica = options.replica;
    this.peerId = options.peerId;
    this.network = options.network;
    this.log = (options.logger ?? silentLogger).child(`sync:${options.peerId.slice(0, 8)}`);
    this.seen = new RecentMap(Math.max(1, options.seenLimit ?? 50_000));
    this.now = options.now ?? Date.now;
    this.blobs =
      options.blobs === undefined
        ? undefined
        : new BlobExchange({ store: options.blobs, log: this.log.child('blobs'), now: this.now, canServe: options.canServeBlob });
    this.eagerBlobs = options.eagerBlobs ?? false;
    this.overlay = options.overlay;
    this.gossip = (options.gossip ?? boundedGossip())<SyncSession>(options.peerId);
    this.limits = options.limits ?? BROWSER_LIMITS;
    this.admission = new Admission(this.limits, this.now);
    this.withholds = options.withhold ?? (() => false);
    this.labels = options.labels;
    // Another tab wrote to the shared store: our peers may lack it, so reconcile with them.
    this.replica.onIndexChange(() => this.reconcileAll());
  }

  on(event: EngineEvent, listener: () => void): () => void {
    let set = this.listeners.get(event);
    if (set === undefined) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  private emit(event: EngineEvent): void {
    for (const l of this.listeners.get(event) ?? []) l();
  }

  /** Starts syncing over a new channel. */
  addChannel(channel: PeerChannel): SyncSession | undefined {
    if (channel.remotePeerId !== undefined && this.isBanned(channel.remotePeerId)) {
      channel.close('banned');
      return undefined;
    }
    const session = new SyncSession(channel, this);
    this.sessions.add(session);
    session.start();
    this.emit('peers');
    return session;
  }

  /** Sessions that completed the handshake. */
  readyPeers(): SyncSession[] {
    return [...this.sessions].filter((s) => s.state === 'ready');
  }

  /** Live sessions, then the most recently closed ones (for diagnostics). */
  peers(): PeerSummary[] {
    return [...[...this.sessions].map(summarize), ...this.history];
  }

  /** A peer disconnected for misbehaving is refused until its ban runs out. */
  isBanned(peerId: PeerId): boolean {
    const ban = this.bans.get(peerId);
    return ban !== undefined && ban.until > this.now();
  }

  /** True while received changes are being verified and stored. */
  get busy(): boolean {
    return this.pending > 0;
  }

  /** Resolves once all received messages and writes queued so far are handled (for tests and tools). */
  async whenIdle(): Promise<void> {
    for (;;) {
      const before = this.settledCount;
      await Promise.all([...[...this.sessions].map((s) => s.settled()), this.replica.settled()]);
      if (before === this.settledCount && !this.busy) return;
    }
  }

  /**
   * Makes sure a preview image is held, fetching it from peers when it is not (`first` is asked
   * before the others). Resolves false when no peer could provide it.
   */
  fetchBlob(ref: ImageRef, first?: SyncSession): Promise<boolean> {
    if (this.blobs === undefined) return Promise.resolve(false);
    return this.blobs.fetch(ref, () => {
      const ready = this.readyPeers();
      return first === undefined ? ready : [first, ...ready.filter((s) => s !== first)];
    });
  }

  reconcileAll(): void {
    for (const s of this.readyPeers()) s.reconcile();
  }

  close(): void {
    this.closing = true;
    for (const s of [...this.sessions]) s.close('shutting down');
    this.closing = false;
    if (this.deferTimer !== undefined) clearTimeout(this.deferTimer);
    this.deferTimer = undefined;
  }

  // ---- local authoring: write, then push (the gossip policy sends our own changes to every neighbour) ----

  async create(signer: Signer, fields: EntryFields, options?: CreateOptions): Promise<EntryView> {
    const { view, signed } = await this.replica.create(signer, fields, options);
    this.broadcast([{ id: view.id, changes: [signed] }], undefined);
    return view;
  }

  async edit(signer: Signer, id: EntryId, fields: Partial<EntryFields>): Promise<EntryView> {
    const { view, signed } = await this.replica.edit(signer, id, fields);
    this.broadcast([{ id, changes: [signed] }], undefined);
    return view;
  }

  async remove(signer: Signer, id: EntryId): Promise<EntryView> {
    const { view, signed } = await this.replica.remove(signer, id);
    this.broadcast([{ id, changes: [signed] }], undefined);
    return view;
  }

  /** Forgets expired bans, and the oldest ones past a cap, so rotating peer IDs cannot grow the map. */
  private pruneBans(): void {
    const now = this.now();
    for (const [peer, ban] of this.bans) if (ban.until <= now) this.bans.delete(peer);
    for (const peer of this.bans.keys()) {
      if (this.bans.size <= MAX_BANS) break;
      this.bans.delete(peer);
    }
  }

  // ---- SessionHost ----

  sessionReady(_session: SyncSession): void {
    this.emit('peers');
  }

  sessionClosed(session: SyncSession): void {
    this.sessions.delete(session);
    this.blobs?.sessionClosed(session);
    this.admission.forgetSession(session);
    if (this.latest !== undefined && session.remotePeerId !== undefined && !this.closing) {
      const { entry, hash } = this.latest;
      for (const s of this.gossip.closed?.(session, this.readyPeers(), hash) ?? []) s.pushGossip([entry]);
    }
    this.history.unshift(summarize(session));
    if (this.history.length > HISTORY) this.history.length = HISTORY;
    const peer = session.remotePeerId ?? session.channel.remotePeerId;
    if (session.misbehavedOut && peer !== undefined) {
      const strikes = (this.bans.get(peer)?.strikes ?? 0) + 1;
      const ms = Math.min(BAN_MAX_MS, BAN_BASE_MS * 2 ** (strikes - 1));
      this.bans.set(peer, { until: this.now() + ms, strikes });
      this.pruneBans();
      this.log.warn('banned a misbehaving peer', { peer, ms });
    }
    this.emit('peers');
  }

  async ingest(from: SyncSession, entries: IncomingEntry[], solicited: ReadonlySet<EntryId> = new Set()): Promise<void> {
    const unseen: IncomingEntry[] = [];
    const arrived = new Set<string>();
    let repeated = 0;
    for (const e of entries) {
      const changes = e.changes.filter((c) => {
        const facts = tryDescribe(c.change);
        if (facts === undefined) return true;
        // A change given twice in one message is handled, and forwarded, once; no honest peer repeats one.
        if (arrived.has(facts.hash)) {
          repeated++;
          return false;
        }
        arrived.add(facts.hash);
        return !this.seen.has(facts.hash);
      });
      if (changes.length > 0) unseen.push({ id: e.id, changes });
    }
    if (repeated > 0) from.countRejected('duplicate-change');
    // Duplicates count too: the sender holds them, so they are not pushed back to it.
    if (arrived.size > 0) this.gossip.received(from, [...arrived]);
    const charged: EntryId[] = [];
    const admitted = this.admit(from, unseen, solicited, charged);
    if (admitted.length === 0) return;
    this.pending++;
    this.emit('activity');
    try {
      const outcome = await this.replica.applyRemote(admitted);
      for (const v of outcome.views) this.admission.settled(v.id);
      for (const r of outcome.rejected) {
        from.countRejected(r.reason);
        this.admission.refused(r.id);
      }
      from.stats.changesAccepted += outcome.accepted.reduce((n, e) => n + e.changes.length, 0);
      if (outcome.rejected.length > 0) {
        this.log.warn('rejected changes', { peer: from.remotePeerId, reasons: outcome.rejected.map((r) => r.reason) });
      }
      this.broadcast(outcome.accepted, from);
      if (this.eagerBlobs) this.fetchImagesOf(outcome.views, from);
      if (outcome.incomplete.length > 0) {
        for (const id of outcome.incomplete) from.forgetRequest(id);
        await from.requestMissing(outcome.incomplete);
      }
    } finally {
      for (const id of charged) this.admitting.delete(id);
      this.settledCount++;
      this.pending--;
      this.emit('activity');
    }
  }

  /**
   * The entries of a batch that may be added now: everything but new entries past a budget, which are
   * deferred (admission.ts). A new entry is one we do not hold that arrives with its creating change.
   */
  private admit(from: SyncSession, entries: readonly IncomingEntry[], solicited: ReadonlySet<EntryId>, charged: EntryId[]): IncomingEntry[] {
    const now = this.now();
    const out: IncomingEntry[] = [];
    let over = 0;
    for (const e of entries) {
      // Held, or on its way into the store from another batch: not new (nor charged) a second time.
      const creation = this.replica.digestOf(e.id) === undefined && !this.admitting.has(e.id) ? creationIn(e) : undefined;
      if (creation === undefined) {
        out.push(e);
        continue;
      }
      const author = authorOfActor(creation.actor);
      const asked = solicited.has(e.id);
      const pushed = !asked && from.budget.credit === 0;
      if (!asked && !from.budget.admit(now)) {
        if (from.budget.defer()) over++;
        this.admission.defer(e.id, from, author);
        continue;
      }
      const authorLimited = author !== undefined && (pushed || this.limits.authorOnCatchUp);
      if (authorLimited && !this.admission.admitAuthor(e.id, author, creation.time * 1000)) {
        from.budget.deferred++;
        this.admission.defer(e.id, from, author);
        continue;
      }
      // Charged once: a second copy, in this batch or another still being stored, is not new.
      this.admitting.add(e.id);
      charged.push(e.id);
      out.push(e);
    }
    if (over > 0) from.countRejected('over-budget', over);
    if (this.admission.status().deferred > 0) this.scheduleDeferred();
    return out;
  }

  /** Asks again, once a second while any wait, for deferred entries that the budgets now allow. */
  private scheduleDeferred(): void {
    if (this.deferTimer !== undefined) return;
    this.deferTimer = setTimeout(() => {
      this.deferTimer = undefined;
      this.askDeferred();
    }, DEFERRED_RETRY_MS);
    (this.deferTimer as { unref?: () => void }).unref?.();
  }

  /** Asks the peers that offered them for deferred entries that the budgets allow now. */
  askDeferred(): void {
    const now = this.now();
    // Past their patience, a session's entries are asked for beyond its budget, at most its push rate
    // a second: what it was deferred for is waiting, not pushing.
    const overdue = new Map<SyncSession, number>();
    const due = this.admission.due(DEFERRED_PER_ASK, (s, late) => {
      if (s.state !== 'ready') return false;
      if (s.budget.bucket.take(now)) return true;
      const n = overdue.get(s) ?? 0;
      if (!late || n >= this.limits.peerPerSecond) return false;
      overdue.set(s, n + 1);
      return true;
    });
    for (const [session, ids] of due) {
      for (const id of ids) session.forgetRequest(id);
      void session.requestMissing(ids).catch((err: unknown) => this.log.warn('asking for deferred entries failed', { err: String(err) }));
    }
    if (this.admission.status().deferred > 0) this.scheduleDeferred();
  }

  /** Not awaited: an image arrives after its entry, and a missing one never holds the entry back. */
  private fetchImagesOf(views: readonly EntryView[], from: SyncSession): void {
    for (const v of views) {
      const ref = v.deleted || v.image === '' ? undefined : parseImageRef(v.image);
      if (ref !== undefined) void this.fetchBlob(ref, from);
    }
  }

  /** Pushes changes made here (`from` undefined) or accepted from `from` to the neighbours the policy picks. */
  private broadcast(all: readonly IncomingEntry[], from: SyncSession | undefined): void {
    const entries = all.filter((e) => !this.withholds(e.id));
    if (entries.length === 0) return;
    const hashes: string[] = [];
    for (const e of entries) {
      for (const c of e.changes) {
        const hash = describeChange(c.change).hash;
        this.remember(hash);
        hashes.push(hash);
        this.latest = { entry: { id: e.id, changes: [c] }, hash };
      }
    }
    for (const s of this.gossip.targets(hashes, from, this.readyPeers())) s.pushGossip(entries, from === undefined);
  }

  private remember(hash: string): void {
    this.seen.set(hash, true);
  }

}

function summarize(s: SyncSession): PeerSummary {
  return {
    peerId: s.remotePeerId ?? s.channel.remotePeerId,
    kind: s.channel.kind,
    state: s.state,
    stats: { ...s.stats, reasons: { ...s.stats.reasons }, deferred: s.budget.deferred, budget: Math.floor(s.budget.bucket.tokens(s.now())), credit: s.budget.credit },
    closeReason: s.closeReason,
  };
}

/** The creating change among an entry's incoming changes, decoded; undefined when there is none. */
function creationIn(e: IncomingEntry): ChangeFacts | undefined {
  for (const c of e.changes) {
    const f = tryDescribe(c.change);
    if (f !== undefined && f.seq === 1 && f.deps.length === 0) return f;
  }
  return undefined;
}

function tryDescribe(change: Uint8Array): ChangeFacts | undefined {
  try {
    return describeChange(change);
  } catch {
    return undefined;
  }
}
