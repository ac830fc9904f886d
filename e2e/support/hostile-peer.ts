// A hostile Lodestone peer for the end-to-end tests: it runs inside the Playwright test process (Node),
// joins signaling and opens a WebRTC data channel to exactly one honest browser, built from the
// project's own modules (SignalingClient, WebRtcChannel over node-datachannel, the frame codec, the
// message codec, the signed envelope). Then it misbehaves on purpose: forged and validly signed but
// unauthorized changes, replays, and garbage frames. Nothing here depends on the test runner.
//
// Offers from every other peer are never answered, so the hostile peer reaches exactly its target:
// honest tabs that dial it from a signaling sample just time out.
//
// The full Automerge entry initialises the WebAssembly module that lib/crdt (slim entry) shares. It
// must be imported before anything from lib/crdt is evaluated: keep this import first.
import * as Automerge from '@automerge/automerge';
import { randomBytes } from 'node:crypto';
import { fromHex, toHex } from '../../lib/core/bytes';
import type { AuthorKey, EntryId, PeerId } from '../../lib/core/ids';
import type { Logger } from '../../lib/core/logger';
import { describeChange, entryIdFromChangeHash } from '../../lib/crdt/entry-doc';
import { authorOfActor, generateIdentity, signerFromIdentity, type SignedChange, type Signer } from '../../lib/crdt/envelope';
import { SignalingClient, type SignalingStatus } from '../../lib/discovery/signaling-client';
import { encodeFrame } from '../../lib/protocol/codec';
import { decodeMessage, encodeMessage, PROTOCOL_VERSION, type Message } from '../../lib/protocol/messages';
import { WebRtcChannel } from '../../lib/transports/webrtc';

export const DEFAULT_NETWORK = 'lodestone';

// ---- logging ----------------------------------------------------------------------------------

/** A logger that keeps lines in memory (attached to a failing test's report). */
export function memoryLogger(lines: string[], namespace = 'hostile'): Logger {
  const put = (level: string) => (msg: string, data?: Record<string, unknown>) => {
    lines.push(`${new Date().toISOString()} ${level} [${namespace}] ${msg}${data ? ` ${JSON.stringify(data)}` : ''}`);
  };
  return {
    debug: put('debug'),
    info: put('info'),
    warn: put('warn'),
    error: put('error'),
    child: (ns) => memoryLogger(lines, `${namespace}:${ns}`),
  };
}

export function randomPeerId(): PeerId {
  return randomBytes(16).toString('hex') as PeerId;
}

// ---- the peer ---------------------------------------------------------------------------------

export interface HostilePeerOptions {
  signalingUrl: string;
  /** The only peer this one talks to. */
  target: PeerId;
  network?: string;
  /** Default: a fresh random peer ID. */
  peerId?: PeerId;
  /** Where log lines go (default: dropped). */
  logLines?: string[];
}

function signalKind(s: unknown): string {
  if (typeof s !== 'object' || s === null) return typeof s;
  const o = s as { type?: unknown; candidate?: unknown };
  if (typeof o.type === 'string') return o.type;
  return o.candidate !== undefined ? 'candidate' : 'other';
}
const isOffer = (s: unknown): boolean => signalKind(s) === 'offer';

/** An offer must be answered while the offering side still waits for it (the app gives up after 20 s). */
const FRESH_OFFER_MS = 15_000;

export class HostilePeer {
  readonly peerId: PeerId;
  readonly target: PeerId;
  readonly network: string;
  /** Offers from peers other than the target (never answered), by peer ID. */
  readonly ignoredOffers = new Map<string, number>();
  private readonly signaling: SignalingClient;
  private readonly log: Logger;
  private readonly logLines: string[];
  private connection: HostileConnection | undefined;
  /** After a glare in our favour: drop the target's candidates until its answer arrives. */
  private droppingGlareCandidates = false;
  /** Signals from the target that arrived while no connection was wanted (answered by connect()). */
  private early: { at: number; signals: unknown[] } | undefined;

  private constructor(options: HostilePeerOptions) {
    this.peerId = options.peerId ?? randomPeerId();
    this.target = options.target;
    this.network = options.network ?? DEFAULT_NETWORK;
    this.logLines = options.logLines ?? [];
    this.log = memoryLogger(this.logLines, `hostile:${this.peerId.slice(0, 8)}`);
    this.signaling = new SignalingClient({ url: options.signalingUrl, network: this.network, peerId: this.peerId, logger: this.log });
    this.signaling.on('signal', (from, signal) => this.signalled(from, signal));
  }

  /** Joins signaling and resolves once the hub accepted the join. */
  static async join(options: HostilePeerOptions, timeoutMs = 15_000): Promise<HostilePeer> {
    const peer = new HostilePeer(options);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`hostile peer ${peer.peerId}: signaling join not acknowledged within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = peer.signaling.on('status', (s: SignalingStatus) => {
        if (s !== 'online') return;
        clearTimeout(timer);
        off();
        resolve();
      });
      peer.signaling.connect();
    });
    peer.log.info('joined signaling', { target: peer.target });
    return peer;
  }

  get signalingStatus(): SignalingStatus {
    return this.signaling.status;
  }

  /**
   * Opens a WebRTC channel to the target: answers an offer the target just made, or else dials it.
   * Returns at once; `connection.opened` resolves when the channel is open.
   */
  connect(): HostileConnection {
    if (this.connection !== undefined && this.connection.state !== 'closed') throw new Error('already connecting or connected');
    const early = this.early;
    this.early = undefined;
    const answer = early !== undefined && Date.now() - early.at < FRESH_OFFER_MS;
    this.droppingGlareCandidates = false;
    this.log.info(answer ? 'connecting: answering the target’s offer' : 'connecting: dialling the target');
    const conn = new HostileConnection(this.peerId, this.network, this.log, (initiator) => this.newChannel(initiator), !answer);
    this.connection = conn;
    if (answer) for (const s of early.signals) conn.signal(s);
    return conn;
  }

  close(): void {
    this.connection?.close();
    this.signaling.close();
  }

  private newChannel(initiator: boolean): WebRtcChannel {
    return new WebRtcChannel({
      initiator,
      remotePeerId: this.target,
      iceServers: [],
      sendSignal: (s) => {
        this.log.debug('signal to the target', { kind: signalKind(s), initiator });
        this.signaling.signal(this.target, s);
      },
      logger: this.log,
    });
  }

  private signalled(from: PeerId, signal: unknown): void {
    const offer = isOffer(signal);
    const kind = signalKind(signal);
    if (from !== this.target) {
      // Never answer anybody else: the hostile peer is a neighbour of its target only.
      if (offer) this.ignoredOffers.set(from, (this.ignoredOffers.get(from) ?? 0) + 1);
      return;
    }
    const conn = this.connection;
    this.log.debug('signal from the target', { kind, connection: conn?.state ?? 'none' });
    if (conn === undefined || conn.state === 'closed') {
      // Keep the target's latest attempt, in case connect() is called while it still waits.
      if (offer) this.early = { at: Date.now(), signals: [signal] };
      else this.early?.signals.push(signal);
      return;
    }
    if (offer && conn.state === 'open') {
      // The target dials us again: it has dropped our channel (which can take node-datachannel a
      // while to notice). Close ours and keep the offer, like a first one.
      conn.close('the target dialled again');
      this.early = { at: Date.now(), signals: [signal] };
      return;
    }
    if (offer && conn.initiator && conn.state === 'connecting') {
      // Both sides dialled at once. Same rule as the app's mesh: the smaller peer ID keeps its own attempt.
      if (this.peerId < from) {
        // The target gives up its attempt and answers ours; its candidates for the abandoned attempt
        // (sent right after its offer, before its answer) must not reach our channel.
        this.log.info('glare: keeping our own offer');
        this.droppingGlareCandidates = true;
        return;
      }
      this.log.info('glare: answering the target’s offer');
      conn.replaceWithResponder();
    }
    if (this.droppingGlareCandidates) {
      if (kind === 'answer') this.droppingGlareCandidates = false;
      else if (kind === 'candidate') return;
    }
    conn.signal(signal);
  }
}

export type ConnectionState = 'connecting' | 'open' | 'closed';

/** One WebRTC channel to the target, with a record of everything received and sent. */
export class HostileConnection {
  state: ConnectionState = 'connecting';
  closeReason: string | undefined;
  /** Messages received that decoded. */
  readonly received: Message[] = [];
  /** Messages received that did not decode (never expected from an honest peer). */
  undecodable = 0;
  /** Frames handed to the channel while it was open. */
  framesSent = 0;
  /** The reason of a `goodbye` the target sent, if any. */
  goodbye: string | undefined;
  readonly opened: Promise<void>;
  readonly closed: Promise<string>;
  private channel!: WebRtcChannel;
  private resolveOpened!: () => void;
  private resolveClosed!: (reason: string) => void;
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly peerId: PeerId,
    private readonly network: string,
    private readonly log: Logger,
    private readonly makeChannel: (initiator: boolean) => WebRtcChannel,
    initiator: boolean,
  ) {
    this.opened = new Promise((r) => (this.resolveOpened = r));
    this.closed = new Promise((r) => (this.resolveClosed = r));
    this.adopt(makeChannel(initiator));
  }

  get initiator(): boolean {
    return this.channel.initiator;
  }

  get isOpen(): boolean {
    return this.state === 'open' && this.channel.isOpen;
  }

  signal(signal: unknown): void {
    this.channel.signal(signal);
  }

  /** Glare: drop our own offer and answer the target's instead. */
  replaceWithResponder(): void {
    const old = this.channel;
    this.adopt(this.makeChannel(false));
    old.close('glare');
  }

  private adopt(channel: WebRtcChannel): void {
    this.channel = channel;
    channel.onConnect(() => {
      if (this.channel !== channel || this.state !== 'connecting') return;
      this.state = 'open';
      this.log.info('channel open', { initiator: channel.initiator });
      this.resolveOpened();
      this.notify();
    });
    channel.onMessage((bytes) => {
      if (this.channel !== channel) return;
      const decoded = decodeMessage(bytes);
      if (!decoded.ok) {
        this.undecodable++;
        this.log.warn('undecodable message from target', { reason: decoded.error.reason });
      } else {
        this.received.push(decoded.message);
        if (decoded.message.type === 'goodbye') this.goodbye = decoded.message.reason;
      }
      this.notify();
    });
    channel.onClose((reason) => {
      if (this.channel !== channel || this.state === 'closed') return;
      this.state = 'closed';
      this.closeReason = reason;
      this.log.info('channel closed', { reason });
      this.resolveClosed(reason);
      this.notify();
    });
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Sends a protocol message (chunked like any peer's). Returns false when the channel was not open. */
  send(message: Message): boolean {
    return this.sendRaw(encodeMessage(message));
  }

  /** Sends arbitrary bytes as one message (the transport still chunks them). */
  sendRaw(bytes: Uint8Array): boolean {
    if (!this.isOpen) return false;
    this.channel.send(bytes);
    this.framesSent++;
    return true;
  }

  hello(capabilities: string[] = ['recon-1']): boolean {
    return this.send({ type: 'hello', protocol: PROTOCOL_VERSION, peerId: this.peerId, network: this.network, capabilities });
  }

  /**
   * Resolves with the first received message (already received or arriving later) that matches, or
   * rejects after `timeoutMs` or when the channel closes first.
   */
  waitFor<T extends Message>(match: (m: Message) => m is T, timeoutMs: number): Promise<T>;
  waitFor(match: (m: Message) => boolean, timeoutMs: number): Promise<Message>;
  waitFor(match: (m: Message) => boolean, timeoutMs: number): Promise<Message> {
    return new Promise<Message>((resolve, reject) => {
      const check = (): boolean => {
        const found = this.received.find(match);
        if (found !== undefined) {
          done();
          resolve(found);
          return true;
        }
        if (this.state === 'closed') {
          done();
          reject(new Error(`channel closed (${this.closeReason}) before the awaited message arrived`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no matching message within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      const waiter = () => void check();
      this.waiters.add(waiter);
      check();
    });
  }

  /** Asks for everything the target holds of these entries (empty heads) and returns its reply. */
  async fetchEntry(id: EntryId, timeoutMs = 10_000): Promise<SignedChange[]> {
    if (!this.send({ type: 'heads', entries: [{ id, heads: [] }] })) throw new Error('channel is not open');
    const reply = await this.waitFor(
      (m): m is Extract<Message, { type: 'changes' }> => m.type === 'changes' && m.entries.some((e) => e.id === id),
      timeoutMs,
    );
    return reply.entries.filter((e) => e.id === id).flatMap((e) => e.changes);
  }

  close(reason = 'hostile peer done'): void {
    this.channel.close(reason);
  }
}

// ---- attacks ----------------------------------------------------------------------------------

export async function newAttacker(): Promise<Signer> {
  return signerFromIdentity(await generateIdentity(), toHex(randomBytes(8)));
}

/** The document shape the app writes (lib/crdt/entry-doc.ts). */
interface EntryDocShape {
  schema: number;
  author: Automerge.ImmutableString;
  url: Automerge.ImmutableString;
  magnet: Automerge.ImmutableString;
  title: Automerge.ImmutableString;
  description: Automerge.ImmutableString;
  tags: Automerge.ImmutableString;
  image?: Automerge.ImmutableString;
  createdAt: number;
  updatedAt: number;
  deleted: boolean;
}

export interface TargetEntry {
  id: EntryId;
  /** The real signed changes, as the honest peer served them. */
  changes: SignedChange[];
  /** The honest author's key (from the creating change's actor). */
  author: AuthorKey;
  bytes: Uint8Array;
  title: string;
  description: string;
  url: string;
  magnet: string;
  /** The preview image reference, or empty. */
  image: string;
}

/** Rebuilds the entry's document from its signed changes. */
export function loadEntry(id: EntryId, changes: SignedChange[]): TargetEntry {
  const creation = changes.map((c) => describeChange(c.change)).find((f) => f.seq === 1 && f.deps.length === 0);
  if (creation === undefined || entryIdFromChangeHash(creation.hash) !== id) throw new Error('the served changes do not create this entry');
  const author = authorOfActor(creation.actor);
  if (author === undefined) throw new Error('creating change has no author actor');
  const [doc] = Automerge.applyChanges(Automerge.init<EntryDocShape>(), changes.map((c) => c.change));
  try {
    return {
      id,
      changes,
      author,
      bytes: Automerge.save(doc),
      title: doc.title.val,
      description: doc.description.val,
      url: doc.url.val,
      magnet: doc.magnet.val,
      image: doc.image?.val ?? '',
    };
  } finally {
    Automerge.free(doc);
  }
}

const imm = (s: string) => new Automerge.ImmutableString(s);
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A change on top of the entry's current document, made under `actor` (any hex actor ID). */
function changeOn(entry: TargetEntry, actor: string, fn: (d: EntryDocShape) => void, time = nowSeconds()): Uint8Array {
  const doc = Automerge.load<EntryDocShape>(entry.bytes, { actor: actor as Automerge.ActorId });
  const next = Automerge.change(doc, { time }, fn);
  try {
    const change = Automerge.getLastLocalChange(next);
    if (change === undefined) throw new Error('no change was made');
    return change;
  } finally {
    Automerge.free(next);
  }
}

/** Several changes in a row under one actor (seq 1, 2, …). */
function changesOn(entry: TargetEntry, actor: string, fns: Array<(d: EntryDocShape) => void>): Uint8Array[] {
  let doc = Automerge.load<EntryDocShape>(entry.bytes, { actor: actor as Automerge.ActorId });
  const out: Uint8Array[] = [];
  for (const fn of fns) {
    doc = Automerge.change(doc, { time: nowSeconds() }, fn);
    out.push(Automerge.getLastLocalChange(doc)!);
  }
  Automerge.free(doc);
  return out;
}

/** A creating change (seq 1, no deps) for a whole new document that copies the entry with a new title. */
function creationLike(entry: TargetEntry, actor: string, title: string): Uint8Array {
  const now = Date.now();
  const doc = Automerge.change(Automerge.init<EntryDocShape>({ actor: actor as Automerge.ActorId }), { time: nowSeconds() }, (d) => {
    d.schema = 1;
    d.author = imm(entry.author);
    d.url = imm(entry.url);
    d.magnet = imm(entry.magnet);
    d.title = imm(title);
    d.description = imm(entry.description);
    d.tags = imm('hacked');
    d.createdAt = now;
    d.updatedAt = now;
    d.deleted = false;
  });
  try {
    return Automerge.getLastLocalChange(doc)!;
  } finally {
    Automerge.free(doc);
  }
}

async function signWith(signer: Signer, change: Uint8Array): Promise<SignedChange> {
  return { change, sig: await signer.sign(fromHex(describeChange(change).hash)) };
}

export interface ChangeAttack {
  label: string;
  /** The rejection reason the protocol's checks (lib/protocol/change-policy.ts) give this batch. */
  expected: string;
  /** Forged or unauthorized changes in it (real changes replayed alongside are not counted). */
  hostileChanges: number;
  message: Extract<Message, { type: 'changes' }>;
}

/** The title every hostile edit tries to set; an honest tab must never show it. */
export const HACKED_TITLE = 'HACKED by a hostile peer';

/**
 * Every way to forge or overreach on the entry, one `changes` message each:
 *  - forged: the actor names the honest author (key + a random device suffix) but the attacker signs;
 *  - unauthorized: the attacker's own actor and a valid signature by the attacker's key;
 *  - forged and unauthorized creating changes claiming the entry's ID, a forged change dated in the
 *    future, a change with a malformed actor, and a forged change hidden among real replays.
 */
export async function buildChangeAttacks(entry: TargetEntry, attacker: Signer): Promise<ChangeAttack[]> {
  const forgedActor = () => entry.author + toHex(randomBytes(8));
  const one = (label: string, expected: string, changes: SignedChange[], hostileChanges = changes.length): ChangeAttack => ({
    label,
    expected,
    hostileChanges,
    message: { type: 'changes', entries: [{ id: entry.id, changes }] },
  });
  const setTitle = (d: EntryDocShape) => {
    d.title = imm(HACKED_TITLE);
    d.description = imm('This description was rewritten by a hostile peer.');
    d.updatedAt = Date.now();
  };
  const tombstone = (d: EntryDocShape) => {
    d.deleted = true;
    d.updatedAt = Date.now();
  };

  const forgedEdit = await signWith(attacker, changeOn(entry, forgedActor(), setTitle));
  const attacks: ChangeAttack[] = [
    one('forged edit of the title (honest author actor, attacker signature)', 'bad-signature', [forgedEdit]),
    one('forged delete (honest author actor, attacker signature)', 'bad-signature', [
      await signWith(attacker, changeOn(entry, forgedActor(), tombstone)),
    ]),
    one('forged edit with a random signature', 'bad-signature', [
      { change: changeOn(entry, forgedActor(), setTitle), sig: new Uint8Array(randomBytes(64)) },
    ]),
    one(
      'forged edit hidden among replays of the real changes',
      'bad-signature',
      [...entry.changes, await signWith(attacker, changeOn(entry, forgedActor(), setTitle))],
      1,
    ),
    one('forged edit dated a day in the future', 'future-change', [
      await signWith(attacker, changeOn(entry, forgedActor(), setTitle, nowSeconds() + 86_400)),
    ]),
    one('forged creating change claiming the entry ID (honest author actor)', 'id-mismatch', [
      await signWith(attacker, creationLike(entry, forgedActor(), HACKED_TITLE)),
    ]),
    one('unauthorized edit of the title (attacker actor, valid attacker signature)', 'not-author', [
      await signWith(attacker, changeOn(entry, attacker.actor, setTitle)),
    ]),
    one('unauthorized delete (attacker actor, valid attacker signature)', 'not-author', [
      await signWith(attacker, changeOn(entry, attacker.actor, tombstone)),
    ]),
    one(
      'unauthorized edit then delete, two chained changes (valid attacker signatures)',
      'not-author',
      await Promise.all(changesOn(entry, attacker.actor, [setTitle, tombstone]).map((c) => signWith(attacker, c))),
    ),
    one('unauthorized creating change claiming the entry ID (attacker actor)', 'not-author', [
      await signWith(attacker, creationLike(entry, attacker.actor, HACKED_TITLE)),
    ]),
    one('edit under a malformed (16-byte) actor', 'bad-actor', [
      await signWith(attacker, changeOn(entry, toHex(randomBytes(16)), setTitle)),
    ]),
    one('replay of the first forged edit', 'bad-signature', [forgedEdit]),
  ];
  return attacks;
}

/** The entry's real changes, replayed as they were (harmless duplicates). */
export function replayOf(entry: TargetEntry): Extract<Message, { type: 'changes' }> {
  return { type: 'changes', entries: [{ id: entry.id, changes: entry.changes }] };
}

export interface GarbageFrame {
  label: string;
  bytes: Uint8Array;
  /** The reasons the receiver may count it under (lib/protocol/codec.ts, messages.ts, session.ts). */
  expected: string[];
}

const utf8 = (s: string) => new TextEncoder().encode(s);

/** A frame with a raw (possibly invalid) header. */
function rawHeaderFrame(header: Uint8Array, blobs: Uint8Array[] = []): Uint8Array {
  const good = encodeFrame({}, blobs);
  // encodeFrame({}) writes the 2-byte header "{}" after a one-byte varint: splice ours in instead.
  if (header.length >= 0x80) throw new Error('keep raw headers short');
  return new Uint8Array([good[0]!, good[1]!, header.length, ...header, ...good.subarray(5)]);
}

/**
 * Frames that fail to decode or validate, or break the exchange: each is one bad message. The first
 * four are the classic ones (random bytes, a truncated frame, bad JSON headers).
 */
export function garbageFrames(entry: TargetEntry, peerId: PeerId, network: string): GarbageFrame[] {
  const random = new Uint8Array(randomBytes(512));
  random[0] = 0xff; // never the frame magic
  const valid = encodeMessage(replayOf(entry));
  const withTrailing = new Uint8Array([...encodeMessage({ type: 'goodbye', reason: 'x' }), 1, 2, 3]);
  const g = (label: string, bytes: Uint8Array, ...expected: string[]): GarbageFrame => ({ label, bytes, expected });
  return [
    g('random bytes', random, 'bad-magic'),
    g('truncated frame (a real changes message cut in half)', valid.slice(0, Math.floor(valid.length / 2)), 'bad-blob-length'),
    g('bad JSON header', rawHeaderFrame(utf8('{"type":"changes","entries":[')), 'bad-header-json'),
    g('header that is not UTF-8', rawHeaderFrame(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), 'bad-header-json'),
    g('empty message', new Uint8Array(0), 'truncated'),
    g('unknown frame version', new Uint8Array([0x4c, 0x09, ...valid.subarray(2)]), 'bad-frame-version'),
    g('header length beyond the frame', new Uint8Array([0x4c, 0x01, 0xff, 0xff, 0x03, 0x7b, 0x7d, 0x00]), 'bad-header-length'),
    g('trailing bytes after the blobs', withTrailing, 'trailing-bytes'),
    g('header that is not an object', encodeFrame(42), 'bad-header'),
    g('unknown message type', encodeFrame({ type: 'gimme-everything' }), 'unknown-type'),
    g(
      'changes header with the wrong blob count',
      encodeFrame({ type: 'changes', entries: [{ id: entry.id, n: 2 }] }, [new Uint8Array(8)]),
      'bad-changes-blobs',
    ),
    g(
      'changes with a 10-byte signature',
      encodeFrame({ type: 'changes', entries: [{ id: entry.id, n: 1 }] }, [entry.changes[0]!.change, new Uint8Array(10)]),
      'bad-change-size',
    ),
    g('heads naming a malformed entry ID', encodeFrame({ type: 'heads', entries: [{ id: 'not-an-id', heads: [] }] }), 'bad-heads'),
    g(
      'a second hello',
      encodeMessage({ type: 'hello', protocol: PROTOCOL_VERSION, peerId, network, capabilities: [] }),
      'repeated-hello',
    ),
    g('recon with nonsense ranges', encodeFrame({ type: 'recon', round: 1, ranges: [{ nonsense: true }] }), 'bad-recon', 'unexpected-recon'),
    g('goodbye with an over-long reason', encodeFrame({ type: 'goodbye', reason: 'z'.repeat(500) }), 'bad-goodbye'),
    g(
      'changes whose change blob is random bytes',
      encodeFrame({ type: 'changes', entries: [{ id: entry.id, n: 1 }] }, [new Uint8Array(randomBytes(300)), new Uint8Array(randomBytes(64))]),
      'undecodable-change',
    ),
  ];
}

/** One message larger than the protocol's 256 KiB cap: the transport sends it as ~20 chunks of 16 KiB. */
export function oversizedMessage(bytes = 300 * 1024): Uint8Array {
  const out = new Uint8Array(randomBytes(bytes));
  out[0] = 0x4c;
  out[1] = 0x01;
  return out;
}
